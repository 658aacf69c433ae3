"""PyTorch CPU baseline of the tiled-convolution benchmark (EXPERIMENTS.md section 2), printing JSON.

    python3 bench/baselines/torch_conv.py [--nets small,refiner] [--tiles 256,384]
        [--batches 1,2,4] [--modes inference,train] [--threads 2] [--quick]

For every net x mode x tile x batch: a fresh model (from its spec, nn/specs/<net>.json), warm-up
10 iterations (train 5), then 50 timed (train 20), each timed alone; mean, standard deviation and
median in ms, samples/s and Mpx/s. `inference` is a forward pass under torch.inference_mode() in
eval mode; `train` is forward + MSE loss against a target of the output's shape + backward + one
Adam step (lr 1e-3), in train mode (batch statistics). `--quick` times 3 iterations after 1
warm-up, for a smoke run; --warmup and --iters set the counts (a loaded machine). Prints one JSON document on stdout, progress on stderr. Without torch it
prints {"skipped": reason} and exits 0, so a report can say why the column is empty.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError as e:  # the peer is optional: say so and leave
    print(json.dumps({"peer": "pytorch", "skipped": f"torch is not importable ({e})"}))
    sys.exit(0)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "torch"))
import prism_nets  # noqa: E402

CHANNELS_IN = {"small": 6, "refiner": 4, "convnext-head": 4}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def time_config(net_name, mode, tile, batch, warmup, iters):
    torch.manual_seed(0)
    net = prism_nets.build(net_name)
    x = torch.randn(batch, CHANNELS_IN[net_name], tile, tile)
    if mode == "inference":
        net.eval()

        def step():
            with torch.inference_mode():
                net(x)
    else:
        net.train()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        with torch.no_grad():
            target = torch.randn_like(net(x))

        def step():
            opt.zero_grad(set_to_none=True)
            F.mse_loss(net(x), target).backward()
            opt.step()
    for _ in range(warmup):
        step()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    mean = statistics.fmean(times)
    return {
        "net": net_name, "mode": mode, "tile": tile, "batch": batch,
        "params": prism_nets.parameter_count(net),
        "mean_ms": round(mean, 3),
        "std_ms": round(statistics.pstdev(times), 3),
        "median_ms": round(statistics.median(times), 3),
        "min_ms": round(min(times), 3),
        "samples_per_s": round(batch / mean * 1e3, 3),
        "mpx_per_s": round(batch * tile * tile / mean / 1e3, 3),
        "warmup": warmup, "iterations": iters,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nets", default="small,refiner")
    ap.add_argument("--tiles", default="256,384")
    ap.add_argument("--batches", default="1,2,4")
    ap.add_argument("--modes", default="inference,train")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--warmup", type=int, help="warm-up iterations (overrides section 2's)")
    ap.add_argument("--iters", type=int, help="timed iterations (overrides section 2's)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rows = []
    for net_name in a.nets.split(","):
        for mode in a.modes.split(","):
            warmup, iters = (1, 3) if a.quick else ((10, 50) if mode == "inference" else (5, 20))
            warmup, iters = a.warmup if a.warmup is not None else warmup, a.iters or iters
            for tile in map(int, a.tiles.split(",")):
                for batch in map(int, a.batches.split(",")):
                    try:
                        row = time_config(net_name, mode, tile, batch, warmup, iters)
                    except RuntimeError as e:  # out of memory and the like: log it, go on
                        row = {"net": net_name, "mode": mode, "tile": tile, "batch": batch,
                               "error": str(e).split("\n")[0]}
                    print(json.dumps(row), file=sys.stderr)
                    rows.append(row)
    print(json.dumps({
        "peer": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
        "cpu": cpu_model(), "quick": a.quick, "load_average": os.getloadavg(), "rows": rows,
    }, indent=1))


if __name__ == "__main__":
    main()
