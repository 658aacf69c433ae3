/**
 * Benchmarks of the Gram/covariance kernels (`kernels/src/syrk.rs`), one thread, against a plain
 * scalar TypeScript loop over the same upper triangle in float64 (`baseline`):
 * `prism_syrk_shifted_f32` on tall pixel matrices (rows x bands) and the tall activation shape,
 * `prism_gram_rows_f32` on the wide activation shapes. Data is copied into wasm memory once.
 * numpy's float32 covariance (`Xc.T @ Xc / (N-1)`) at the largest size is timed once at start-up
 * through python3 (when present) and printed, since a subprocess cannot be timed fairly inside
 * `Deno.bench`.
 *
 * FLOP convention for reading the numbers: `2 · k · n(n+1)/2` for an `n x n` upper triangle
 * summed over `k` terms.
 */

import { loadKernels } from "../wasm/loader.ts";
import { gramColumns64, gramRows64 } from "./_scalar_baselines.ts";
import { fillUniform } from "../synth/uniform.ts";
import { size } from "./_config.ts";
import { printNumpyTiming } from "./_numpy.ts";

const kernels = await loadKernels();
const ex = kernels.exports;

/** Allocates and fills a seeded `rows x cols` float32 matrix in wasm memory, in place. */
function randomIn(rows: number, cols: number): number {
  const ptr = kernels.alloc(rows * cols * 4);
  fillUniform(kernels.f32(ptr, rows * cols), 12345, { lo: -0.5, hi: 0.5 });
  return ptr;
}

function numpyCovariance(rows: number, cols: number): void {
  const script = [
    "import time, numpy as np",
    `X = np.random.default_rng(0).standard_normal((${rows}, ${cols})).astype(np.float32)`,
    "ts = []",
    "for _ in range(5):",
    "  t = time.perf_counter(); Xc = X - X.mean(0); C = Xc.T @ Xc / (X.shape[0] - 1)",
    "  ts.append(time.perf_counter() - t)",
    `print(f'numpy float32 covariance ${rows}x${cols}: median {1e3 * sorted(ts)[2]:.1f} ms')`,
  ].join("\n");
  printNumpyTiming(script);
}

const PIXELS = size(1_638_400, 16_384);
numpyCovariance(PIXELS, 50);

const SYRK_SHAPES: [number, number][] = [
  [PIXELS, 50],
  [size(20_480, 2_048), 10],
  [size(20_480, 2_048), 50],
  [size(20_480, 2_048), 100],
  [size(20_480, 2_048), 200],
  [size(4096, 512), 1024],
];

for (const [rows, cols] of SYRK_SHAPES) {
  const px = randomIn(rows, cols);
  const pshift = kernels.alloc(cols * 4);
  kernels.f32(pshift, cols).fill(0);
  const psum = kernels.alloc(cols * 8);
  const pgram = kernels.alloc(cols * cols * 8);
  const pscratch = kernels.alloc(ex.prism_syrk_scratch_len(cols) * 4);
  const big = rows * cols * cols > 1e9;
  const group = `syrk ${rows}x${cols}`;
  Deno.bench(
    `scalar TypeScript syrk ${rows}x${cols}`,
    { group, baseline: true, n: big ? 2 : 10 },
    () => {
      gramColumns64(kernels.f32(px, rows * cols), rows, cols, kernels.f32(pshift, cols));
    },
  );
  Deno.bench(`wasm prism_syrk_shifted_f32 ${rows}x${cols}`, { group, n: big ? 10 : 50 }, () => {
    kernels.check(
      "prism_syrk_shifted_f32",
      ex.prism_syrk_shifted_f32(px, rows, cols, pshift, psum, pgram, pscratch),
    );
  });
}

// Wide activation shapes: the Gram of the rows is the smaller side.
for (const [rows, cols] of [[128, 512], [512, 768], [256, 3072]]) {
  const pa = randomIn(rows, cols);
  const pgram = kernels.alloc(rows * rows * 8);
  const pscratch = kernels.alloc(ex.prism_gram_rows_scratch_len(rows) * 4);
  const group = `gram_rows ${rows}x${cols}`;
  Deno.bench(
    `scalar TypeScript gram_rows ${rows}x${cols}`,
    { group, baseline: true, n: 10 },
    () => {
      gramRows64(kernels.f32(pa, rows * cols), rows, cols);
    },
  );
  Deno.bench(`wasm prism_gram_rows_f32 ${rows}x${cols}`, { group }, () => {
    kernels.check("prism_gram_rows_f32", ex.prism_gram_rows_f32(pa, rows, cols, pgram, pscratch));
  });
}
