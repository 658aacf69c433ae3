/**
 * RX fit + score against numpy on the same matrix, in the same run, with both kernel builds
 * (fused multiply-add and plain SIMD):
 * `deno run -A --frozen --config bench/deno.json bench/rx_report.ts [--quick]`.
 *
 * prism: `new RxDetector().fit(X)` then `score(X)` (WASM), each build in its own child process
 * (`bench/_builds.ts`). numpy (python3 subprocess, float32 data as the baseline):
 * `mu = X.mean(0); Xc = X - mu; S = Xc.T @ Xc / (N-1); S_inv = pinv(S + eps I);
 * ((Xc @ S_inv) * Xc).sum(1)`, timed inside python so the load is excluded. Without numpy the
 * baseline is skipped with a note. Prints medians, ratios (prism ÷ numpy, below 1 = prism
 * faster) and GFLOP/s against the machine's WASM SIMD peak.
 *
 * @module
 */

import { RxDetector } from "../ops/rx.ts";
import { datasetRows } from "../synth/datasets.ts";
import { writeNpy } from "../io/npy.ts";
import { measure, ratio } from "../harness/timing.ts";
import { childBuild, emit, measureBuilds } from "./_builds.ts";
import { cpuModel, machineLines, simdPeak } from "./_machine.ts";

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

if (childBuild() !== undefined) {
  const opts = { warmup: 1, iterations: reps };
  const total = await measure(async () => {
    const rx = await new RxDetector().fit(x, { backend: "wasm" });
    await rx.score(x, { backend: "wasm" });
  }, opts);
  // The two phases apart: the fit (means, covariance, pseudo-inverse) and scoring.
  const fit = await measure(() => new RxDetector().fit(x, { backend: "wasm" }), opts);
  const rx = await new RxDetector().fit(x, { backend: "wasm" });
  const score = await measure(() => rx.score(x, { backend: "wasm" }), opts);
  emit({ total: total.medianMs, fit: fit.medianMs, score: score.medianMs });
  Deno.exit(0);
}

const loadStart = Deno.loadavg();
const figures = await measureBuilds<{ total: number; fit: number; score: number }>(
  import.meta.url,
  Deno.args,
);
const prism = { "relaxed-simd": figures["relaxed-simd"].total, simd: figures.simd.total };
const phases = (b: keyof typeof figures) =>
  `(fit ${figures[b].fit.toFixed(1)} ms + score ${figures[b].score.toFixed(1)} ms apart)`;
// Fit: the upper triangle of XᵀX, rows·C·(C+1); score: X·W against the C×C whitening factor,
// 2·rows·C². Means, centring and row norms are left out (a few flops per value).
const flops = rows * bands * (bands + 1) + 2 * rows * bands * bands;
const peak = await simdPeak();
const gflops = (ms: number) =>
  `${(flops / ms / 1e6).toFixed(1)} GFLOP/s (${(flops / ms / 1e4 / peak.gflops).toFixed(0)} % ` +
  `of the ${peak.gflops.toFixed(1)} GFLOP/s WASM SIMD peak)`;
console.log(`RX fit+score ${rows} x ${bands}, medians of ${reps}${quick ? " (--quick)" : ""}:`);
console.log(
  `  prism FMA  (wasm/prism_fma.wasm): ${prism["relaxed-simd"].toFixed(1)} ms, ` +
    `${gflops(prism["relaxed-simd"])} ${phases("relaxed-simd")}`,
);
console.log(
  `  prism SIMD (wasm/prism.wasm):     ${prism.simd.toFixed(1)} ms, ${gflops(prism.simd)} ` +
    phases("simd"),
);

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
    console.log(`  numpy float32 mean+cov+pinv+scores: ${numpy.toFixed(1)} ms`);
    const r = (ms: number) => ratio(ms, numpy)?.toFixed(2);
    console.log(
      `  prism ÷ numpy: FMA ${r(prism["relaxed-simd"])}, SIMD ${r(prism.simd)} ` +
        `(bar <= 1, target <= 0.6)`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
for (const line of machineLines(await cpuModel(), loadStart, Deno.loadavg())) console.log(line);
