/**
 * Tests of the Gram/covariance kernels in `kernels/src/syrk.rs`: `prism_syrk_shifted_f32`
 * (column sums and upper-triangular `DᵀD` of a shifted row-major block) and
 * `prism_gram_rows_f32` (upper-triangular `AAᵀ`), against float64 references from `_helpers.ts`.
 */

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { type Kernels, loadKernels } from "../wasm/loader.ts";
import { STATUS } from "../wasm/_status.ts";
import { columnSums64, covariance64, gramColumns64, gramRows64 } from "./_helpers.ts";
import { randomF32 } from "../synth/uniform.ts";

const kernels: Kernels = await loadKernels();
const ex = kernels.exports;

/** Value the outputs start at, so the tests see that kernels add rather than overwrite. */
const PRIOR = 0.25;

interface SyrkResult {
  status: number;
  sum: Float64Array;
  gram: Float64Array;
}

/**
 * Runs `prism_syrk_shifted_f32` over `x` split into calls at `splits` (row indices), with outputs
 * starting at `PRIOR`; frees everything it allocated.
 */
function syrk(
  x: Float32Array,
  cols: number,
  shift: Float32Array,
  splits: number[] = [],
): SyrkResult {
  const rows = cols === 0 ? 0 : x.length / cols;
  const ptrs: number[] = [];
  const alloc = (bytes: number) => {
    const p = kernels.alloc(bytes);
    ptrs.push(p);
    return p;
  };
  try {
    const px = alloc(x.byteLength);
    kernels.f32(px, x.length).set(x);
    const pshift = alloc(cols * 4);
    kernels.f32(pshift, cols).set(shift);
    const psum = alloc(cols * 8);
    kernels.f64(psum, cols).fill(PRIOR);
    const pgram = alloc(cols * cols * 8);
    kernels.f64(pgram, cols * cols).fill(PRIOR);
    const pscratch = alloc(ex.prism_syrk_scratch_len(cols) * 4);
    let status: number = STATUS.OK;
    const bounds = [0, ...splits, rows];
    for (let b = 0; b + 1 < bounds.length && status === STATUS.OK; b++) {
      const from = bounds[b];
      status = ex.prism_syrk_shifted_f32(
        px + from * cols * 4,
        bounds[b + 1] - from,
        cols,
        pshift,
        psum,
        pgram,
        pscratch,
      );
    }
    return {
      status,
      sum: kernels.f64(psum, cols).slice(),
      gram: kernels.f64(pgram, cols * cols).slice(),
    };
  } finally {
    for (const p of ptrs) kernels.free(p);
  }
}

/** Runs `prism_gram_rows_f32` on `a`, with the output starting at `PRIOR`. */
function gramRows(a: Float32Array, rows: number): SyrkResult {
  const cols = rows === 0 ? 0 : a.length / rows;
  const pa = kernels.alloc(a.byteLength);
  const pgram = kernels.alloc(rows * rows * 8);
  const pscratch = kernels.alloc(ex.prism_gram_rows_scratch_len(rows) * 4);
  try {
    kernels.f32(pa, a.length).set(a);
    kernels.f64(pgram, rows * rows).fill(PRIOR);
    const status = ex.prism_gram_rows_f32(pa, rows, cols, pgram, pscratch);
    return { status, sum: new Float64Array(0), gram: kernels.f64(pgram, rows * rows).slice() };
  } finally {
    kernels.free(pa);
    kernels.free(pgram);
    kernels.free(pscratch);
  }
}

/** Float64 reference: Σ d, Σ dᵀd and Σ |d|ᵀ|d| (the error scale) with d = x - shift. */
function referenceSyrk(x: Float32Array, cols: number, shift: Float32Array) {
  const rows = x.length / cols;
  const d = Float64Array.from(x, (v, i) => v - shift[i % cols]);
  return {
    sum: columnSums64(d, cols).sums,
    gram: gramColumns64(x, rows, cols, shift),
    // |dᵢdⱼ| = |dᵢ||dⱼ| exactly, so the scale is the Gram matrix of |d|.
    scale: gramColumns64(d.map(Math.abs), rows, cols),
  };
}

/**
 * Checks `got` (which started at `PRIOR`) against the upper triangle of `want` within `rel` of
 * `scale`, and that the strict lower triangle still holds `PRIOR`.
 */
function checkUpper(
  got: Float64Array,
  want: Float64Array,
  scale: Float64Array,
  n: number,
  rel: number,
) {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const g = got[i * n + j];
      if (j < i) {
        assertEquals(g, PRIOR, `lower-triangle entry (${i}, ${j}) was written: ${g}`);
        continue;
      }
      const w = PRIOR + want[i * n + j];
      const tol = rel * scale[i * n + j] + 1e-12;
      assert(Math.abs(g - w) <= tol, `G[${i}][${j}] = ${g}, want ${w} (error > ${tol})`);
    }
  }
}

// float32 sums of at most 128 products: worst case about 128 · 2⁻²⁴ ≈ 7.6e-6 of Σ|dᵢdⱼ|.
const REL = 1e-5;

// Columns: every tile path of both builds: up to 16 the 4-row tiles; beyond, the fused build's
// 6-row tiles straddling panels, with a last panel of 1-4 columns (half) or 5-7 (full), and
// tile rows past the last column (n not a multiple of 6).
for (const rows of [0, 1, 2, 3, 7, 257, 1000]) {
  Deno.test(`prism_syrk_shifted_f32() matches float64 reference on ${rows} rows`, () => {
    for (const cols of [1, 2, 3, 5, 7, 13, 16, 17, 23, 50, 61, 64, 67, 257]) {
      const x = randomF32(rows * cols, rows * 100 + cols);
      const shift = randomF32(cols, 7 + cols, { lo: -0.25, hi: 0.25 });
      const got = syrk(x, cols, shift);
      assertEquals(got.status, STATUS.OK, `status at ${rows}x${cols}`);
      const want = referenceSyrk(x, cols, shift);
      for (let c = 0; c < cols; c++) {
        const tol = REL * rows * 2 + 1e-12;
        const err = Math.abs(got.sum[c] - PRIOR - want.sum[c]);
        assert(err <= tol, `${rows}x${cols}: sum[${c}] off by ${err}`);
      }
      checkUpper(got.gram, want.gram, want.scale, cols, REL);
    }
  });
}

Deno.test("prism_syrk_shifted_f32() with a first-row shift keeps the covariance of data at 1000", () => {
  for (const [rows, cols] of [[1000, 50], [1000, 13], [3001, 67]]) {
    // Values near 1000 with spread 1: unshifted float32 sums would lose the covariance entirely.
    const x = randomF32(rows * cols, 4242 + cols, { lo: 999, hi: 1001 });
    const shift = x.slice(0, cols);
    const got = syrk(x, cols, shift);
    assertEquals(got.status, STATUS.OK);
    const mean = new Float64Array(cols);
    for (let c = 0; c < cols; c++) mean[c] = (got.sum[c] - PRIOR) / rows;
    // Two-pass float64 covariance straight from the data, independent of the shift.
    const reference = covariance64(x, rows, cols);
    let num = 0, den = 0;
    for (let i = 0; i < cols; i++) {
      for (let j = i; j < cols; j++) {
        const want = reference[i * cols + j];
        const g = got.gram[i * cols + j] - PRIOR;
        const cov = (g - rows * mean[i] * mean[j]) / (rows - 1);
        const w = i === j ? 1 : 2;
        num += w * (cov - want) ** 2;
        den += w * want ** 2;
      }
    }
    const rel = Math.sqrt(num / den);
    assert(rel <= 1e-6, `${rows}x${cols}: relative Frobenius error ${rel} > 1e-6`);
  }
});

Deno.test("prism_syrk_shifted_f32() gives exact zeros for constant columns minus their value", () => {
  const rows = 600, cols = 11;
  const x = Float32Array.from({ length: rows * cols }, (_, i) => 1000.5 + (i % cols));
  const got = syrk(x, cols, x.slice(0, cols));
  assertEquals(got.status, STATUS.OK);
  for (const v of got.sum) assertEquals(v, PRIOR);
  for (const v of got.gram) assertEquals(v, PRIOR);
});

Deno.test("prism_syrk_shifted_f32() accumulates across calls like one call", () => {
  const rows = 1000, cols = 37;
  const x = randomF32(rows * cols, 31);
  const shift = new Float32Array(cols);
  const once = syrk(x, cols, shift);
  // Splitting on a block boundary (128) sums the same blocks in the same order: bit-identical.
  const twice = syrk(x, cols, shift, [384]);
  assertEquals(twice.sum, once.sum);
  assertEquals(twice.gram, once.gram);
  // Any other split regroups the float32 blocks: equal within the float32 bound.
  const thrice = syrk(x, cols, shift, [389, 390]);
  const want = referenceSyrk(x, cols, shift);
  checkUpper(thrice.gram, once.gram.map((v) => v - PRIOR), want.scale, cols, 2 * REL);
});

Deno.test("prism_syrk_shifted_f32() with a zero shift is the plain Gram at 257x200", () => {
  const rows = 257, cols = 200;
  const x = randomF32(rows * cols, 257);
  const shift = new Float32Array(cols);
  const got = syrk(x, cols, shift);
  assertEquals(got.status, STATUS.OK);
  const want = referenceSyrk(x, cols, shift);
  checkUpper(got.gram, want.gram, want.scale, cols, REL);
});

/** Float64 reference of the upper triangle of A·Aᵀ and its error scale Σ|aᵢₖaⱼₖ|. */
function referenceGramRows(a: Float32Array, rows: number, cols: number) {
  return { gram: gramRows64(a, rows, cols), scale: gramRows64(a.map(Math.abs), rows, cols) };
}

for (const [rows, cols] of [[1, 1], [1, 300], [2, 3], [3, 7], [7, 13], [13, 257], [50, 600]]) {
  Deno.test(`prism_gram_rows_f32() matches float64 reference on ${rows}x${cols}`, () => {
    const a = randomF32(rows * cols, rows * 1000 + cols, { lo: -0.9, hi: 1.1 });
    const got = gramRows(a, rows);
    assertEquals(got.status, STATUS.OK);
    const want = referenceGramRows(a, rows, cols);
    checkUpper(got.gram, want.gram, want.scale, rows, REL);
  });
}

Deno.test("prism_gram_rows_f32() matches float64 reference on a wide 67x1031 block", () => {
  const rows = 67, cols = 1031;
  const a = randomF32(rows * cols, 67);
  const got = gramRows(a, rows);
  assertEquals(got.status, STATUS.OK);
  const want = referenceGramRows(a, rows, cols);
  checkUpper(got.gram, want.gram, want.scale, rows, REL);
});

Deno.test("prism_gram_rows_f32() leaves the output alone for 0 rows or 0 columns", () => {
  assertEquals(gramRows(new Float32Array(0), 0).status, STATUS.OK);
  const got = gramRows(new Float32Array(0), 3);
  assertEquals(got.status, STATUS.OK);
  for (const v of got.gram) assertEquals(v, PRIOR);
});

Deno.test("syrk kernels report scratch sizes and reject sizes beyond the address space", () => {
  assertEquals(ex.prism_syrk_scratch_len(0), 0);
  assertEquals(ex.prism_syrk_scratch_len(50), 56 * 128);
  assertEquals(ex.prism_gram_rows_scratch_len(3), 8 * 128);
  // 2^30 rows x 4 columns x 4 bytes overflows wasm32's 4 GiB: refused before any access.
  assertEquals(
    ex.prism_syrk_shifted_f32(16, 2 ** 30, 4, 16, 16, 16, 16),
    STATUS.INVALID_ARGUMENT,
  );
  assertEquals(ex.prism_gram_rows_f32(16, 2 ** 16, 2 ** 15, 16, 16), STATUS.INVALID_ARGUMENT);
  // A null pointer with work to do.
  assertEquals(ex.prism_syrk_shifted_f32(0, 2, 2, 16, 16, 16, 16), STATUS.INVALID_ARGUMENT);
  assertEquals(ex.prism_gram_rows_f32(16, 2, 2, 0, 16), STATUS.INVALID_ARGUMENT);
});
