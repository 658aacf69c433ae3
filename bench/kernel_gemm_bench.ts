/**
 * `prism_sgemm` against a plain triple loop, on the MLP's shapes (batch 64, 784-256-128-10:
 * forward X·W, backward Xᵀ·dY and dY·Wᵀ) and a square 512 case. Each case prints its
 * GFLOP/s once (2·m·n·k flops per call, median of a short timed loop) beside Deno's table.
 *
 * @module
 */

import { loadKernels } from "../wasm/loader.ts";
import { sgemm } from "../wasm/gemm.ts";
import { randomF32 } from "../synth/uniform.ts";
import { size } from "./_config.ts";

const kernels = await loadKernels();
const gemm = kernels.exports;

interface Shape {
  name: string;
  ta: boolean;
  tb: boolean;
  m: number;
  n: number;
  k: number;
}

const SQUARE = size(512, 128);

const SHAPES: Shape[] = [
  { name: "fc1 forward 64x784·784x256", ta: false, tb: false, m: 64, n: 256, k: 784 },
  { name: "fc1 dW 784x64·64x256 (Xᵀ·dY)", ta: true, tb: false, m: 784, n: 256, k: 64 },
  { name: "fc2 forward 64x256·256x128", ta: false, tb: false, m: 64, n: 128, k: 256 },
  { name: "fc2 dW 256x64·64x128 (Xᵀ·dY)", ta: true, tb: false, m: 256, n: 128, k: 64 },
  { name: "fc2 dX 64x128·128x256 (dY·Wᵀ)", ta: false, tb: true, m: 64, n: 256, k: 128 },
  { name: "fc3 forward 64x128·128x10", ta: false, tb: false, m: 64, n: 10, k: 128 },
  { name: "fc3 dW 128x64·64x10 (Xᵀ·dY)", ta: true, tb: false, m: 128, n: 10, k: 64 },
  { name: "fc3 dX 64x10·10x128 (dY·Wᵀ)", ta: false, tb: true, m: 64, n: 128, k: 10 },
  { name: `square ${SQUARE}`, ta: false, tb: false, m: SQUARE, n: SQUARE, k: SQUARE },
];

/** The baseline: the textbook triple loop on the same float32 arrays, no blocking, no SIMD. */
function naive(s: Shape, a: Float32Array, b: Float32Array, c: Float32Array): void {
  const { m, n, k } = s;
  // Strides hoisted out of the loop, so the transposes cost the baseline nothing but locality.
  const [ars, acs] = s.ta ? [1, m] : [k, 1];
  const [brs, bcs] = s.tb ? [1, k] : [n, 1];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc += a[i * ars + p * acs] * b[p * brs + j * bcs];
      c[i * n + j] = acc;
    }
  }
}

function gflops(s: Shape, run: () => void): string {
  for (let i = 0; i < 3; i++) run();
  const times: number[] = [];
  for (let r = 0; r < 15; r++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  return (2 * s.m * s.n * s.k / (times[7] * 1e6)).toFixed(2);
}

for (const s of SHAPES) {
  const a = randomF32(s.m * s.k, 1, { lo: -0.5, hi: 0.5 }),
    b = randomF32(s.k * s.n, 2, { lo: -0.5, hi: 0.5 });
  const c = new Float32Array(s.m * s.n);
  const pa = kernels.copyIn(a), pb = kernels.copyIn(b), pc = kernels.copyIn(c);
  const ps = kernels.alloc(4 * gemm.prism_sgemm_scratch_len(s.m, s.n, s.k));
  const call = { transA: s.ta, transB: s.tb, m: s.m, n: s.n, k: s.k, a: pa, b: pb, c: pc };
  const wasm = () => sgemm(kernels, { ...call, scratch: ps });
  const loop = () => naive(s, a, b, c);
  console.log(`${s.name}: prism_sgemm ${gflops(s, wasm)} GFLOP/s, triple loop ${gflops(s, loop)}`);
  Deno.bench({ name: `triple loop ${s.name}`, group: s.name, baseline: true, fn: loop });
  Deno.bench({ name: `prism_sgemm ${s.name}`, group: s.name, fn: wasm });
}
