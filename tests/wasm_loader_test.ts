import assert from "node:assert/strict";
import { InvalidDataError, KernelError, OutOfMemoryError, WasmLoadError } from "../core/errors.ts";
import { instantiateKernels } from "../wasm/kernels.ts";
import {
  ABI_VERSION,
  defaultVariant,
  type Kernels,
  loadKernels,
  loadModule,
  wasmSimdSupported,
} from "../wasm/loader.ts";
import { STATUS } from "../wasm/_status.ts";
import { Rng } from "../synth/rng.ts";

/** The build a load without a URL picks (`PRISM_WASM=simd` runs these tests on the plain one). */
const WASM = defaultVariant().url;

/** A fresh instance, so heap accounting is not shared with other tests. */
async function freshKernels(): Promise<Kernels> {
  return await instantiateKernels(await loadModule(), "prism.wasm");
}

/** A module whose only export, `prism_abi_version`, returns 999 (hand-assembled). */
const ABI_999 = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00,
  0x01,
  0x05,
  0x01,
  0x60,
  0x00,
  0x01,
  0x7f, // type: () -> i32
  0x03,
  0x02,
  0x01,
  0x00, // one function of type 0
  0x07,
  0x15,
  0x01,
  0x11,
  ...new TextEncoder().encode("prism_abi_version"),
  0x00,
  0x00,
  0x0a,
  0x07,
  0x01,
  0x05,
  0x00,
  0x41,
  0xe7,
  0x07,
  0x0b, // i32.const 999; end
]);

async function withTempFile(
  bytes: Uint8Array,
  fn: (path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "prism-loader-test-" });
  const path = `${dir}/module.wasm`;
  try {
    await Deno.writeFile(path, bytes);
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadKernels() rejects a module with another ABI version, naming file and versions", async () => {
  assert.ok(WebAssembly.validate(ABI_999), "the hand-assembled module must be valid");
  await withTempFile(ABI_999, async (path) => {
    await assert.rejects(loadKernels({ url: path }), (e: Error) => {
      assert.ok(e instanceof WasmLoadError);
      assert.equal(e.file, path);
      assert.match(e.message, new RegExp(path.replaceAll(".", "\\.")));
      assert.match(e.message, /ABI version 999/);
      assert.match(e.message, new RegExp(`expects ABI version ${ABI_VERSION}`));
      return true;
    });
  });
});

Deno.test("loadKernels() rejects a corrupt file with WasmLoadError naming it, and retries later", async () => {
  const good = await Deno.readFile(WASM);
  await withTempFile(good.subarray(0, good.length >> 1), async (path) => {
    await assert.rejects(loadKernels({ url: path }), (e: Error) => {
      assert.ok(e instanceof WasmLoadError);
      assert.equal(e.file, path);
      assert.match(e.message, /not a valid WebAssembly module/);
      return true;
    });
    // The failure is not cached: once the file is repaired the same URL loads.
    await Deno.writeFile(path, good);
    const kernels = await loadKernels({ url: path });
    assert.equal(kernels.exports.prism_abi_version(), ABI_VERSION);
  });
});

Deno.test("loadKernels() rejects a missing file and a module without prism_abi_version", async () => {
  await assert.rejects(
    loadKernels({ url: "/nonexistent/prism.wasm" }),
    (e: Error) => e instanceof WasmLoadError && /cannot read it/.test(e.message),
  );
  const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  await withTempFile(empty, async (path) => {
    await assert.rejects(loadKernels({ url: path }), /no prism_abi_version export/);
  });
  await assert.rejects(loadKernels({ url: 42 as unknown as string }), TypeError);
});

Deno.test("loadKernels() returns one shared instance per URL", async () => {
  const a = await loadKernels();
  const b = await loadKernels({ url: WASM });
  assert.equal(a, b);
  assert.equal(await loadModule(), await loadModule({ url: WASM.href }));
});

Deno.test("wasmSimdSupported() is true on Deno's V8", () => {
  assert.equal(wasmSimdSupported(), true);
});

Deno.test("alloc() returns aligned, disjoint blocks and counts in-use and peak bytes", async () => {
  const k = await freshKernels();
  assert.deepEqual(k.memory().inUseBytes, 0);
  const sizes = [0, 0, 1, 7, 16, 100, 4096, 65537];
  const ptrs = sizes.map((n) => k.alloc(n));
  assert.equal(new Set(ptrs).size, ptrs.length, "alloc(0) too must give distinct pointers");
  for (const p of ptrs) assert.equal(p % 16, 0, `pointer ${p} is not 16-byte aligned`);
  const total = sizes.reduce((a, b) => a + b, 0);
  assert.equal(k.memory().inUseBytes, total);
  // Fill every block with its own byte and check nothing overlapped.
  const bytes = () => new Uint8Array(k.exports.memory.buffer);
  ptrs.forEach((p, i) => bytes().fill(i + 1, p, p + sizes[i]));
  ptrs.forEach((p, i) => {
    for (let j = 0; j < sizes[i]; j++) assert.equal(bytes()[p + j], i + 1);
  });
  k.free(ptrs[5]);
  assert.equal(k.memory().inUseBytes, total - 100);
  assert.equal(k.memory().peakBytes, total);
  k.resetPeak();
  assert.equal(k.memory().peakBytes, total - 100);
  for (const [i, p] of ptrs.entries()) if (i !== 5) k.free(p);
  assert.equal(k.memory().inUseBytes, 0);
  k.free(0); // null is ignored
});

Deno.test("free() of the same pointer twice traps instead of corrupting the heap", async () => {
  const k = await freshKernels();
  const a = k.alloc(64);
  const b = k.alloc(64); // keeps `a` from merging into the free tail
  k.free(a);
  assert.throws(() => k.free(a), WebAssembly.RuntimeError);
  k.free(b);
});

Deno.test("views taken after memory growth see the data written before it", async () => {
  const k = await freshKernels();
  const small = k.copyIn(new Float32Array([1.5, 2.5, 3.5]));
  const before = k.f32(small, 3);
  const heap = k.memory().heapBytes;
  const big = k.alloc(64 * 1024 * 1024);
  assert.ok(k.memory().heapBytes > heap, "a 64 MiB allocation must grow memory");
  // The memory is shared, and shared buffers are never detached: the old view stays valid.
  assert.deepEqual(Array.from(before), [1.5, 2.5, 3.5]);
  assert.deepEqual(Array.from(k.f32(small, 3)), [1.5, 2.5, 3.5]);
  k.f64(big, 4).set([1, 2, 3, 4]);
  assert.equal(k.f64(big, 4)[3], 4);
  k.free(big);
  k.free(small);
});

Deno.test("repeated alloc/free of streaming-sized buffers does not grow the heap", async () => {
  const k = await freshKernels();
  // One streaming round: an input chunk, per-column output, scratch, freed in another order.
  const round = () => {
    const x = k.alloc(1_000_003 * 4);
    const out = k.alloc(257 * 8);
    const scratch = k.alloc(64 * 1024 + 12);
    k.free(out);
    k.free(x);
    k.free(scratch);
  };
  round();
  const settled = k.memory().heapBytes;
  for (let i = 0; i < 2000; i++) round();
  assert.equal(k.memory().heapBytes, settled);
  assert.equal(k.memory().inUseBytes, 0);
});

Deno.test("random alloc/free keeps the heap within a small multiple of the live bytes", async () => {
  const k = await freshKernels();
  const rng = new Rng(12345);
  const live: number[] = [];
  let maxLive = 0;
  for (let i = 0; i < 20_000; i++) {
    if (live.length < 16 && (live.length === 0 || rng.int(0, 1) === 0)) {
      live.push(k.alloc(rng.int(0, 256 * 1024 - 1)));
    } else {
      k.free(live.splice(rng.int(0, live.length - 1), 1)[0]);
    }
    maxLive = Math.max(maxLive, k.memory().inUseBytes);
  }
  for (const p of live) k.free(p);
  assert.equal(k.memory().inUseBytes, 0);
  assert.equal(k.memory().peakBytes, maxLive);
  const heap = k.memory().heapBytes;
  assert.ok(heap < 3 * maxLive + 2 ** 21, `heap ${heap} bytes for at most ${maxLive} live`);
});

Deno.test("alloc() throws RangeError beyond 4 GiB and OutOfMemoryError when memory cannot grow", async () => {
  const k = await freshKernels();
  assert.throws(() => k.alloc(2 ** 32), RangeError);
  assert.throws(() => k.alloc(-1), RangeError);
  assert.throws(() => k.alloc(1.5), TypeError);
  assert.throws(() => k.alloc(2 ** 32 - 1), (e: Error) => {
    assert.ok(e instanceof OutOfMemoryError);
    assert.match(e.message, /4294967295 bytes/);
    assert.match(e.message, /smaller chunks/);
    return true;
  });
  assert.equal(k.memory().inUseBytes, 0);
  assert.throws(() => k.copyIn([1, 2] as unknown as Float32Array), TypeError);
});

Deno.test("check() maps every status code of status.rs to its error", async () => {
  const source = await Deno.readTextFile(new URL("../kernels/src/status.rs", import.meta.url));
  const codes = Object.fromEntries(
    [...source.matchAll(/pub const (\w+): i32 = (\d+);/g)].map((m) => [m[1], Number(m[2])]),
  );
  assert.deepEqual(codes, { ...STATUS }, "wasm/_status.ts must mirror kernels/src/status.rs");
  const k = await loadKernels();
  k.check("prism_x", STATUS.OK);
  const kernelError = (status: number) => (e: Error) =>
    e instanceof KernelError && e.kernel === "prism_x" && e.status === status;
  assert.throws(() => k.check("prism_x", STATUS.INVALID_ARGUMENT), kernelError(1));
  assert.throws(() => k.check("prism_x", STATUS.NO_CONVERGENCE), kernelError(4));
  assert.throws(() => k.check("prism_x", 77), kernelError(77));
  assert.throws(() => k.check("prism_x", STATUS.OUT_OF_MEMORY), OutOfMemoryError);
  assert.throws(
    () => k.check("prism_x", STATUS.NON_FINITE),
    (e: Error) => e instanceof InvalidDataError && /prism_x/.test(e.message),
  );
});
