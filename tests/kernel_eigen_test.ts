/**
 * Tests of the float64 eigen kernels in `kernels/src/eigen*`: `prism_eigh_f64` (symmetric
 * eigenvalues and eigenvectors), `prism_eigvalsh_f64` and `prism_tridiagonal_eigvals_f64`
 * (values only, root-free QL) and `prism_svd_jacobi_f64` (one-sided Jacobi singular values),
 * against matrices with known spectra built here in float64 and against numpy.
 */

import { deepStrictEqual as assertEquals, ok as assert, throws as assertThrows } from "node:assert";
import { InvalidDataError, KernelError } from "../core/errors.ts";
import { type Kernels, loadKernels } from "../wasm/loader.ts";
import { STATUS } from "../wasm/_status.ts";
import { gramColumns64 } from "./_helpers.ts";
import { randomF64, uniform } from "../synth/uniform.ts";
import { hasNumpy, python } from "./_io_helpers.ts";
import { orthogonal, withSpectrum } from "./_eigen_reference.ts";

const kernels: Kernels = await loadKernels();
const ex = kernels.exports;

interface Eigh {
  status: number;
  values: Float64Array;
  vectors: Float64Array | null;
}

/** Runs `prism_eigh_f64` on a copy of `a`; frees everything it allocated. */
function eigh(a: Float64Array, n: number, vectors: boolean): Eigh {
  const ptrs: number[] = [];
  const alloc = (count: number) => {
    const p = kernels.alloc(count * 8);
    ptrs.push(p);
    return p;
  };
  try {
    const pa = alloc(n * n);
    kernels.f64(pa, n * n).set(a);
    const pv = alloc(n);
    const pz = vectors ? alloc(n * n) : 0;
    const ps = alloc(ex.prism_eigh_f64_scratch_len(n));
    const status = ex.prism_eigh_f64(pa, n, pv, pz, ps);
    return {
      status,
      values: kernels.f64(pv, n).slice(),
      vectors: vectors ? kernels.f64(pz, n * n).slice() : null,
    };
  } finally {
    for (const p of ptrs) kernels.free(p);
  }
}

/** Runs `prism_svd_jacobi_f64` on a copy of `a`. */
function jacobi(
  a: Float64Array,
  rows: number,
  cols: number,
): { status: number; values: Float64Array } {
  const k = Math.min(rows, cols);
  const pa = kernels.alloc(rows * cols * 8);
  const pv = kernels.alloc(k * 8);
  const ps = kernels.alloc(ex.prism_svd_jacobi_f64_scratch_len(rows, cols) * 8);
  try {
    kernels.f64(pa, rows * cols).set(a);
    const status = ex.prism_svd_jacobi_f64(pa, rows, cols, pv, ps);
    return { status, values: kernels.f64(pv, k).slice() };
  } finally {
    kernels.free(pa);
    kernels.free(pv);
    kernels.free(ps);
  }
}

const descending = (x: ArrayLike<number>) => Float64Array.from(x).sort().reverse();

/** Checks values against `expected` and, when present, orthonormality and A·v = λ·v. */
function checkEigh(a: Float64Array, n: number, got: Eigh, expected: ArrayLike<number> | null) {
  assertEquals(got.status, STATUS.OK);
  const lmax = Math.max(1e-300, ...Array.from(got.values, Math.abs));
  const tol = 1e-12 * Math.max(n, 1) * lmax;
  for (let k = 1; k < n; k++) assert(got.values[k - 1] >= got.values[k], "values not descending");
  if (expected !== null) {
    const want = descending(expected);
    for (let k = 0; k < n; k++) {
      const err = Math.abs(got.values[k] - want[k]);
      assert(err <= tol, `λ[${k}] = ${got.values[k]}, want ${want[k]} (error ${err} > ${tol})`);
    }
  }
  const z = got.vectors;
  if (z === null) return;
  for (let p = 0; p < n; p++) {
    for (let q = p; q < n; q++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += z[i * n + p] * z[i * n + q];
      const err = Math.abs(s - (p === q ? 1 : 0));
      assert(err <= 1e-12 * Math.max(n, 1), `vᵀv at (${p}, ${q}) off by ${err}`);
    }
  }
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += a[i * n + j] * z[j * n + k];
      const err = Math.abs(s - got.values[k] * z[i * n + k]);
      assert(err <= tol, `(A·v − λ·v)[${i}] for λ[${k}] is ${err} > ${tol}`);
    }
  }
}

function spectrum(n: number, seed: number): Float64Array {
  return randomF64(n, seed, { lo: -10, hi: 10 });
}

for (const n of [1, 2, 3, 17, 101, 257]) {
  Deno.test(`prism_eigh_f64() recovers a known spectrum and its vectors at n = ${n}`, () => {
    const lambda = spectrum(n, n);
    const a = withSpectrum(lambda, 1000 + n);
    checkEigh(a, n, eigh(a, n, true), lambda);
    checkEigh(a, n, eigh(a, n, false), lambda);
  });
}

Deno.test("prism_eigh_f64() gives orthonormal eigenpairs of a random symmetric 200x200", () => {
  const n = 200;
  const next = uniform(99);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = next();
  checkEigh(a, n, eigh(a, n, true), null);
});

Deno.test("prism_eigh_f64() with n = 0 succeeds and writes nothing", () => {
  assertEquals(ex.prism_eigh_f64_scratch_len(0), 0);
  assertEquals(ex.prism_eigh_f64(0, 0, 0, 0, 0), STATUS.OK);
});

Deno.test("prism_eigh_f64() reads only the upper triangle (NaN below the diagonal)", () => {
  const n = 23;
  const lambda = spectrum(n, 7);
  const a = withSpectrum(lambda, 8);
  const upper = a.slice();
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) upper[i * n + j] = NaN;
  checkEigh(a, n, eigh(upper, n, true), lambda);
});

Deno.test("prism_eigh_f64() handles identity, zero, diagonal and 2x2 exactly", () => {
  const n = 9;
  const id = new Float64Array(n * n);
  for (let i = 0; i < n; i++) id[i * n + i] = 1;
  checkEigh(id, n, eigh(id, n, true), new Float64Array(n).fill(1));
  const zero = new Float64Array(n * n);
  checkEigh(zero, n, eigh(zero, n, true), new Float64Array(n));
  const d = [3, -1, 4, 1, -5, 9, 2, 6, 5];
  const diag = new Float64Array(n * n);
  d.forEach((x, i) => (diag[i * n + i] = x));
  const got = eigh(diag, n, true);
  checkEigh(diag, n, got, d);
  assertEquals(Array.from(got.values), Array.from(descending(d)));
  // [[2, 1], [1, 2]] has eigenvalues 3 and 1, vectors (1, ±1)/√2.
  const two = new Float64Array([2, 1, 1, 2]);
  checkEigh(two, 2, eigh(two, 2, true), [3, 1]);
  const one = eigh(new Float64Array([-4.5]), 1, true);
  assertEquals([one.values[0], one.vectors?.[0]], [-4.5, 1]);
});

Deno.test("prism_eigh_f64() resolves repeated eigenvalues with orthogonal vectors", () => {
  const n = 40;
  const lambda = Float64Array.from({ length: n }, (_, i) => (i < 20 ? 2 : i < 35 ? -1 : 7));
  const a = withSpectrum(lambda, 3);
  checkEigh(a, n, eigh(a, n, true), lambda);
});

Deno.test("prism_eigh_f64() finds 59 zero eigenvalues of a rank-5 64x64 Gram matrix", () => {
  const n = 64;
  // BᵀB of a random 5 × n B has rank 5; mirror its upper triangle into the full matrix.
  const a = gramColumns64(randomF64(5 * n, 11), 5, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[i * n + j] = a[j * n + i];
  const got = eigh(a, n, true);
  checkEigh(a, n, got, null);
  const tol = 1e-12 * n * got.values[0];
  for (let i = 5; i < n; i++) assert(Math.abs(got.values[i]) <= tol, `λ[${i}] = ${got.values[i]}`);
  assert(got.values[4] > 1e-3, `λ[4] = ${got.values[4]} should be clearly positive`);
});

Deno.test("prism_eigh_f64() keeps relative accuracy at 1e+200 and 1e-200 scales", () => {
  const n = 12;
  const lambda = spectrum(n, 5);
  for (const scale of [1e200, 1e-200]) {
    const scaled = Float64Array.from(lambda, (x) => x * scale);
    const a = withSpectrum(scaled, 6);
    checkEigh(a, n, eigh(a, n, false), scaled);
  }
});

Deno.test("prism_eigh_f64() returns NON_FINITE for NaN or Infinity in the upper triangle", () => {
  const n = 5;
  for (const bad of [NaN, Infinity, -Infinity]) {
    const a = withSpectrum(spectrum(n, 1), 2);
    a[1 * n + 3] = bad;
    const got = eigh(a, n, true);
    assertEquals(got.status, STATUS.NON_FINITE);
    assertThrows(() => kernels.check("prism_eigh_f64", got.status), InvalidDataError);
  }
});

Deno.test("prism_eigh_f64() reports no leaks: every buffer is caller-owned", () => {
  const before = kernels.memory().inUseBytes;
  eigh(withSpectrum(spectrum(31, 2), 3), 31, true);
  assertEquals(kernels.memory().inUseBytes, before);
  assertThrows(() => kernels.check("prism_eigh_f64", STATUS.NO_CONVERGENCE), KernelError);
});

/**
 * Runs `prism_eigvalsh_f64` on a copy of `a`; returns the status, the values and the
 * tridiagonal `(d, e)` the kernel leaves at the front of its scratch.
 */
function eigvalsh(a: Float64Array, n: number) {
  const pa = kernels.alloc(n * n * 8);
  const pv = kernels.alloc(n * 8);
  const len = ex.prism_eigvalsh_f64_scratch_len(n);
  const ps = kernels.alloc(len * 8);
  try {
    kernels.f64(pa, n * n).set(a);
    const status = ex.prism_eigvalsh_f64(pa, n, pv, ps);
    const scratch = kernels.f64(ps, len);
    return {
      status,
      values: kernels.f64(pv, n).slice(),
      vectors: null,
      d: scratch.slice(0, n),
      e: scratch.slice(n, 2 * n),
    };
  } finally {
    for (const p of [pa, pv, ps]) kernels.free(p);
  }
}

/** Runs `prism_tridiagonal_eigvals_f64` on copies of `d` and `e` (`e` padded to `n`). */
function tridiagonalEigvals(d: ArrayLike<number>, e: ArrayLike<number>) {
  const n = d.length;
  const pd = kernels.alloc(n * 8);
  const pe = kernels.alloc(n * 8);
  try {
    kernels.f64(pd, n).set(d);
    const ev = kernels.f64(pe, n);
    ev.fill(0);
    ev.set(Array.from(e).slice(0, Math.max(n - 1, 0)));
    const status = ex.prism_tridiagonal_eigvals_f64(pd, pe, n);
    return { status, values: kernels.f64(pd, n).slice() };
  } finally {
    kernels.free(pd);
    kernels.free(pe);
  }
}

for (const n of [1, 2, 3, 17, 64, 101, 257]) {
  Deno.test(`prism_eigvalsh_f64() recovers a known spectrum at n = ${n}, as prism_eigh_f64`, () => {
    const lambda = spectrum(n, n);
    const a = withSpectrum(lambda, 2000 + n);
    const got = eigvalsh(a, n);
    checkEigh(a, n, got, lambda);
    // The same reduction, then a different QL: agreement to the stated tolerance, not bits.
    const ref = eigh(a, n, false).values;
    const tol = 1e-12 * n * Math.max(...Array.from(ref, Math.abs));
    got.values.forEach((x, k) => assert(Math.abs(x - ref[k]) <= tol, `λ[${k}]: ${x} vs ${ref[k]}`));
  });
}

Deno.test("prism_eigvalsh_f64() on adversarial matrices: offsets, repeats, zeros, scales", () => {
  // A large common offset: eigenvalues 1e6 + O(10), each within 1e-12·n of 1e6.
  const n = 61;
  const offset = Float64Array.from(spectrum(n, 4), (x) => 1e6 + x);
  const a = withSpectrum(offset, 5);
  checkEigh(a, n, eigvalsh(a, n), offset);
  // Repeated eigenvalues in three clusters.
  const repeated = Float64Array.from({ length: 40 }, (_, i) => (i < 20 ? 2 : i < 35 ? -1 : 7));
  checkEigh(withSpectrum(repeated, 3), 40, eigvalsh(withSpectrum(repeated, 3), 40), repeated);
  // Rank 5 of 64 (a Gram matrix): 59 eigenvalues at zero within the tolerance.
  const g = gramColumns64(randomF64(5 * 64, 11), 5, 64);
  const rank5 = eigvalsh(g, 64);
  assertEquals(rank5.status, STATUS.OK);
  const tol = 1e-12 * 64 * rank5.values[0];
  for (let i = 5; i < 64; i++) assert(Math.abs(rank5.values[i]) <= tol, `λ[${i}]`);
  assert(rank5.values[4] > 1e-3, `λ[4] = ${rank5.values[4]} should be clearly positive`);
  // Identity, zero and diagonal come back exactly; NaN below the diagonal is never read.
  const d = [3, -1, 4, 1, -5, 9, 2, 6, 5];
  const diag = new Float64Array(81);
  d.forEach((x, i) => (diag[i * 9 + i] = x));
  for (let i = 0; i < 9; i++) for (let j = 0; j < i; j++) diag[i * 9 + j] = NaN;
  assertEquals(Array.from(eigvalsh(diag, 9).values), Array.from(descending(d)));
  assertEquals(Array.from(eigvalsh(new Float64Array(16), 4).values), [0, 0, 0, 0]);
  // Relative accuracy at extreme scales (the kernel scales by a power of two).
  for (const scale of [1e200, 1e-200]) {
    const scaled = Float64Array.from(spectrum(12, 5), (x) => x * scale);
    checkEigh(withSpectrum(scaled, 6), 12, eigvalsh(withSpectrum(scaled, 6), 12), scaled);
  }
});

Deno.test("prism_eigvalsh_f64() handles n = 0, NaN and Infinity, and leaks nothing", () => {
  assertEquals(ex.prism_eigvalsh_f64_scratch_len(0), 0);
  assertEquals(ex.prism_eigvalsh_f64(0, 0, 0, 0), STATUS.OK);
  const before = kernels.memory().inUseBytes;
  for (const bad of [NaN, Infinity, -Infinity]) {
    const a = withSpectrum(spectrum(5, 1), 2);
    a[1 * 5 + 3] = bad;
    assertEquals(eigvalsh(a, 5).status, STATUS.NON_FINITE);
  }
  assertEquals(kernels.memory().inUseBytes, before);
});

Deno.test("prism_eigvalsh_f64() leaves the tridiagonal it reduced to in its scratch", () => {
  const n = 97;
  const lambda = spectrum(n, 3);
  const a = withSpectrum(lambda, 4);
  const got = eigvalsh(a, n);
  // The tridiagonal is similar to A: its own eigenvalues are A's.
  const again = tridiagonalEigvals(got.d, got.e);
  assertEquals(again.status, STATUS.OK);
  assertEquals(Array.from(again.values), Array.from(got.values));
  checkEigh(a, n, { status: again.status, values: again.values, vectors: null }, lambda);
});

for (const n of [1, 2, 3, 97, 257]) {
  Deno.test(`prism_tridiagonal_eigvals_f64() gives 2 − 2cos(kπ/(n+1)) for tridiag(−1, 2, −1), n = ${n}`, () => {
    const got = tridiagonalEigvals(new Float64Array(n).fill(2), new Float64Array(n).fill(-1));
    assertEquals(got.status, STATUS.OK);
    const want = descending(
      Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos((k + 1) * Math.PI / (n + 1))),
    );
    got.values.forEach((x, k) =>
      assert(Math.abs(x - want[k]) <= 1e-14 * n, `λ[${k}] = ${x}, want ${want[k]}`)
    );
  });
}

Deno.test("prism_tridiagonal_eigvals_f64() splits at zero couplings and refuses non-finite input", () => {
  // Two uncoupled blocks: [[1, 1], [1, 1]] (eigenvalues 2, 0) and [[5]]; offsets of 1e8.
  const got = tridiagonalEigvals([1e8 + 1, 1e8 + 1, 1e8 + 5], [1, 0]);
  assertEquals(got.status, STATUS.OK);
  [1e8 + 5, 1e8 + 2, 1e8].forEach((want, k) => assert(Math.abs(got.values[k] - want) <= 1e-7));
  // A constant band: d = 3 everywhere, e = 0: the values come back untouched.
  assertEquals(Array.from(tridiagonalEigvals([3, 3, 3, 3], [0, 0, 0]).values), [3, 3, 3, 3]);
  assertEquals(tridiagonalEigvals([1, NaN], [0.5]).status, STATUS.NON_FINITE);
  assertEquals(tridiagonalEigvals([1, 2], [Infinity]).status, STATUS.NON_FINITE);
  assertEquals(ex.prism_tridiagonal_eigvals_f64(0, 0, 0), STATUS.OK);
});

/** numpy's singular values of each matrix, through a python3 subprocess. */
async function numpySvd(mats: { rows: number; cols: number; data: number[] }[]) {
  const script = [
    "import json, sys, numpy as np",
    "mats = json.loads(sys.argv[1])",
    "out = [np.linalg.svd(np.array(m['data'], dtype=np.float64).reshape(m['rows'], m['cols']),",
    "  compute_uv=False).tolist() for m in mats]",
    "print(json.dumps(out))",
  ].join("\n");
  return JSON.parse(await python(script, JSON.stringify(mats))) as number[][];
}

/** A rows×cols matrix U·diag(s)·Vᵀ with orthogonal U, V from Householder products. */
function withSingularValues(rows: number, cols: number, s: number[], seed: number) {
  const u = orthogonal(rows, seed);
  const v = orthogonal(cols, seed + 1);
  const a = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let t = 0;
      for (let k = 0; k < s.length; k++) t += u[i * rows + k] * s[k] * v[j * cols + k];
      a[i * cols + j] = t;
    }
  }
  return a;
}

Deno.test({
  name: "prism_svd_jacobi_f64() matches numpy on tall, wide, square and rank-deficient input",
  ignore: !hasNumpy,
}, async () => {
  const next = uniform(21);
  const random = (rows: number, cols: number) => Float64Array.from({ length: rows * cols }, next);
  const rankDeficient = withSingularValues(30, 20, [5, 3, 2, 1], 4);
  const cases = [
    { rows: 40, cols: 7, data: random(40, 7) },
    { rows: 9, cols: 31, data: random(9, 31) },
    { rows: 17, cols: 17, data: random(17, 17) },
    { rows: 30, cols: 20, data: rankDeficient },
    { rows: 1, cols: 13, data: random(1, 13) },
    { rows: 6, cols: 1, data: random(6, 1) },
  ];
  const want = await numpySvd(cases.map((c) => ({ ...c, data: Array.from(c.data) })));
  cases.forEach((c, i) => {
    const got = jacobi(c.data, c.rows, c.cols);
    assertEquals(got.status, STATUS.OK);
    assertEquals(got.values.length, Math.min(c.rows, c.cols));
    const tol = 1e-12 * Math.max(c.rows, c.cols) * want[i][0];
    got.values.forEach((s, j) => {
      const err = Math.abs(s - want[i][j]);
      assert(err <= tol, `${c.rows}x${c.cols}: s[${j}] = ${s}, numpy ${want[i][j]} (error ${err})`);
    });
  });
});

Deno.test("prism_svd_jacobi_f64() keeps singular values down to 1e-12 relatively accurate", () => {
  const s = Array.from({ length: 8 }, (_, i) => 10 ** -(12 * i / 7));
  for (const [rows, cols] of [[25, 8], [8, 25]]) {
    const got = jacobi(withSingularValues(rows, cols, s, 9), rows, cols);
    assertEquals(got.status, STATUS.OK);
    s.forEach((want, j) => {
      const rel = Math.abs(got.values[j] - want) / want;
      // Building A in float64 perturbs s_j by ~n·ε·s₁, so the smallest keep ~1e-4 relative.
      assert(rel <= 1e-15 * rows * cols / want, `s[${j}] = ${got.values[j]}, want ${want}`);
    });
  }
});

Deno.test("prism_svd_jacobi_f64() handles empty, zero and non-finite input", () => {
  assertEquals(ex.prism_svd_jacobi_f64(0, 0, 5, 0, 0), STATUS.OK);
  const zero = jacobi(new Float64Array(12), 4, 3);
  assertEquals(Array.from(zero.values), [0, 0, 0]);
  const bad = Float64Array.from({ length: 12 }, (_, i) => (i === 7 ? NaN : i));
  assertEquals(jacobi(bad, 3, 4).status, STATUS.NON_FINITE);
});
