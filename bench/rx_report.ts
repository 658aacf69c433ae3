/**
 * RX fit + score against numpy on the same matrix, in the same run, with both kernel builds
 * (fused multiply-add and plain SIMD):
 * `deno run -A --frozen --config bench/deno.json bench/rx_report.ts [--quick]`.
 *
 * prism (WASM), each build in its own child process (`bench/_builds.ts`): `new
 * RxDetector().fit(X)` then `score(X)` (two passes, each copying the array in), and
 * `fitScore(X)` (one copy into kernel memory, both passes in place; measured after the phases,
 * so the kernel memory has the room it copies into without growing), and the phases of the
 * latter timed apart: copy in, covariance from kernel memory, pseudo-inverse (eigen + LQ),
 * scoring from kernel memory. numpy (python3 subprocess, float32 data as the baseline):
 * `mu = X.mean(0); Xc = X - mu; S = Xc.T @ Xc / (N-1); S_inv = pinv(S + eps I);
 * ((Xc @ S_inv) * Xc).sum(1)`, timed inside python so the load is excluded, on 2 and on 1 BLAS
 * thread (ratios use the faster). Without numpy the baseline is skipped with a note. Prints
 * medians, ratios (prism ÷ numpy, below 1 = prism faster), numpy's own phase split, and GFLOP/s against the machine's WASM SIMD peak: the
 * scoring GEMM both as its dense equivalent (2·rows·bands·k) and as executed (the
 * lower-trapezoidal factor skips its zero triangle).
 *
 * @module
 */

import { RxDetector } from "../ops/rx.ts";
import { covariance } from "../ops/covariance.ts";
import { whitening } from "../ops/_pinv.ts";
import { allocMatrix } from "../wasm/kernel_matrix.ts";
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

/** What each build's child measures (medians, ms). */
interface Figures {
  /** `fit(x)` then `score(x)`: two passes, each copying the array in. */
  total: number;
  /** `fitScore(x)`: one copy, both passes in place. */
  fused: number;
  /** The phases of `fitScore`, timed apart: the copy in, the covariance, the inverse, scoring. */
  copy: number;
  fit: number;
  pinv: number;
  score: number;
  /** Columns of the whitening factor and the multiply-adds per pixel its triangle needs. */
  rank: number;
  macsPerRow: number;
}

if (childBuild() !== undefined) {
  const opts = { warmup: 1, iterations: reps };
  const total = await measure(async () => {
    const rx = await new RxDetector().fit(x, { backend: "wasm" });
    await rx.score(x, { backend: "wasm" });
  }, opts);
  // The phases, on pixels in kernel memory (which grows the memory to hold them) ...
  const km = await allocMatrix(rows, bands);
  const copy = await measure(() => km.data.set(data), opts);
  const fit = await measure(() => covariance(km, { backend: "wasm" }), opts);
  const stats = await covariance(km, { backend: "wasm" });
  const pinv = await measure(() => whitening(stats.covariance, bands, { form: "lower" }), opts);
  const rx = await new RxDetector().fit(km, { backend: "wasm" });
  const score = await measure(() => rx.score(km, { backend: "wasm" }), opts);
  km.free();
  // ... so fitScore then finds the room for its one copy, as in any process after a call as
  // large (in fresh memory it streams, as fit + score do: see ops/_rx_resident.ts).
  const fused = await measure(() => new RxDetector().fitScore(x, { backend: "wasm" }), opts);
  const { rank } = rx.stats;
  // The kernel projects 4 columns at a time; with the lower factor, group g starts at band 4g.
  let macsPerRow = 0;
  for (let g = 0; g * 4 < rank; g++) macsPerRow += 4 * (bands - Math.min(bands, 4 * g));
  emit(
    {
      total: total.medianMs,
      fused: fused.medianMs,
      copy: copy.medianMs,
      fit: fit.medianMs,
      pinv: pinv.medianMs,
      score: score.medianMs,
      rank,
      macsPerRow,
    } satisfies Figures,
  );
  Deno.exit(0);
}

const loadStart = Deno.loadavg();
const figures = await measureBuilds<Figures>(import.meta.url, Deno.args);
const peak = await simdPeak();
const pct = (gflops: number) => `${(gflops / peak.gflops * 100).toFixed(0)} %`;
// Fit: the upper triangle of XᵀX, rows·C·(C+1); score: X·W against the C×k whitening factor,
// 2·rows·C·k as a dense GEMM. Means, centring and row norms are left out (a few flops a value).
const scoreFlops = (f: Figures) => 2 * rows * bands * f.rank;
const flops = (f: Figures) => rows * bands * (bands + 1) + scoreFlops(f);
const gflops = (fl: number, ms: number) => fl / ms / 1e6;
console.log(`RX fit+score ${rows} x ${bands}, medians of ${reps}${quick ? " (--quick)" : ""}:`);
console.log(`  WASM SIMD peak ${peak.gflops.toFixed(1)} GFLOP/s (${peak.source})`);
const rowsOut: string[][] = [[
  "build",
  "fit+score",
  "fitScore",
  "copy in",
  "covariance",
  "pinv",
  "score",
  "score GEMM GFLOP/s (dense-equiv; executed)",
  "fitScore GFLOP/s",
]];
for (
  const [label, b] of [["FMA (prism_fma.wasm)", "relaxed-simd"], [
    "SIMD (prism.wasm)",
    "simd",
  ]] as const
) {
  const f = figures[b];
  const dense = gflops(scoreFlops(f), f.score);
  const executed = gflops(2 * rows * f.macsPerRow, f.score);
  rowsOut.push([
    label,
    `${f.total.toFixed(1)} ms`,
    `${f.fused.toFixed(1)} ms`,
    `${f.copy.toFixed(1)} ms`,
    `${f.fit.toFixed(1)} ms`,
    `${f.pinv.toFixed(2)} ms`,
    `${f.score.toFixed(1)} ms`,
    `${dense.toFixed(1)} (${pct(dense)}); ${executed.toFixed(1)} (${pct(executed)})`,
    `${gflops(flops(f), f.fused).toFixed(1)} (${pct(gflops(flops(f), f.fused))})`,
  ]);
}
for (const r of rowsOut) console.log(`  | ${r.join(" | ")} |`);
const prism = { "relaxed-simd": figures["relaxed-simd"], simd: figures.simd };

const dir = await Deno.makeTempDir({ prefix: "prism_rx_bench_" });
try {
  await writeNpy(`${dir}/x.npy`, { data, shape: [rows, bands] });
  const code = `
import numpy as np, sys, time
X = np.load(sys.argv[1]); ts = []
for i in range(${reps} + 1):
    t0 = time.perf_counter()
    mu = X.mean(0); Xc = X - mu; S = Xc.T @ Xc / (len(X) - 1)
    t1 = time.perf_counter()
    S_inv = np.linalg.pinv(S + 1e-6 * np.eye(S.shape[0], dtype=S.dtype))
    t2 = time.perf_counter()
    s = ((Xc @ S_inv) * Xc).sum(1)
    t3 = time.perf_counter()
    if i: ts.append([(t3 - t0) * 1000, (t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000])
print(*np.median(np.array(ts), axis=0))`;
  // OpenBLAS on 2 threads (the baseline) collapses when other jobs compete for the 2
  // cores (measured 2–3 s against 0.57 s on 1 thread at load 3.5), so numpy runs on both and
  // the ratios use the faster: the harder baseline for prism.
  const numpyRun = async (threads: number) => {
    const env = { OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
    const out = await new Deno.Command("python3", { args: ["-c", code, `${dir}/x.npy`], env })
      .output().catch(() => undefined);
    if (!out?.success) return undefined;
    const [total, cov, pinv, score] = new TextDecoder().decode(out.stdout).trim().split(" ")
      .map(Number);
    console.log(
      `  numpy float32 mean+cov+pinv+scores, ${threads} BLAS thread(s): ${total.toFixed(1)} ms ` +
        `(mean+cov ${cov.toFixed(1)} ms, pinv ${pinv.toFixed(2)} ms, scores ${
          score.toFixed(1)
        } ms)`,
    );
    return total;
  };
  const runs = [await numpyRun(2), await numpyRun(1)].filter((t) => t !== undefined);
  if (runs.length === 0) {
    console.log("numpy baseline skipped: python3 with numpy is not available");
  } else {
    const numpy = Math.min(...runs);
    const r = (ms: number) => ratio(ms, numpy)?.toFixed(2);
    for (const b of ["relaxed-simd", "simd"] as const) {
      console.log(
        `  prism ÷ numpy (faster run), ${b === "simd" ? "SIMD" : "FMA "}: fit+score ` +
          `${r(prism[b].total)}, fitScore ${r(prism[b].fused)} (bar <= 1, target <= 0.6)`,
      );
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
for (const line of machineLines(await cpuModel(), loadStart, Deno.loadavg())) console.log(line);
