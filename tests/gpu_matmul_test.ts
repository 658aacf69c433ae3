/**
 * `gpuMatmul()` on WebGPU (the software adapter in CI) against a float64 reference, on odd sizes
 * and every transpose. Skipped, with the reason printed, when there is no adapter.
 */

import { deepEqual, ok, rejects } from "node:assert/strict";
import type { Matrix } from "../core/types.ts";
import { getGpu, gpuStatus, releaseGpu } from "../gpu/device.ts";
import { gpuMatmul } from "../gpu/matmul.ts";
import { GpuStorage } from "../gpu/storage.ts";
import { randomMatrix } from "../synth/uniform.ts";

const status = await gpuStatus();
await releaseGpu();
const ignore = !status.available;
if (!status.available) console.log(`GPU matmul tests skipped: ${status.reason}`);
const operation = "gpuMatmul test";

/**
 * op(A)·op(B) in float64, with Σ|a||b| per entry: f32 summation of k products is within
 * (k + 1)·2⁻²⁴·Σ|a||b| of the exact sum, while a wrong index is off by a whole term.
 */
function reference(a: Matrix, b: Matrix, transposeA: boolean, transposeB: boolean) {
  const [m, k] = transposeA ? [a.cols, a.rows] : [a.rows, a.cols];
  const n = transposeB ? b.rows : b.cols;
  const at = (i: number, p: number) => transposeA ? a.data[p * m + i] : a.data[i * k + p];
  const bt = (p: number, j: number) => transposeB ? b.data[j * k + p] : b.data[p * n + j];
  const c = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      for (let p = 0; p < k; p++) {
        c[i * n + j] += at(i, p) * bt(p, j);
        scale[i * n + j] += Math.abs(at(i, p) * bt(p, j));
      }
    }
  }
  return { c, scale, m, n };
}

Deno.test("gpuMatmul() matches float64 reference on sizes 0, 1, 7, 13 and 257, all transposes", {
  ignore,
}, async () => {
  try {
    const sizes = [[1, 1, 1], [7, 13, 1], [13, 7, 257], [257, 13, 7], [1, 257, 13], [7, 7, 7]];
    let seed = 1;
    for (const [m, k, n] of sizes) {
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          const a = transposeA
            ? randomMatrix(k, m, { seed: seed++ })
            : randomMatrix(m, k, { seed: seed++ });
          const b = transposeB
            ? randomMatrix(n, k, { seed: seed++ })
            : randomMatrix(k, n, { seed: seed++ });
          const ref = reference(a, b, transposeA, transposeB);
          const c = await gpuMatmul({ a, b }, { operation, transposeA, transposeB });
          deepEqual([c.rows, c.cols], [m, n]);
          const got = await c.storage.read();
          c.storage.free();
          for (let i = 0; i < got.length; i++) {
            ok(
              Math.abs(got[i] - ref.c[i]) <= (k + 1) * 2 ** -24 * ref.scale[i],
              `${m}x${k}x${n} tA=${transposeA} tB=${transposeB} at ${i}: ${got[i]} vs ${ref.c[i]}`,
            );
          }
        }
      }
    }
    deepEqual((await getGpu()).pool.stats().inUseBytes, 0);
  } finally {
    await releaseGpu();
  }
});

Deno.test("gpuMatmul() gives an empty result for 0 rows or columns and zeros for k = 0", {
  ignore,
}, async () => {
  try {
    const empty = await gpuMatmul({
      a: randomMatrix(0, 7, { seed: 1 }),
      b: randomMatrix(7, 13, { seed: 2 }),
    }, { operation });
    deepEqual([empty.rows, empty.cols, (await empty.storage.read()).length], [0, 13, 0]);
    empty.storage.free();
    const none = await gpuMatmul({
      a: randomMatrix(5, 3, { seed: 1 }),
      b: randomMatrix(3, 0, { seed: 2 }),
    }, {
      operation,
    });
    deepEqual([none.rows, none.cols, none.storage.length], [5, 0, 0]);
    none.storage.free();
    // Pooled buffers are not zeroed: fill one with garbage first so k = 0 must clear it.
    const gpu = await getGpu();
    GpuStorage.fromArray(gpu, new Float32Array(64).fill(7)).free();
    const zeros = await gpuMatmul({
      a: randomMatrix(4, 0, { seed: 1 }),
      b: randomMatrix(0, 4, { seed: 2 }),
    }, { operation });
    deepEqual(Array.from(await zeros.storage.read()), new Array(16).fill(0));
    zeros.storage.free();
  } finally {
    await releaseGpu();
  }
});

Deno.test("gpuMatmul() rejects mismatched shapes, freed inputs and aborted signals", {
  ignore,
}, async () => {
  try {
    const a = randomMatrix(3, 4, { seed: 1 });
    await rejects(
      () => gpuMatmul({ a: a, b: randomMatrix(3, 4, { seed: 2 }) }, { operation }),
      /inner dimensions/,
    );
    const gpu = await getGpu();
    const storage = GpuStorage.fromArray(gpu, a.data);
    storage.free();
    await rejects(
      () => gpuMatmul({ a: { storage, rows: 3, cols: 4 }, b: a }, { operation }),
      TypeError,
    );
    const controller = new AbortController();
    controller.abort();
    await rejects(
      () => gpuMatmul({ a: a, b: a }, { operation, transposeB: true, signal: controller.signal }),
      /gpuMatmul test/,
    );
    deepEqual(gpu.pool.stats().inUseBytes, 0);
  } finally {
    await releaseGpu();
  }
});
