import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { loadKernels } from "../wasm/loader.ts";
import { sgemm } from "../wasm/gemm.ts";
import { uniform } from "../synth/uniform.ts";

const kernels = await loadKernels();
const gemm = kernels.exports;

interface Case {
  ta: boolean;
  tb: boolean;
  m: number;
  n: number;
  k: number;
  alpha?: number;
  beta?: number;
  padA?: number;
  padB?: number;
  padC?: number;
  a?: Float32Array;
  b?: Float32Array;
  c?: Float32Array;
}

const rand = uniform(12345, { lo: -0.5, hi: 0.5 });
function fill(n: number): Float32Array {
  return Float32Array.from({ length: n }, rand);
}

/** Runs the kernel and compares with a float64 reference; returns C. */
function check(t: Case): Float32Array {
  const { ta, tb, m, n, k, alpha = 1, beta = 0, padA = 0, padB = 0, padC = 0 } = t;
  const [aRows, aCols] = ta ? [k, m] : [m, k];
  const [bRows, bCols] = tb ? [n, k] : [k, n];
  const lda = aCols + padA, ldb = bCols + padB, ldc = n + padC;
  const a = t.a ?? fill(aRows * lda), b = t.b ?? fill(bRows * ldb), c0 = t.c ?? fill(m * ldc);
  const pa = kernels.copyIn(a.length ? a : new Float32Array(1));
  const pb = kernels.copyIn(b.length ? b : new Float32Array(1));
  const pc = kernels.copyIn(c0.length ? c0 : new Float32Array(1));
  const ps = kernels.alloc(4 * gemm.prism_sgemm_scratch_len(m, n, k));
  try {
    // Throws KernelError on a non-zero status.
    sgemm(kernels, {
      transA: ta,
      transB: tb,
      m,
      n,
      k,
      alpha,
      a: pa,
      lda,
      b: pb,
      ldb,
      beta,
      c: pc,
      ldc,
      scratch: ps,
    });
    const c = kernels.f32(pc, c0.length).slice();
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < ldc; j++) {
        if (j >= n) {
          assert(Object.is(c[i * ldc + j], c0[i * ldc + j]), `padding of C changed at ${i},${j}`);
          continue;
        }
        let s = 0, abs = 0;
        for (let p = 0; p < k; p++) {
          const x = (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
          s += x;
          abs += Math.abs(x);
        }
        const old = beta === 0 ? 0 : beta * c0[i * ldc + j];
        const want = alpha * s + old;
        const tol = 4 * (k + 2) * 2 ** -24 * (Math.abs(alpha) * abs + Math.abs(old)) + 1e-30;
        const got = c[i * ldc + j];
        assert(
          Math.abs(got - want) <= tol,
          `C[${i},${j}] = ${got}, want ${want} (tol ${tol}) for ${
            JSON.stringify({ ...t, a: 0, b: 0, c: 0 })
          }`,
        );
      }
    }
    return c;
  } finally {
    for (const p of [pa, pb, pc, ps]) kernels.free(p);
  }
}

const FLAGS = [[false, false], [false, true], [true, false], [true, true]] as const;
const SIZES = [0, 1, 2, 3, 7, 17, 257];

Deno.test("prism_sgemm() times the identity returns A exactly", () => {
  const n = 17;
  const eye = new Float32Array(n * n);
  for (let i = 0; i < n; i++) eye[i * n + i] = 1;
  const a = fill(n * n);
  const c = check({ ta: false, tb: false, m: n, n, k: n, a, b: eye });
  assertEquals(c, a);
  assertEquals(check({ ta: false, tb: false, m: n, n, k: n, a: eye, b: a }), a);
});

Deno.test("prism_sgemm() with zero operands gives zeros and beta = 0 ignores NaN in C", () => {
  const c = check({ ta: false, tb: false, m: 7, n: 9, k: 5, a: new Float32Array(35) });
  assert(c.every((v) => v === 0));
  const nan = new Float32Array(7 * 9).fill(NaN);
  assert(check({ ta: true, tb: false, m: 7, n: 9, k: 5, c: nan }).every(Number.isFinite));
});

Deno.test("prism_sgemm() matches float64 reference for all transposes and sizes 0..257", () => {
  for (const [ta, tb] of FLAGS) {
    for (const s of SIZES) {
      check({ ta, tb, m: s, n: 13, k: 5 });
      check({ ta, tb, m: 6, n: s, k: 11 });
      check({ ta, tb, m: 9, n: 10, k: s });
    }
    check({ ta, tb, m: 257, n: 257, k: 257 });
    check({ ta, tb, m: 67, n: 1031, k: 300 }); // crosses MC, NC and KC block edges
  }
});

Deno.test("prism_sgemm() applies alpha and beta", () => {
  for (const [ta, tb] of FLAGS) {
    for (const [alpha, beta] of [[2, 0], [-0.5, 1], [1.5, -3], [0, 2], [0, 0]]) {
      check({ ta, tb, m: 17, n: 19, k: 23, alpha, beta });
    }
  }
  // k = 0 leaves beta * C.
  check({ ta: false, tb: false, m: 3, n: 4, k: 0, alpha: 1, beta: 0.5 });
});

Deno.test("prism_sgemm() honours leading dimensions larger than the row", () => {
  for (const [ta, tb] of FLAGS) {
    check({ ta, tb, m: 7, n: 17, k: 13, padA: 3, padB: 5, padC: 2, beta: 1 });
    check({ ta, tb, m: 64, n: 10, k: 128, padA: 1, padB: 1, padC: 1 });
  }
});

Deno.test("prism_sgemm() rejects bad flags and short leading dimensions with status 1", () => {
  const p = kernels.alloc(64);
  try {
    assertEquals(gemm.prism_sgemm(2, 0, 2, 2, 2, 1, p, 2, p, 2, 0, p, 2, p), 1);
    assertEquals(gemm.prism_sgemm(0, 0, 2, 2, 3, 1, p, 2, p, 2, 0, p, 2, p), 1); // lda < k
    assertEquals(gemm.prism_sgemm(0, 1, 2, 3, 2, 1, p, 2, p, 1, 0, p, 3, p), 1); // ldb < k
    assertEquals(gemm.prism_sgemm(0, 0, 2, 3, 2, 1, p, 2, p, 3, 0, p, 2, p), 1); // ldc < n
    assertEquals(gemm.prism_sgemm(0, 0, 2, 2, 2, 1, p, 2, p, 2, 0, 0, 2, p), 1); // null C
  } finally {
    kernels.free(p);
  }
});

Deno.test("prism_sgemm_scratch_len() is zero for empty products and covers the blocks", () => {
  assertEquals(gemm.prism_sgemm_scratch_len(0, 5, 5), 0);
  // A block: round_up(min(m, 64), 4) * min(k, 256); B block: round_up(min(n, 1024), 8) * min(k, 256).
  assertEquals(gemm.prism_sgemm_scratch_len(3, 3, 3), 4 * 3 + 8 * 3);
  assertEquals(gemm.prism_sgemm_scratch_len(1000, 2000, 1000), 64 * 256 + 1024 * 256);
});
