"""Throughput of prism_dask.fit (RX fit) on one Dask worker process against two, in the same
run, each worker pinned to its own CPU (so each shard's Deno pool has one thread), and the
per-shard overhead: an empty shard (process start, file open, state write), a merge of two
states, and a Dask round trip. Prints one JSON object.

    python3 integrations/dask/bench_workers.py --files 8 --height 128 --width 256 --bands 100

The inputs are seeded float32 H x W x C cubes written to a temporary folder (the RX stress
suite's ``large`` scale is 1,000 cubes of 256 x 256 x 100; pass --files 1000 --height 256 to
run that, 26 GB of disk). Timings are medians of --repeats runs (Python: harness/timing.ts is
the TypeScript side's).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

import numpy as np
from distributed import Client, LocalCluster

import prism_dask
from prism_dask._run import merge_task, prism_command, shard_task


def median_seconds(fn, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def pin_workers(client: Client) -> None:
    """Pins worker i to CPU i (its shards' Deno processes inherit it: a pool of one thread)."""
    cpus = sorted(os.sched_getaffinity(0))
    for i, address in enumerate(sorted(client.scheduler_info()["workers"])):
        cpu = cpus[i % len(cpus)]
        client.run(lambda cpu=cpu: os.sched_setaffinity(0, {cpu}), workers=[address])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--height", type=int, default=128)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--bands", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory(prefix="prism-dask-bench-") as d:
        files = []
        for i in range(a.files):
            path = os.path.join(d, f"cube{i}.npy")
            np.save(path, rng.standard_normal((a.height, a.width, a.bands), dtype=np.float32))
            files.append(path)
        pixels = a.files * a.height * a.width
        seconds = {}
        for workers in (1, 2):
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                              host="127.0.0.1", dashboard_address=None) as cluster, \
                    Client(cluster) as client:
                pin_workers(client)
                run = lambda: prism_dask.fit(client, files, op="rx-fit",  # noqa: E731
                                             out=os.path.join(d, "rx.json"),
                                             args=["--layout", "hwc"])
                run()  # warm-up: Deno's module cache, the page cache
                seconds[workers] = median_seconds(run, a.repeats)
                if workers == 1:
                    cmd = prism_command()
                    empty = (files[0], 0, 0)
                    state = shard_task(cmd, "rx-fit", empty, ["--layout", "hwc"])
                    shard_s = median_seconds(
                        lambda: shard_task(cmd, "rx-fit", empty, ["--layout", "hwc"]), a.repeats)
                    merge_s = median_seconds(
                        lambda: merge_task(cmd, [state, state.replace(b'"rows":[0,0]',
                                                                      b'"rows":[1,1]')],
                                           None, []), a.repeats)
                    trip_s = median_seconds(lambda: client.submit(int, 1, pure=False).result(),
                                            a.repeats * 10)
        print(json.dumps({
            "files": a.files, "shape": [a.height, a.width, a.bands], "pixels": pixels,
            "seconds_1_worker": seconds[1], "seconds_2_workers": seconds[2],
            "throughput_ratio_2_over_1": seconds[1] / seconds[2],
            "pixels_per_s_per_worker": pixels / seconds[1],
            "empty_shard_s": shard_s, "merge_of_2_states_s": merge_s, "dask_round_trip_s": trip_s,
            "cpus": len(os.sched_getaffinity(0)),
        }))


if __name__ == "__main__":
    main()
