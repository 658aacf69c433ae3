/**
 * RX fit + score against numpy on the same matrix, in the same run:
 * `deno run -A bench/rx_report.ts [--quick]`.
 *
 * prism: `new RxDetector().fit(X)` then `score(X)` (WASM). numpy (python3 subprocess, float32
 * data as the baseline): `mu = X.mean(0); Xc = X - mu; S = Xc.T @ Xc / (N-1);
 * S_inv = pinv(S + eps I); ((Xc @ S_inv) * Xc).sum(1)`, timed inside python so the load is
 * excluded. Without numpy the baseline is skipped with a note. Prints medians and the ratio.
 *
 * @module
 */

import { RxDetector } from "../ops/rx.ts";
import { datasetRows } from "../synth/datasets.ts";
import { writeNpy } from "../io/npy.ts";
import { measure, ratio } from "../harness/timing.ts";

const quick = Deno.args.includes("--quick") || Deno.env.get("PRISM_BENCH_QUICK") === "1";
const bands = 50;
const rows = quick ? 65536 : 1_638_400;
const reps = quick ? 3 : 5;

const data = new Float32Array(rows * bands);
let filled = 0;
for await (
  const m of datasetRows({ samples: Math.ceil(rows / 16384), height: 128, width: 128, bands })
) {
  const n = Math.min(m.rows, rows - filled);
  data.set(m.data.subarray(0, n * bands), filled * bands);
  filled += n;
  if (filled === rows) break;
}
const x = { data, rows, cols: bands };

// Warm-up 1: the first run starts the workers and the JIT.
const prism = (await measure(async () => {
  const rx = await new RxDetector().fit(x, { backend: "wasm" });
  await rx.score(x, { backend: "wasm" });
}, { warmup: 1, iterations: reps })).medianMs;
console.log(`prism RX fit+score ${rows} x ${bands}: median ${prism.toFixed(1)} ms of ${reps}`);

const dir = await Deno.makeTempDir({ prefix: "prism_rx_bench_" });
try {
  await writeNpy(`${dir}/x.npy`, { data, shape: [rows, bands] });
  const code = `
import numpy as np, sys, time
X = np.load(sys.argv[1]); ts = []
for i in range(${reps} + 1):
    t = time.perf_counter()
    mu = X.mean(0); Xc = X - mu; S = Xc.T @ Xc / (len(X) - 1)
    S_inv = np.linalg.pinv(S + 1e-6 * np.eye(S.shape[0], dtype=S.dtype))
    s = ((Xc @ S_inv) * Xc).sum(1)
    if i: ts.append((time.perf_counter() - t) * 1000)
print(np.median(ts))`;
  const out = await new Deno.Command("python3", { args: ["-c", code, `${dir}/x.npy`] }).output()
    .catch(() => undefined);
  if (!out?.success) {
    console.log("numpy baseline skipped: python3 with numpy is not available");
  } else {
    const numpy = Number(new TextDecoder().decode(out.stdout).trim());
    console.log(`numpy float32 mean+cov+pinv+scores: median ${numpy.toFixed(1)} ms of ${reps}`);
    console.log(
      `ratio prism / numpy = ${ratio(prism, numpy)!.toFixed(2)} (bar <= 1, target <= 0.5)`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
