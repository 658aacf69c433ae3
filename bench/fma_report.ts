/**
 * The fused multiply-add build against the plain SIMD build, kernel by kernel, on one thread and
 * in one process: both modules loaded side by side (each on its own memory), the same data, and
 * the two builds timed in alternation, round by round, so load from other jobs falls on both.
 * Prints medians, FMA ÷ SIMD (below 1 = the fused build is faster) and GFLOP/s against one
 * core's WASM SIMD peak (two 128-bit FMA per cycle).
 *
 *     deno run -A --frozen --config bench/deno.json bench/fma_report.ts [--quick]
 *
 * Kernels: SYRK (`prism_syrk_shifted_f32`, covariance and the Gram route's columns side) and
 * SGEMM (`prism_sgemm`, the micro-kernel RX scoring and convolution share).
 */

import { type Kernels, loadKernels } from "../wasm/loader.ts";
import { sgemm } from "../wasm/gemm.ts";
import { VARIANT_FILES } from "../wasm/_variant.ts";
import { fillUniform } from "../synth/uniform.ts";
import { measure, ratio, summarise } from "../harness/timing.ts";
import { BUILDS } from "./_builds.ts";
import { cpuModel, machineLines, simdPeak } from "./_machine.ts";

const quick = Deno.args.includes("--quick") || Deno.env.get("PRISM_BENCH_QUICK") === "1";
const rounds = quick ? 3 : 9;
const builds = await Promise.all(
  BUILDS.map((b) => loadKernels({ url: new URL(`../wasm/${VARIANT_FILES[b]}`, import.meta.url) })),
);

/** A seeded `n`-float array in kernel memory. */
function filled(k: Kernels, n: number, seed: number): number {
  const ptr = k.alloc(n * 4);
  fillUniform(k.f32(ptr, n), seed, { lo: -0.5, hi: 0.5 });
  return ptr;
}

interface Case {
  name: string;
  flops: number;
  /** Sets the kernel up on one build and returns one run of it. */
  prepare: (k: Kernels) => () => void;
}

const syrk = (rows: number, cols: number): Case => ({
  name: `syrk ${rows}x${cols}`,
  flops: rows * cols * (cols + 1), // the upper triangle, a multiply and an add per term
  prepare: (k) => {
    const x = filled(k, rows * cols, 1), shift = filled(k, cols, 2);
    const sum = k.alloc(cols * 8), g = k.alloc(cols * cols * 8);
    const scratch = k.alloc(k.exports.prism_syrk_scratch_len(cols) * 4);
    return () =>
      k.check(
        "prism_syrk_shifted_f32",
        k.exports.prism_syrk_shifted_f32(x, rows, cols, shift, sum, g, scratch),
      );
  },
});

const gemm = (m: number, n: number, kk: number): Case => ({
  name: `sgemm ${m}x${n}x${kk}`,
  flops: 2 * m * n * kk,
  prepare: (k) => {
    const a = filled(k, m * kk, 3), b = filled(k, kk * n, 4), c = k.alloc(m * n * 4);
    const scratch = k.alloc(k.exports.prism_sgemm_scratch_len(m, n, kk) * 4);
    return () => sgemm(k, { transA: false, transB: false, m, n, k: kk, a, b, c, scratch });
  },
});

const s = quick ? 8 : 1;
const cases: Case[] = [
  syrk(163_840 / s, 10),
  syrk(20_480 / s, 50),
  syrk(20_480 / s, 200),
  syrk(1_638_400 / s / 8, 50),
  gemm(512 / s, 512, 512),
  gemm(1_638_400 / s / 16, 50, 50),
];

const loadStart = Deno.loadavg();
const peak = await simdPeak();
const onePeak = peak.gflops / navigator.hardwareConcurrency;
const lines = [
  "| kernel | FMA median ms | SIMD median ms | FMA ÷ SIMD (medians) | FMA ÷ SIMD (fastest runs) " +
  "| FMA GFLOP/s, fastest (% of one core) | SIMD GFLOP/s, fastest |",
  "|---|---|---|---|---|---|---|",
];
for (const c of cases) {
  const runs = builds.map((k) => c.prepare(k));
  const samples: number[][] = builds.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [i, run] of runs.entries()) {
      samples[i].push(...(await measure(run, { warmup: r === 0 ? 1 : 0, iterations: 1 })).samples);
    }
  }
  const [fma, simd] = samples.map((x) => summarise(x));
  const gf = (ms: number) => c.flops / ms / 1e6;
  // On a shared machine the fastest run is the least disturbed one: both are shown.
  lines.push(
    `| ${c.name} | ${fma.medianMs.toFixed(2)} | ${simd.medianMs.toFixed(2)} | ` +
      `${ratio(fma.medianMs, simd.medianMs)?.toFixed(2)} | ` +
      `${ratio(fma.minMs, simd.minMs)?.toFixed(2)} | ${gf(fma.minMs).toFixed(1)} ` +
      `(${(100 * gf(fma.minMs) / onePeak).toFixed(0)} %) | ${gf(simd.minMs).toFixed(1)} |`,
  );
  console.error(lines.at(-1));
}
console.log(
  `FMA (wasm/prism_fma.wasm) vs plain SIMD (wasm/prism.wasm), one thread, medians of ${rounds} ` +
    `alternating rounds${quick ? " (--quick)" : ""}; one core's WASM SIMD peak ` +
    `${onePeak.toFixed(1)} GFLOP/s (all CPUs: ${peak.source})`,
);
console.log(lines.join("\n"));
for (const line of machineLines(await cpuModel(), loadStart, Deno.loadavg())) console.log(line);
