/**
 * Tests of the kernel-memory arena (wasm/arena.ts) and the WASM tensor storage
 * (wasm/storage.ts, wasm/kernel_matrix.ts): frees on throw, waits for pool jobs, views in place,
 * read, double free.
 */

import assert from "node:assert";
import { KernelArena } from "../wasm/arena.ts";
import { loadKernels } from "../wasm/loader.ts";
import { WorkerPool } from "../wasm/pool.ts";
import { kernelAddress, WasmStorage } from "../wasm/storage.ts";
import { allocMatrix, kernelMatrix } from "../wasm/kernel_matrix.ts";
import type { TensorStorage } from "../core/tensor_storage.ts";

const kernels = await loadKernels();
const TEST_WORKER = new URL("./_wasm_test_worker.ts", import.meta.url);

Deno.test("KernelArena frees every allocation when the block throws", () => {
  const before = kernels.memory().inUseBytes;
  assert.throws(() => {
    using arena = new KernelArena(kernels);
    arena.f32(1000);
    arena.f64(77, { zero: true });
    arena.copyIn(new Float32Array([1, 2, 3]));
    arena.bytes(0);
    assert(kernels.memory().inUseBytes > before);
    throw new RangeError("the caller failed");
  }, RangeError);
  assert.strictEqual(kernels.memory().inUseBytes, before);
});

Deno.test("KernelArena zeroes where asked and copies in exactly", () => {
  using arena = new KernelArena(kernels);
  // Dirty a block, free it, and take it again: without `zero` the old bytes could show.
  const dirty = kernels.alloc(4096);
  kernels.f32(dirty, 1024).fill(7);
  kernels.free(dirty);
  const z = arena.f64(512, { zero: true });
  assert(kernels.f64(z, 512).every((v) => v === 0));
  const p = arena.copyIn(new Float32Array([1.5, -2.5]));
  assert.deepStrictEqual([...kernels.f32(p, 2)], [1.5, -2.5]);
});

Deno.test("KernelArena with await using waits for tracked jobs before freeing", async () => {
  const pool = new WorkerPool({ size: 1, workerUrl: TEST_WORKER, idleMs: 60_000 });
  try {
    await pool.run("test_whoami", null); // the worker's stack is allocated before we measure
    const before = kernels.memory().inUseBytes;
    let settled = false;
    let ptr = 0;
    await assert.rejects(async () => {
      await using arena = new KernelArena(kernels);
      ptr = arena.f32(1, { zero: true });
      arena.track(pool.run("test_delay_write", { ptr, ms: 150 })).then(() => settled = true);
      assert.strictEqual(arena.pending, 1);
      throw new RangeError("the caller failed while the job still runs");
    }, RangeError);
    assert(settled, "disposal returned before the job it was told about finished");
    assert.strictEqual(kernels.memory().inUseBytes, before);
  } finally {
    pool.close();
  }
});

Deno.test("KernelArena sync dispose refuses to free memory a job may still write", async () => {
  const pool = new WorkerPool({ size: 1, workerUrl: TEST_WORKER });
  try {
    const arena = new KernelArena(kernels);
    const ptr = arena.f32(1);
    const job = arena.track(pool.run("test_delay_write", { ptr, ms: 50 }));
    assert.throws(() => arena[Symbol.dispose](), /await using/);
    await job;
    assert.strictEqual(arena.pending, 0);
    arena[Symbol.dispose](); // now it frees
  } finally {
    pool.close();
  }
});

Deno.test("WasmStorage views kernel memory in place, reads a copy, frees once", async () => {
  const before = kernels.memory().inUseBytes;
  const s: WasmStorage = WasmStorage.from(kernels, new Float32Array([1, 2, 3, 4]));
  const asTensor: TensorStorage = s;
  assert.strictEqual(asTensor.backend, "wasm");
  assert.strictEqual(s.length, 4);
  const v = s.view();
  assert.strictEqual(v.buffer, kernels.exports.memory.buffer);
  assert.strictEqual(kernelAddress(kernels, v), s.ptr);
  v[1] = 20; // a write through the view is what the kernels see
  assert.strictEqual(kernels.f32(s.ptr, 4)[1], 20);
  const copy = await s.read();
  assert(copy.buffer instanceof ArrayBuffer && copy.buffer !== v.buffer);
  assert.deepStrictEqual([...copy], [1, 20, 3, 4]);
  copy[0] = 99;
  assert.strictEqual(s.view()[0], 1);
  s.free();
  s.free(); // idempotent: a second free must not trap the heap
  assert(s.freed);
  assert.strictEqual(kernels.memory().inUseBytes, before);
  assert.throws(() => s.view(), /was freed/);
  await assert.rejects(s.read(), /was freed/);
  assert.strictEqual(kernelAddress(kernels, v), v.byteOffset, "a freed view is no longer known");
});

Deno.test("WasmStorage starts zeroed, validates, and keeps its address after memory grows", () => {
  using s = new WasmStorage(kernels, 300);
  assert(s.view().every((x) => x === 0));
  s.view().fill(3);
  const old = s.view();
  const grow = kernels.alloc(32 * 2 ** 20);
  try {
    // A view from before the growth is still found, and still sees the values.
    assert.strictEqual(kernelAddress(kernels, old), s.ptr);
    assert.strictEqual(s.view().buffer, kernels.exports.memory.buffer);
    assert.strictEqual(old[299], 3);
  } finally {
    kernels.free(grow);
  }
  assert.throws(() => new WasmStorage(kernels, -1), RangeError);
  assert.throws(() => new WasmStorage(kernels, 1.5), TypeError);
  assert.throws(() => WasmStorage.from(kernels, [1] as unknown as Float32Array), TypeError);
});

Deno.test("allocMatrix() and kernelMatrix() wrap storage and free it", async () => {
  const before = kernels.memory().inUseBytes;
  {
    using m = await allocMatrix(3, 5);
    assert.strictEqual(m.ptr, m.storage.ptr);
    assert.strictEqual(kernelAddress(kernels, m.data), m.ptr);
    assert(m.data.every((x) => x === 0));
    m.free(); // free() then dispose: the second is a no-op
    using spare = new WasmStorage(kernels, 4);
    assert.throws(() => kernelMatrix(spare, { rows: 2, cols: 3 }), TypeError);
    using wrapped = kernelMatrix(new WasmStorage(kernels, 6), { rows: 2, cols: 3 });
    assert.strictEqual(wrapped.data.length, 6);
  }
  assert.strictEqual(kernels.memory().inUseBytes, before);
});
