/**
 * Tests of the WASM matmul host `wasmMatmul()` and the `Gemm` runner (wasm/gemm.ts) against a
 * float64 reference, with sizes 0, 1 and primes up to 257, every transpose, chained products in
 * kernel memory, the worker split, and kernel-memory bookkeeping.
 */

import assert from "node:assert";
import { AbortedError } from "../core/errors.ts";
import type { Matrix } from "../core/types.ts";
import { GEMM_PARALLEL_FROM, wasmMatmul } from "../wasm/gemm.ts";
import { allocMatrix } from "../wasm/kernel_matrix.ts";
import { loadKernels } from "../wasm/loader.ts";
import { defaultPool, WorkerPool } from "../wasm/pool.ts";
import { randomMatrix } from "../synth/uniform.ts";

const kernels = await loadKernels();
const operation = "matmul()";
const SIZES = [0, 1, 7, 13, 257];

/** op(A)·op(B) in float64, and Σ|a||b| per entry (the scale of the f32 rounding error). */
function reference(a: Matrix, b: Matrix, transA: boolean, transB: boolean) {
  const [m, k] = transA ? [a.cols, a.rows] : [a.rows, a.cols];
  const n = transB ? b.rows : b.cols;
  const at = (i: number, p: number) => transA ? a.data[p * a.cols + i] : a.data[i * a.cols + p];
  const bt = (p: number, j: number) => transB ? b.data[j * b.cols + p] : b.data[p * b.cols + j];
  const c = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0, abs = 0;
      for (let p = 0; p < k; p++) {
        const v = at(i, p) * bt(p, j);
        s += v;
        abs += Math.abs(v);
      }
      c[i * n + j] = s;
      scale[i * n + j] = abs;
    }
  }
  return { c, scale, m, n, k };
}

function assertClose(got: Float32Array, want: ReturnType<typeof reference>, label: string) {
  assert.strictEqual(got.length, want.m * want.n, label);
  const tol = Math.max(1, want.k) * 2 ** -23;
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i] - want.c[i]);
    assert(err <= tol * want.scale[i] + 1e-30, `${label}: C[${i}] = ${got[i]}, want ${want.c[i]}`);
  }
}

Deno.test("wasmMatmul() matches float64 reference for sizes 0, 1, 7, 13, 257 and all transposes", async () => {
  let seed = 1;
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      for (const m of SIZES) {
        for (const n of SIZES) {
          for (const k of SIZES) {
            const a = transA
              ? randomMatrix(k, m, { seed: seed++ })
              : randomMatrix(m, k, { seed: seed++ });
            const b = transB
              ? randomMatrix(n, k, { seed: seed++ })
              : randomMatrix(k, n, { seed: seed++ });
            using c = await wasmMatmul({ a, b }, {
              transposeA: transA,
              transposeB: transB,
              operation,
            });
            assert.deepStrictEqual([c.rows, c.cols], [m, n]);
            assertClose(
              c.data,
              reference(a, b, transA, transB),
              `${m}x${n}x${k} ${transA} ${transB}`,
            );
          }
        }
      }
    }
  }
});

Deno.test("wasmMatmul() chains products in kernel memory without copying its inputs", async () => {
  const a = randomMatrix(512, 512, { seed: 5 });
  const b = randomMatrix(512, 8, { seed: 6 });
  using ka = await allocMatrix(512, 512);
  ka.data.set(a.data);
  const before = kernels.memory().inUseBytes;
  kernels.resetPeak();
  using c = await wasmMatmul({ a: ka, b }, { operation }); // A in place; B (16 KiB) copied
  // A copy of A would add 1 MiB to the peak; C, B and the scratch take about 100 KiB.
  const added = kernels.memory().peakBytes - before;
  assert(added < 512 * 1024, `peak grew by ${added} bytes: A was copied`);
  using d = await wasmMatmul({ a: c, b: c }, { transposeA: true, operation }); // Cᵀ·C, 8 x 8
  assertClose(c.data, reference(a, b, false, false), "A·B");
  assertClose(d.data, reference(c, c, true, false), "Cᵀ·C");
});

Deno.test("wasmMatmul() split across workers equals one thread bit for bit", async () => {
  const [m, n, k] = [1000, 67, 301];
  assert(m * n * k >= GEMM_PARALLEL_FROM);
  const a = randomMatrix(m, k, { seed: 8 });
  const bt = randomMatrix(n, k, { seed: 9 });
  const at = randomMatrix(k, m, { seed: 10 });
  const one = new WorkerPool({ size: 1 });
  const three = new WorkerPool({ size: 3 });
  try {
    for (const [x, transA] of [[a, false], [at, true]] as const) {
      using single = await wasmMatmul({ a: x, b: bt }, {
        transposeA: transA,
        transposeB: true,
        operation,
        pool: one,
      });
      using split = await wasmMatmul({ a: x, b: bt }, {
        transposeA: transA,
        transposeB: true,
        operation,
        pool: three,
      });
      assert.deepStrictEqual(split.data, single.data);
      assertClose(split.data, reference(x, bt, transA, true), `split transA=${transA}`);
    }
  } finally {
    one.close();
    three.close();
  }
});

Deno.test("wasmMatmul() leaks no kernel memory, also when it fails", async () => {
  const a = randomMatrix(300, 200, { seed: 11 });
  const b = randomMatrix(200, 100, { seed: 12 });
  (await wasmMatmul({ a, b }, { operation })).free(); // warm the pool (worker stacks)
  const before = kernels.memory().inUseBytes;
  const c = await wasmMatmul({ a, b }, { operation, pool: defaultPool() });
  const held = kernels.memory().inUseBytes - before;
  // Only C stays allocated (its 120,000 bytes, rounded up to the heap's 16-byte blocks).
  assert(held >= 300 * 100 * 4 && held < 300 * 100 * 4 + 64, `${held} bytes held after the call`);
  c.free();
  assert.strictEqual(kernels.memory().inUseBytes, before);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    wasmMatmul({ a, b }, { operation, signal: controller.signal }),
    (e) => e instanceof AbortedError && e.message.startsWith("matmul()"),
  );
  await assert.rejects(wasmMatmul({ a, b: a }, { operation }), /inner dimensions/);
  await assert.rejects(
    wasmMatmul({ a: { data: new Float32Array(3), rows: 2, cols: 2 }, b }, { operation }),
    TypeError,
  );
  assert.strictEqual(kernels.memory().inUseBytes, before);
});
