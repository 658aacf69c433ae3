/**
 * One instance of `wasm/prism.wasm` with typed exports and safe memory helpers.
 *
 * The main thread gets one through `loadKernels()` (`./loader.ts`); each pool worker makes its
 * own from the same compiled module.
 *
 * @module
 */

import { OutOfMemoryError, WasmLoadError } from "../core/errors.ts";
import { checkBudget, formatBytes, memoryBudget } from "../core/budget.ts";
import { checkInteger } from "../core/validate.ts";
import { statusError } from "./_status.ts";
import { type MemoryImport, memoryImport } from "./_memory_import.ts";
import type { KernelExports } from "./kernel_exports.generated.ts";

// The export table is generated from kernels/src by `deno task build:wasm`, so it cannot drift
// from the Rust signatures; the memory the module runs on is its first member.
export type { KernelExports };

/** The ABI version this loader speaks; `prism_abi_version()` must return it. */
export const ABI_VERSION = 2;

/** Memory figures of one module instance, in bytes. */
export interface KernelMemory {
  /** Size of the linear memory (it only grows). */
  readonly heapBytes: number;
  /** Bytes allocated and not yet freed. */
  readonly inUseBytes: number;
  /** Most bytes allocated at once since load or the last `resetPeak()`. */
  readonly peakBytes: number;
}

/** A module instance: its exports plus helpers that keep pointers and views safe. */
export interface Kernels {
  /** The raw, typed exports. */
  readonly exports: KernelExports;
  /** The file or URL the module came from, for messages. */
  readonly file: string;
  /** The compiled module, for workers that instantiate it over the same memory. */
  readonly module: WebAssembly.Module;
  /**
   * Allocates `bytes` bytes (16-byte aligned) in the module's memory.
   * @throws {RangeError} When `bytes` is negative or beyond 4 GiB.
   * @throws {OutOfMemoryError} When the bytes in use would pass the memory budget
   *   (`PRISM_MEMORY_BUDGET`, `core/budget.ts`), checked before the memory grows, or when the
   *   memory cannot grow.
   */
  alloc(bytes: number): number;
  /** Frees a pointer from `alloc` (0 is ignored). */
  free(ptr: number): void;
  /** A fresh `Float32Array` view; take a new one after anything that may grow memory. */
  f32(ptr: number, length: number): Float32Array;
  /** A fresh `Float64Array` view; take a new one after anything that may grow memory. */
  f64(ptr: number, length: number): Float64Array;
  /** Allocates room for `data` and copies it in; returns the pointer (free it when done). */
  copyIn(data: Float32Array): number;
  /**
   * Throws the error a kernel's status code stands for; returns when it is 0.
   * @throws {InvalidDataError} For `NON_FINITE`.
   * @throws {OutOfMemoryError} For `OUT_OF_MEMORY`.
   * @throws {KernelError} For every other non-zero status, naming `kernel`.
   */
  check(kernel: string, status: number): void;
  /** The module's memory figures now. */
  memory(): KernelMemory;
  /** Starts a new peak measurement from the bytes in use now. */
  resetPeak(): void;
}

/** The largest allocation wasm32 can address. */
const MAX_BYTES = 2 ** 32 - 1;

/** Where a new instance lives: the memory it shares, and for a worker, its own stack. */
export interface InstanceOptions {
  /**
   * The shared memory to instantiate over. Every instance of one runtime (the main thread's and
   * each pool worker's) gets the same memory; the main thread makes it with
   * {@linkcode createKernelMemory}. Default: a new memory of its own.
   */
  memory?: WebAssembly.Memory;
  /**
   * The top of this instance's own stack (from `alloc`, 16-byte aligned). Instances that share
   * a memory must not share a stack; the first instance on a memory keeps the linker's.
   */
  stackTop?: number;
}

/** What a module needs to be given as `env.memory`, recorded when the loader compiled it. */
const memoryImports = new WeakMap<WebAssembly.Module, MemoryImport | undefined>();

/**
 * Compiles module bytes and records the memory they import, for {@linkcode createKernelMemory}.
 *
 * @param bytes The module's bytes.
 * @returns The compiled module.
 * @throws {WebAssembly.CompileError} When the bytes are not a valid module.
 * @throws {TypeError} When the bytes are not a well-formed module.
 * @example
 * ```ts
 * import { compileKernels } from "./kernels.ts";
 * import assert from "node:assert";
 * const module = await compileKernels(await Deno.readFile(new URL("./prism.wasm", import.meta.url)));
 * assert(WebAssembly.Module.exports(module).some((e) => e.name === "prism_alloc"));
 * ```
 */
export async function compileKernels(bytes: Uint8Array<ArrayBuffer>): Promise<WebAssembly.Module> {
  const module = await WebAssembly.compile(bytes);
  memoryImports.set(module, memoryImport(bytes));
  return module;
}

/**
 * Makes the memory a compiled kernel module imports: shared, growable to 4 GiB.
 *
 * @param module A module compiled by {@linkcode compileKernels}.
 * @param file Where it came from, for messages.
 * @returns The memory, or `undefined` when the module defines its own.
 * @throws {WasmLoadError} When the module was compiled elsewhere (its needs are unknown) or the
 *   engine cannot make a shared memory (a browser page that is not cross-origin isolated).
 * @example
 * ```ts
 * import { compileKernels, createKernelMemory } from "./kernels.ts";
 * import assert from "node:assert";
 * const module = await compileKernels(await Deno.readFile(new URL("./prism.wasm", import.meta.url)));
 * assert(createKernelMemory(module, "prism.wasm")?.buffer instanceof SharedArrayBuffer);
 * ```
 */
export function createKernelMemory(
  module: WebAssembly.Module,
  file: string,
): WebAssembly.Memory | undefined {
  if (!memoryImports.has(module)) {
    if (!WebAssembly.Module.imports(module).some((i) => i.kind === "memory")) return undefined;
    throw new WasmLoadError(
      file,
      "it was not compiled by compileKernels(), so its memory is unknown",
    );
  }
  const needs = memoryImports.get(module);
  if (needs === undefined) return undefined;
  try {
    return new WebAssembly.Memory({
      initial: needs.initial,
      maximum: needs.maximum ?? 65536,
      shared: needs.shared,
    } as WebAssembly.MemoryDescriptor);
  } catch (e) {
    throw new WasmLoadError(
      file,
      `cannot create its ${needs.shared ? "shared " : ""}memory (${String(e)}); in a browser, ` +
        `serve the page cross-origin isolated (COOP/COEP headers) so shared memory is allowed`,
      { cause: e },
    );
  }
}

/**
 * Instantiates a compiled `prism.wasm` and checks its ABI version.
 *
 * @param module The compiled module (from {@linkcode compileKernels}).
 * @param file Where it came from, for error messages.
 * @param options The shared memory and this instance's stack; default a memory of its own.
 * @returns The instance with its helpers.
 * @throws {WasmLoadError} When instantiation fails, `prism_abi_version` is missing, or it returns
 *   another version than {@linkcode ABI_VERSION}.
 * @example
 * ```ts
 * import { compileKernels, instantiateKernels } from "./kernels.ts";
 * import assert from "node:assert";
 * const bytes = await Deno.readFile(new URL("./prism.wasm", import.meta.url));
 * const kernels = await instantiateKernels(await compileKernels(bytes), "prism.wasm");
 * const ptr = kernels.copyIn(new Float32Array([1, 2, 3]));
 * assert(kernels.f32(ptr, 3)[2] === 3);
 * kernels.free(ptr);
 * ```
 */
export async function instantiateKernels(
  module: WebAssembly.Module,
  file: string,
  options: InstanceOptions = {},
): Promise<Kernels> {
  const memory = options.memory ?? createKernelMemory(module, file);
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, memory ? { env: { memory } } : {});
  } catch (e) {
    throw new WasmLoadError(
      file,
      `instantiation failed (${String(e)}); rebuild it with \`deno task build:wasm\``,
      { cause: e },
    );
  }
  const raw = instance.exports as Record<string, unknown>;
  if (options.stackTop !== undefined) {
    // Before any call: this instance must not run on the stack of the memory's first instance.
    (raw.__stack_pointer as WebAssembly.Global).value = options.stackTop;
  }
  if (typeof raw.prism_abi_version !== "function") {
    throw new WasmLoadError(
      file,
      `it has no prism_abi_version export, so it is not a prism kernel module ` +
        `(this loader expects ABI version ${ABI_VERSION})`,
    );
  }
  const version = (raw.prism_abi_version as () => number)() >>> 0;
  if (version !== ABI_VERSION) {
    throw new WasmLoadError(
      file,
      `it has ABI version ${version} but this loader expects ABI version ${ABI_VERSION}; ` +
        `rebuild it with \`deno task build:wasm\` or use the loader of the same prism version`,
    );
  }
  const exports = { ...raw, memory: memory ?? raw.memory } as unknown as KernelExports;
  return wrap(exports, file, module);
}

/**
 * The memory's buffer, refreshed when it is shorter than `end`: after another thread grew a
 * shared memory, this thread's `memory.buffer` may still be the old, shorter one until
 * `grow(0)` refreshes it (the JS API's way to pick up a growth made elsewhere).
 */
function bufferReaching(memory: WebAssembly.Memory, end: number): ArrayBufferLike {
  const buffer = memory.buffer;
  if (end <= buffer.byteLength) return buffer;
  memory.grow(0);
  return memory.buffer;
}

/**
 * Refuses a kernel allocation that would take the bytes in use past the memory budget
 * (`core/budget.ts`), before the allocator grows the memory: WebAssembly memory never shrinks,
 * so a growth lasts as long as the runtime. The advice depends on the cause: one request that
 * is alone too big, or memory still held by earlier allocations.
 *
 * @param bytes The request.
 * @param inUse Bytes allocated and not freed now.
 * @throws {OutOfMemoryError} When `inUse + bytes` is above the budget.
 */
function checkKernelBudget(bytes: number, inUse: number): void {
  const budget = memoryBudget();
  if (inUse + bytes <= budget) return;
  const what = `a kernel memory request of ${formatBytes(bytes)}`;
  if (bytes > budget) {
    checkBudget(
      bytes,
      what,
      "process the input in smaller pieces (fewer rows per chunk, a smaller tile or batch)",
    );
  }
  checkBudget(
    inUse + bytes,
    `${what} on top of ${formatBytes(inUse)} already in use`,
    "free kernel memory that is no longer needed (WasmStorage.free(), `using` on tensors and " +
      "layers) or process the input in smaller pieces; WebAssembly memory never shrinks, so " +
      "the bytes in use, not the memory's size, are what counts here",
  );
}

function wrap(exports: KernelExports, file: string, module: WebAssembly.Module): Kernels {
  // grow(0) returns the current size in pages, also after another thread grew the memory.
  const heapBytes = () => exports.memory.grow(0) * 65536;
  const kernels: Kernels = {
    exports,
    file,
    module,
    alloc(bytes) {
      checkInteger("bytes", bytes, 0, MAX_BYTES);
      checkKernelBudget(bytes, exports.prism_heap_in_use() >>> 0);
      // Pointers come back as i32: `>>> 0` reads addresses above 2 GiB correctly.
      const ptr = exports.prism_alloc(bytes) >>> 0;
      if (ptr === 0) {
        throw new OutOfMemoryError(
          `allocating ${bytes} bytes (${formatBytes(bytes)}) in WebAssembly memory failed ` +
            `(memory is ` +
            `${formatBytes(heapBytes())}, ${formatBytes(kernels.memory().inUseBytes)} in use, ` +
            `limit 4 GiB; it never shrinks, so earlier peaks still count); ` +
            `process the input in smaller chunks, or free kernel memory no longer needed`,
        );
      }
      return ptr;
    },
    free(ptr) {
      exports.prism_free(ptr);
    },
    f32(ptr, length) {
      return new Float32Array(bufferReaching(exports.memory, ptr + length * 4), ptr, length);
    },
    f64(ptr, length) {
      return new Float64Array(bufferReaching(exports.memory, ptr + length * 8), ptr, length);
    },
    copyIn(data) {
      if (!(data instanceof Float32Array)) {
        throw new TypeError(
          `copyIn() takes a Float32Array, got ${Object.prototype.toString.call(data)}`,
        );
      }
      const ptr = kernels.alloc(data.byteLength);
      kernels.f32(ptr, data.length).set(data);
      return ptr;
    },
    check(kernel, status) {
      if (status !== 0) throw statusError(kernel, status, heapBytes());
    },
    memory() {
      return {
        heapBytes: heapBytes(),
        inUseBytes: exports.prism_heap_in_use() >>> 0,
        peakBytes: exports.prism_heap_peak() >>> 0,
      };
    },
    resetPeak() {
      exports.prism_heap_reset_peak();
    },
  };
  return kernels;
}
