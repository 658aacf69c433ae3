/**
 * Tests of the Gram engine `gram()` (ops/gram.ts) on WASM: both sides, shifts, kernel-memory
 * input, worker splits, against float64 references (tests/_covariance_helpers.ts).
 */

import { deepStrictEqual, ok, rejects } from "node:assert";
import { AbortedError } from "../core/errors.ts";
import { gram } from "../ops/gram.ts";
import { allocMatrix } from "../wasm/kernel_matrix.ts";
import { kernelAddress } from "../wasm/storage.ts";
import { loadKernels } from "../wasm/loader.ts";
import { WorkerPool } from "../wasm/pool.ts";
import {
  ROWS_PARALLEL_FROM,
  wasmGram,
  wasmGramInKernel,
  wasmGramRows,
  wasmSyrk,
} from "../wasm/gram.ts";
import { KernelArena } from "../wasm/arena.ts";
import { matrix, random, referenceGram, relError, transpose } from "./_covariance_helpers.ts";

const wasm = { backend: "wasm" } as const;
const operation = "gram()";

Deno.test("gram() side columns matches float64 AᵀA with and without a shift", async () => {
  const next = random(11);
  // 600 x 580: split, and wide enough that the plain array is copied in whole, not staged.
  for (const [rows, cols] of [[0, 3], [1, 1], [7, 13], [257, 67], [30_011, 50], [600, 580]]) {
    const m = matrix(rows, cols, () => next() * 2 - 1 + 3);
    const shift = Float32Array.from({ length: cols }, () => 3 + next() * 0.1);
    for (const s of [undefined, shift]) {
      const g = await gram(m, { ...wasm, shift: s });
      deepStrictEqual([g.n, g.count, g.backend], [cols, rows, "wasm"]);
      ok(relError(g.gram, referenceGram(m, s)) < 1e-6, `${rows}x${cols}`);
      const sum = new Float64Array(cols);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) sum[c] += m.data[r * cols + c] - (s?.[c] ?? 0);
      }
      ok(relError(g.sum!, sum) < 1e-6);
      // Full symmetric.
      for (let i = 0; i < cols; i++) {
        for (let j = 0; j < i; j++) deepStrictEqual(g.gram[i * cols + j], g.gram[j * cols + i]);
      }
    }
  }
});

Deno.test("gram() side rows matches float64 AAᵀ for wide matrices", async () => {
  const next = random(12);
  for (const [rows, cols] of [[1, 5], [3, 1], [13, 129], [37, 3001], [130, 20_000]]) {
    const m = matrix(rows, cols, () => next() * 2 - 1);
    const g = await gram(m, { ...wasm, side: "rows" });
    deepStrictEqual([g.n, g.count, g.sum], [rows, cols, undefined]);
    ok(relError(g.gram, referenceGram(transpose(m))) < 1e-6, `${rows}x${cols}`);
  }
});

Deno.test("gram() splits across workers in cuts that give the single-thread blocks", async () => {
  const next = random(13);
  const m = matrix(50_000, 40, () => next() - 0.5);
  const shift = new Float32Array(40);
  const pool = new WorkerPool({ size: 3 });
  try {
    const single = await wasmSyrk(m, { shift, operation, pool: new WorkerPool({ size: 1 }) });
    const split = await wasmSyrk(m, { shift, operation, pool });
    ok(relError(split.gram, single.gram) < 1e-13);
    // 100,003 x 64 (a prime row count, 25.6 MB): too large to copy in at once, so a plain
    // array is staged in 4 MiB chunks (16,384 rows: 7 chunks through 6 stages, reused), and a
    // kernel-memory one is split in place; both sum the single thread's float32 blocks.
    const tall = matrix(100_003, 64, () => next() + 1000);
    const shift64 = new Float32Array(64).fill(1000.5);
    const one = await wasmSyrk(tall, {
      shift: shift64,
      operation,
      pool: new WorkerPool({ size: 1 }),
    });
    const staged = await wasmSyrk(tall, { shift: shift64, operation, pool });
    using km = await allocMatrix(tall.rows, tall.cols);
    km.data.set(tall.data);
    const inPlace = await wasmSyrk(km, { shift: shift64, operation, pool });
    for (const [label, r] of [["staged", staged], ["in place", inPlace]] as const) {
      ok(relError(r.gram, one.gram) < 1e-13, `${label} gram: ${relError(r.gram, one.gram)}`);
      ok(relError(r.sum, one.sum) < 1e-13, `${label} sum: ${relError(r.sum, one.sum)}`);
    }
    const upper = (g: Float64Array) => g.map((v, k) => (k % 64 >= Math.floor(k / 64) ? v : 0));
    const err = relError(upper(staged.gram), upper(referenceGram(tall, shift64)));
    ok(err < 1e-6, `staged gram against float64: ${err}`);
    // 64 x 8,209 (a prime column count): past ROWS_PARALLEL_FROM, so AAᵀ is split by columns.
    const w = matrix(64, 8_209, () => next() - 0.5);
    ok(w.cols * w.rows ** 2 / 2 >= ROWS_PARALLEL_FROM, "the wide Gram must be split");
    const rows1 = await wasmGramRows(w, { operation, pool: new WorkerPool({ size: 1 }) });
    const rows3 = await wasmGramRows(w, { operation, pool });
    ok(relError(rows3.gram, rows1.gram) < 1e-13);
    ok(
      relError(
        rows3.gram.map((v, k) => (k % 64 >= Math.floor(k / 64) ? v : 0)),
        referenceGram(transpose(w)).map((v, k) => (k % 64 >= Math.floor(k / 64) ? v : 0)),
      ) < 1e-6,
    );
  } finally {
    pool.close();
  }
});

Deno.test("wasmSyrk()'s claimed pieces give the same bits whichever thread ran them", async () => {
  const next = random(17);
  using km = await allocMatrix(20_480, 100); // 8 pieces of 2,560 rows on a pool of 2
  km.data.set(matrix(km.rows, km.cols, () => next() + 100).data);
  const shift = new Float32Array(km.cols).fill(100.5);
  const pool = new WorkerPool({ size: 2 });
  const kernels = await loadKernels();
  await using arena = new KernelArena(kernels);
  try {
    const idle = await wasmSyrk(km, { shift, operation, pool });
    // One worker held by a job as long as the call: this thread and the other worker claim the
    // pieces (102 M multiply-adds: this thread computes beside the workers, INLINE_SHARE_MAX).
    const { rows, cols } = km;
    const blocker = pool.run("gram_syrk_range", {
      x: km.ptr,
      rows,
      cols,
      shift: arena.copyIn(shift),
      sum: arena.f64(cols, { zero: true }),
      gram: arena.f64(cols * cols, { zero: true }),
      scratch: arena.bytes(kernels.exports.prism_syrk_scratch_len(cols) * 4),
    });
    const busy = await wasmSyrk(km, { shift, operation, pool });
    // A plain array: copied in a piece at a time while the pieces are claimed.
    const plain = { data: km.data.slice(), rows, cols };
    const plainBusy = await wasmSyrk(plain, { shift, operation, pool });
    await blocker;
    const plainIdle = await wasmSyrk(plain, { shift, operation, pool });
    for (const r of [busy, plainBusy, plainIdle]) {
      deepStrictEqual([...r.gram], [...idle.gram]);
      deepStrictEqual([...r.sum], [...idle.sum]);
    }
    const upper = (g: Float64Array) => g.map((v, k) => (k % 100 >= Math.floor(k / 100) ? v : 0));
    ok(relError(upper(idle.gram), upper(referenceGram(km, shift))) < 1e-6);
    await rejects(
      pool.run("gram_syrk_claims", {
        x: 0,
        cols: 1,
        shift: 0,
        counter: 0,
        scratch: 0,
        pieces: [1],
      }),
      TypeError,
    );
  } finally {
    pool.close();
  }
});

Deno.test("gram() reads kernel-memory matrices in place, also after the memory grew", async () => {
  const next = random(14);
  const kernels = await loadKernels();
  using km = await allocMatrix(20_000, 30);
  for (let i = 0; i < km.data.length; i++) km.data[i] = next();
  const plain = { data: km.data.slice(), rows: km.rows, cols: km.cols };
  deepStrictEqual(kernelAddress(kernels, km.data), km.ptr);
  deepStrictEqual(kernelAddress(kernels, plain.data), undefined);
  // Grow the memory: the shared buffer is not detached, the old view still sees the data.
  const grow = kernels.alloc(64 * 2 ** 20);
  try {
    ok(km.data.buffer !== kernels.exports.memory.buffer);
    deepStrictEqual(kernelAddress(kernels, km.data), km.ptr);
    const inPlace = await gram(km, wasm);
    const copied = await gram(plain, wasm);
    deepStrictEqual(inPlace.gram, copied.gram);
    ok(relError(inPlace.gram, referenceGram(plain)) < 1e-6);
  } finally {
    kernels.free(grow);
  }
  const inUse = kernels.memory().inUseBytes;
  await gram(plain, wasm);
  deepStrictEqual(kernels.memory().inUseBytes, inUse, "gram() leaks kernel memory");
});

Deno.test("gram() rejects malformed input and aborts", async () => {
  const m = matrix(4, 3, () => 1);
  await rejects(() => gram({ data: new Float32Array(5), rows: 2, cols: 3 }), TypeError);
  await rejects(() => gram(m, { ...wasm, shift: new Float32Array(2) }), TypeError);
  await rejects(() => gram(m, { ...wasm, side: "rows", shift: new Float32Array(3) }), TypeError);
  await rejects(() => gram(m, { ...wasm, side: "diagonal" as "rows" }), TypeError);
  await rejects(() => gram(m, { backend: "cuda" as "wasm" }), RangeError);
  const controller = new AbortController();
  controller.abort();
  await rejects(() => gram(m, { ...wasm, signal: controller.signal }), AbortedError);
  await rejects(() => allocMatrix(-1, 2), RangeError);
  await rejects(() => allocMatrix(2 ** 16, 2 ** 15), RangeError);
});

Deno.test("wasmGramInKernel() leaves wasmGram's upper triangle in kernel memory, split or not", async () => {
  const next = random(15);
  const kernels = await loadKernels();
  const pool = new WorkerPool({ size: 2 });
  try {
    // Small (one thread) and past both split thresholds; wide ones through the plain-array
    // blocks and, from kernel memory, through the workers' staging.
    for (const [rows, cols] of [[5, 3], [3, 5], [20_011, 61], [64, 8_209]]) {
      const m = matrix(rows, cols, () => next() - 0.5);
      const side = rows >= cols ? "columns" : "rows";
      const n = Math.min(rows, cols);
      const expected = (await wasmGram(m, { side, operation, pool })).gram;
      using km = await allocMatrix(rows, cols);
      km.data.set(m.data);
      for (const input of [m, km]) {
        using arena = new KernelArena(kernels);
        const g = kernels.f64(
          await wasmGramInKernel(arena, input, { side, operation, pool }),
          n * n,
        );
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            deepStrictEqual(
              g[i * n + j],
              j >= i ? expected[i * n + j] : 0,
              `${rows}x${cols} ${i},${j}`,
            );
          }
        }
      }
    }
    const empty = { data: new Float32Array(0), rows: 0, cols: 4 };
    using arena = new KernelArena(kernels);
    await rejects(wasmGramInKernel(arena, empty, { operation }), /at least 1 x 1, got 0 x 4/);
  } finally {
    pool.close();
  }
});
