/**
 * Measures WASM `covariance()` with both kernel builds (fused multiply-add and plain SIMD) against
 * numpy float32 (python3, same data as .npy in a temp dir) and TensorFlow.js's WASM backend in one
 * run, and prints medians, ratios (prism ÷ peer, below 1 = prism faster), GFLOP/s against the
 * machine's WASM SIMD peak (measured, `_fma_peak.ts`; the nominal one beside it) and each build's
 * phases (copy-in, kernel, rest), for the medium matrix (1,638,400 × 50), the channel sweep
 * (20,480 × C) and the spatial sweep (C = 10).
 *
 *     deno run -A --frozen --config bench/deno.json bench/covariance_report.ts [--quick]
 *
 * `--quick` shrinks every problem 16× and runs fewer repetitions, in one round instead of three.
 * Each build is timed in its own child process and numpy right after, in rounds
 * (`bench/_builds.ts`); "plain" is a JavaScript array (copied into kernel memory by the call),
 * "kmem" a matrix already in kernel memory, so their difference is the copy.
 */

import { covariance } from "../ops/covariance.ts";
import { allocMatrix } from "../wasm/kernel_matrix.ts";
import { writeNpy } from "../io/npy.ts";
import { fillUniform } from "../synth/uniform.ts";
import { measure, ratio } from "../harness/timing.ts";
import { numpyCovarianceMs, tfjsCovariance, tfjsReady } from "./_covariance_baselines.ts";
import { acrossRounds, BUILDS, childBuild, emit, measureRounds, type Round } from "./_builds.ts";
import { cpuModel, machineLines, simdPeak } from "./_machine.ts";
import { estimateShift } from "../ops/_covariance_shift.ts";
import { loadKernels, type WasmVariant } from "../wasm/loader.ts";
import type { Matrix } from "../core/types.ts";

/** One `prism_syrk_shifted_f32` call over all of `km` (kernel memory) on this thread. */
async function kernelAlone(km: Matrix & { ptr: number }, shift: Float32Array) {
  const kernels = await loadKernels();
  const { rows, cols } = km;
  const at = (bytes: number) => kernels.alloc(bytes);
  const [pShift, sum, gram] = [at(cols * 4), at(cols * 8), at(cols * cols * 8)];
  const scratch = at(kernels.exports.prism_syrk_scratch_len(cols) * 4);
  kernels.f32(pShift, cols).set(shift);
  return () => {
    const status = kernels.exports.prism_syrk_shifted_f32(
      km.ptr,
      rows,
      cols,
      pShift,
      sum,
      gram,
      scratch,
    );
    kernels.check("prism_syrk_shifted_f32", status);
  };
}

const quick = Deno.args.includes("--quick") || Deno.env.get("PRISM_BENCH_QUICK") === "1";
const shrink = quick ? 16 : 1;
const runs = quick ? 3 : 7;
/**
 * Milliseconds each prism figure warms up for before it is timed (`measure`'s `warmupMs`): the
 * steady state a caller that computes covariances repeatedly gets. The JavaScript around the
 * kernels needs tens of calls to reach it (20,480 × 100: about 6 ms a call for the first ten,
 * 3.5 ms from the fortieth); numpy's single warm-up call is all BLAS needs.
 */
const WARMUP_MS = quick ? 100 : 500;
/** Rounds of the comparison (`measureRounds`): both builds, then numpy, on every shape. */
const ROUNDS = quick ? 1 : 3;
const shapes: [string, number, number][] = [
  ["medium", 1_638_400 / shrink, 50],
  ...[10, 50, 100, 200].map((c): [string, number, number] => ["channels", 20_480 / shrink, c]),
  ...[40_960, 163_840, 655_360].map((r): [string, number, number] => ["spatial", r / shrink, 10]),
];
const dataOf = (rows: number, cols: number) =>
  fillUniform(new Float32Array(rows * cols), 12345, { lo: 100, hi: 101 });

/**
 * One build's medians per shape: `covariance()` from a plain array and from kernel memory, and
 * the SYRK kernel alone over the whole matrix on one thread (`kernel`), from which the phases
 * are told apart: copy-in = plain − kmem, kernel = kernel ÷ workers (the split is even), the
 * rest of kmem (worker messages, shift estimate, float64 merges) = kmem − kernel ÷ workers.
 */
type PrismFigures = { plain: number; kmem: number; kernel: number }[];

if (childBuild() !== undefined) {
  const figures: PrismFigures = [];
  for (const [, rows, cols] of shapes) {
    const data = dataOf(rows, cols);
    const opts = { warmup: 1, warmupMs: WARMUP_MS, iterations: runs };
    const plain = await measure(() => covariance({ data, rows, cols }, { backend: "wasm" }), opts);
    using km = await allocMatrix(rows, cols);
    km.data.set(data);
    const kmem = await measure(() => covariance(km, { backend: "wasm" }), opts);
    const kernel = await measure(await kernelAlone(km, estimateShift(km)!), opts);
    figures.push({ plain: plain.medianMs, kmem: kmem.medianMs, kernel: kernel.medianMs });
  }
  emit(figures);
  Deno.exit(0);
}

const loadStart = Deno.loadavg();
const dir = await Deno.makeTempDir({ prefix: "prism_cov_report_" });
const notes = new Set<string>();
/** numpy's median per shape, or undefined where it could not run (the reason is noted). */
const numpyRound = (paths: readonly string[]) => {
  const times: (number | undefined)[] = [];
  for (const path of paths) {
    const numpy = numpyCovarianceMs(path, runs);
    if (typeof numpy === "string") notes.add(numpy);
    times.push(typeof numpy === "number" ? numpy : undefined);
  }
  return Promise.resolve(times);
};
let rounds: Round<PrismFigures, (number | undefined)[]>[];
try {
  // Written once for every round (the medium case alone is 328 MB).
  const paths: string[] = [];
  for (const [, rows, cols] of shapes) {
    paths.push(`${dir}/x_${rows}_${cols}.npy`);
    await writeNpy(paths.at(-1)!, { data: dataOf(rows, cols), shape: [rows, cols] });
  }
  rounds = await measureRounds(import.meta.url, Deno.args, ROUNDS, () => numpyRound(paths));
} finally {
  await Deno.remove(dir, { recursive: true });
}
await tfjsReady();
const peak = await simdPeak();
const f = (v: number | string | undefined) => (typeof v === "number" ? v.toFixed(2) : "-");
const workers = navigator.hardwareConcurrency;
const lines = [
  "| sweep | shape | FMA ms | FMA kmem ms | SIMD ms | SIMD kmem ms | numpy f32 ms | tfjs-wasm ms " +
  "| FMA/numpy | FMA/numpy each round | SIMD/numpy | FMA kmem/numpy | FMA GFLOP/s (% peak) " +
  "| SIMD GFLOP/s | numpy GFLOP/s (% of the WASM peak) " +
  "| FMA phases ms: copy-in / kernel / rest | SIMD phases ms | FMA kernel 1 thread GFLOP/s " +
  "(% of a core) | SIMD kernel 1 thread GFLOP/s |",
  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
];
for (const [i, [sweep, rows, cols]] of shapes.entries()) {
  const data = dataOf(rows, cols);
  const tfjs = await measure(() => tfjsCovariance(data, rows, cols), {
    warmup: 1,
    iterations: rows * cols > 1e7 ? 3 : runs,
  });
  // Medians over rounds of each round's medians; ratios are the median of the rounds' ratios.
  const over = (pick: (round: (typeof rounds)[number]) => number | undefined) =>
    acrossRounds(rounds, pick)?.medianMs;
  const [fma, simd] = BUILDS.map((b) => ({
    plain: over((x) => x.prism[b][i].plain)!,
    kmem: over((x) => x.prism[b][i].kmem)!,
    kernel: over((x) => x.prism[b][i].kernel)!,
  }));
  const np = over((x) => x.peers[i]);
  const vsNumpy = (b: WasmVariant, key: "plain" | "kmem") =>
    acrossRounds(rounds, (x) => ratio(x.prism[b][i][key], x.peers[i]));
  const fmaRounds = vsNumpy("relaxed-simd", "plain");
  const simdRatio = vsNumpy("simd", "plain")?.medianMs;
  const kmemRatio = vsNumpy("relaxed-simd", "kmem")?.medianMs;
  // The upper triangle of XᵀX: one multiply and one add per entry and row.
  const gflops = (ms: number) => rows * cols * (cols + 1) / ms / 1e6;
  const pct = (ms: number, of = peak.gflops) => ` (${(100 * gflops(ms) / of).toFixed(0)} %)`;
  const phases = (b: PrismFigures[number]) =>
    `${f(b.plain - b.kmem)} / ${f(b.kernel / workers)} / ${f(b.kmem - b.kernel / workers)}`;
  lines.push(
    `| ${sweep} | ${rows}x${cols} | ${f(fma.plain)} | ${f(fma.kmem)} | ${f(simd.plain)} | ` +
      `${f(simd.kmem)} | ${f(np)} | ${f(tfjs.medianMs)} | ${f(fmaRounds?.medianMs)} | ` +
      `${fmaRounds?.samples.map(f).join(" ") ?? "-"} | ` +
      `${f(simdRatio)} | ${f(kmemRatio)} | ` +
      `${gflops(fma.kmem).toFixed(1)}${pct(fma.kmem)} | ${gflops(simd.kmem).toFixed(1)} | ` +
      `${np === undefined ? "-" : `${gflops(np).toFixed(1)}${pct(np)}`} | ` +
      `${phases(fma)} | ${phases(simd)} | ` +
      `${gflops(fma.kernel).toFixed(1)}${pct(fma.kernel, peak.gflops / workers)} | ` +
      `${gflops(simd.kernel).toFixed(1)} |`,
  );
  console.error(lines.at(-1));
}
console.log(
  `covariance, WASM backend, ${navigator.hardwareConcurrency} cores${quick ? " (--quick)" : ""}; ` +
    `FMA = wasm/prism_fma.wasm (relaxed SIMD), SIMD = wasm/prism.wasm; ${ROUNDS} round(s) of ` +
    `both builds and then numpy, each the median of ${runs}; figures are medians over rounds, ` +
    `ratios the median of the rounds' ratios (prism ÷ numpy, below 1 = prism faster)`,
);
console.log(lines.join("\n"));
console.log(
  `GFLOP/s from kernel memory, counting rows·C·(C+1) flops; % of the WASM SIMD peak ` +
    `${peak.gflops.toFixed(1)} GFLOP/s (${peak.source}); numpy's GFLOP/s count the same flops ` +
    `as prism's, so where they pass about 80 % of the WASM peak no WASM kernel can match numpy ` +
    `(prism's SYRK reaches 70-80 % of a core's peak; numpy's 256-bit AVX2 kernels have twice ` +
    `its width); ` +
    `phases: copy-in = plain − kmem (copying a plain array into kernel memory, as far as not ` +
    `overlapped), kernel = the SYRK kernel alone on one thread ÷ ${workers} workers, rest = ` +
    `kmem − kernel (messages, shift, float64 merges, and any imbalance or contention)`,
);
for (const line of machineLines(await cpuModel(), loadStart, Deno.loadavg())) console.log(line);
for (const note of notes) console.log(note);
