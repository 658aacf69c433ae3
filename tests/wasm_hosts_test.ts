/**
 * Every WASM host gives kernel memory back: `kernels.memory().inUseBytes` returns to where it was
 * after each call, on every path (one thread, split over workers in place, staged copies) and
 * when the call fails (abort between chunks, non-finite data in a kernel).
 */

import assert from "node:assert";
import { AbortedError, InvalidDataError } from "../core/errors.ts";
import { columnSums } from "../wasm/column_sums.ts";
import { jacobiSingularValues, symmetricEigen } from "../wasm/eigen.ts";
import { ROWS_PARALLEL_FROM, wasmGramRows, wasmSyrk } from "../wasm/gram.ts";
import { allocMatrix } from "../wasm/kernel_matrix.ts";
import { loadKernels } from "../wasm/loader.ts";
import { WorkerPool } from "../wasm/pool.ts";
import { wasmRxScores } from "../wasm/rx_score.ts";
import { randomMatrix } from "../synth/uniform.ts";

const kernels = await loadKernels();
const operation = "test()";

/** Runs `fn` and asserts that kernel memory in use is the same afterwards, also on a throw. */
async function noLeak(label: string, fn: () => Promise<unknown>): Promise<void> {
  const before = kernels.memory().inUseBytes;
  try {
    await fn();
  } finally {
    assert.strictEqual(kernels.memory().inUseBytes, before, `${label} leaks kernel memory`);
  }
}

Deno.test("WASM hosts leak no kernel memory on any path", async () => {
  const pool = new WorkerPool({ size: 2, idleMs: 60_000 });
  try {
    // Worker stacks come from the shared heap when the pool starts: start both before measuring
    // (a plain array past 16 MiB is staged over both workers).
    await wasmSyrk(randomMatrix(70_000, 64, { seed: 1 }), { operation, pool });
    // 5 M multiply-adds: split between this thread and a worker (INLINE_SHARE_MAX).
    const tall = randomMatrix(40_000, 16, { seed: 2 });
    // 17.9 MB, past the 16 MiB copied in at once: staged copies over both workers.
    const taller = randomMatrix(70_000, 64, { seed: 2 });
    const small = randomMatrix(50, 6, { seed: 3 });
    // 16.8 M multiply-adds: AAᵀ split by columns over both workers (ROWS_PARALLEL_FROM).
    const wide = randomMatrix(64, 8_209, { seed: 4 });
    assert(wide.cols * wide.rows ** 2 / 2 >= ROWS_PARALLEL_FROM);
    await noLeak("wasmSyrk (one thread)", () => wasmSyrk(small, { operation, pool }));
    await noLeak("wasmSyrk (split inline)", () => wasmSyrk(tall, { operation, pool }));
    await noLeak("wasmSyrk (staged)", () => wasmSyrk(taller, { operation, pool }));
    using km = await allocMatrix(tall.rows, tall.cols);
    km.data.set(tall.data);
    await noLeak("wasmSyrk (in place)", () => wasmSyrk(km, { operation, pool }));
    await noLeak("wasmGramRows (one thread)", () => wasmGramRows(small, { operation, pool }));
    await noLeak("wasmGramRows (split)", () => wasmGramRows(wide, { operation, pool }));
    const rx = { mean: new Float64Array(16), w: new Float64Array(16 * 3).fill(0.5), rank: 3 };
    await noLeak(
      "wasmRxScores (staged)",
      () => wasmRxScores(tall, { ...rx, operation, pool }),
    );
    await noLeak(
      "wasmRxScores (in place)",
      () => wasmRxScores(km, { ...rx, operation, pool }),
    );
    const done: number[] = [];
    const many = randomMatrix(300_000, 16, { seed: 7 }); // 3 chunks of 131,072 rows
    await wasmRxScores(many, { ...rx, operation, pool, onProgress: (p) => done.push(p.done) });
    assert.deepStrictEqual(done, [131_072, 262_144, 300_000]);
    const sym = { data: new Float64Array([2, 1, 1, 2]), n: 2 };
    await noLeak("symmetricEigen", () => symmetricEigen(sym, { vectors: true }));
    await noLeak("jacobiSingularValues", () => jacobiSingularValues(small));
    await noLeak("columnSums", () => Promise.resolve(columnSums(kernels, small)));
  } finally {
    pool.close();
  }
});

Deno.test("WASM hosts free their memory when they fail", async () => {
  const pool = new WorkerPool({ size: 2, idleMs: 60_000 });
  try {
    await wasmSyrk(randomMatrix(70_000, 64, { seed: 5 }), { operation, pool }); // both workers
    // Several staging chunks (4 MiB each): abort from the first progress report, between chunks.
    const big = randomMatrix(300_000, 16, { seed: 6 });
    const wide = randomMatrix(100_000, 64, { seed: 6 });
    const controller = new AbortController();
    await noLeak("wasmSyrk aborted between chunks", () =>
      assert.rejects(
        wasmSyrk(wide, {
          operation: "covariance()",
          pool,
          signal: controller.signal,
          onProgress: () => controller.abort(),
        }),
        (e) => e instanceof AbortedError && e.message.startsWith("covariance()"),
      ));
    const aborted = AbortSignal.abort();
    const rx = { mean: new Float64Array(16), w: new Float64Array(16), rank: 1 };
    await noLeak("wasmRxScores aborted", () =>
      assert.rejects(
        wasmRxScores(big, { ...rx, operation: "RxDetector.score()", pool, signal: aborted }),
        /RxDetector\.score\(\) was aborted/,
      ));
    const nan = { data: new Float64Array([1, NaN, NaN, 1]), n: 2 };
    await noLeak(
      "symmetricEigen on NaN",
      () => assert.rejects(symmetricEigen(nan), InvalidDataError),
    );
    const bad = { data: new Float32Array([1, Infinity, 2, 3]), rows: 2, cols: 2 };
    await noLeak(
      "jacobiSingularValues on Infinity",
      () => assert.rejects(jacobiSingularValues(bad), InvalidDataError),
    );
  } finally {
    pool.close();
  }
});
