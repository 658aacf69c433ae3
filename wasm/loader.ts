/**
 * Loads the kernel module (`wasm/prism_fma.wasm` or `wasm/prism.wasm`, see `_variant.ts`) once and
 * hands out its typed {@linkcode Kernels}.
 *
 * @example
 * ```ts
 * import { loadKernels } from "./loader.ts";
 * import assert from "node:assert";
 * const kernels = await loadKernels();
 * assert(kernels.exports.prism_abi_version() === 2);
 * ```
 *
 * @module
 */

import { WasmLoadError } from "../core/errors.ts";
import { compileKernels, instantiateKernels, type Kernels } from "./kernels.ts";
import { chooseVariant, VARIANT_FILES, wasmSimdSupported, type WasmVariant } from "./_variant.ts";

export { ABI_VERSION } from "./kernels.ts";
export type { KernelExports, KernelMemory, Kernels } from "./kernels.ts";
export { relaxedSimdSupported, wasmSimdSupported, type WasmVariant } from "./_variant.ts";

/** Where to load the module from. */
export interface LoadOptions {
  /** The module's URL or file path; default the build {@linkcode defaultVariant} picks. */
  url?: string | URL;
}

const modules = new Map<string, Promise<WebAssembly.Module>>();
const instances = new Map<string, Promise<Kernels>>();

/** The build chosen for this process, once: the default of every load without `options.url`. */
let chosen: { variant: WasmVariant; reason: string; url: URL } | undefined;

/**
 * Says which build of the kernel module a load without `options.url` uses, and why: the fused
 * `prism_fma.wasm` where the engine validates relaxed SIMD, else `prism.wasm`; `PRISM_WASM=simd`
 * forces the plain one. Decided once per process, so every thread and call runs the same build.
 *
 * @returns The variant, the reason, and the module's URL.
 * @throws {RangeError} When `PRISM_WASM` is set to something other than `simd`, `relaxed-simd`
 *   or `auto`.
 * @example
 * ```ts
 * import { defaultVariant } from "./loader.ts";
 * import assert from "node:assert";
 * const { variant, url } = defaultVariant();
 * assert(url.pathname.endsWith(variant === "simd" ? "/prism.wasm" : "/prism_fma.wasm"));
 * ```
 */
export function defaultVariant(): { variant: WasmVariant; reason: string; url: URL } {
  if (chosen === undefined) {
    const { variant, reason } = chooseVariant();
    chosen = { variant, reason, url: new URL(`./${VARIANT_FILES[variant]}`, import.meta.url) };
  }
  return { ...chosen };
}

function resolve(url: string | URL | undefined): URL {
  if (url === undefined) return defaultVariant().url;
  if (url instanceof URL) return url;
  if (typeof url !== "string") {
    throw new TypeError(`options.url must be a string or URL, got ${typeof url}`);
  }
  if (/^[a-z][a-z0-9+.-]+:/i.test(url)) return new URL(url);
  // A plain path: relative to the working directory, like every other path a user passes.
  return new URL(url, `file://${Deno.cwd()}/`);
}

function nameOf(url: URL): string {
  return url.protocol === "file:" ? decodeURIComponent(url.pathname) : url.href;
}

/** Caches `make(key)` per key; a rejected promise is dropped so the next call tries again. */
function cached<T>(
  cache: Map<string, Promise<T>>,
  key: string,
  make: () => Promise<T>,
): Promise<T> {
  let promise = cache.get(key);
  if (promise === undefined) {
    promise = make();
    cache.set(key, promise);
    promise.catch(() => {
      if (cache.get(key) === promise) cache.delete(key);
    });
  }
  return promise;
}

async function readBytes(url: URL, file: string): Promise<Uint8Array<ArrayBuffer>> {
  try {
    if (url.protocol === "file:") return await Deno.readFile(url);
    const response = await fetch(url);
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status} ${response.statusText}`);
    }
    return new Uint8Array(await response.arrayBuffer());
  } catch (e) {
    throw new WasmLoadError(
      file,
      `cannot read it (${String(e)}); build it with \`deno task build:wasm\` or pass the ` +
        `right options.url`,
      { cause: e },
    );
  }
}

async function compile(url: URL): Promise<WebAssembly.Module> {
  const file = nameOf(url);
  const bytes = await readBytes(url, file);
  try {
    return await compileKernels(bytes);
  } catch (e) {
    const why = wasmSimdSupported()
      ? "the file may be truncated or corrupt; rebuild it with `deno task build:wasm`"
      : "this engine does not support WebAssembly SIMD, which prism's kernels need";
    throw new WasmLoadError(file, `it is not a valid WebAssembly module (${String(e)}); ${why}`, {
      cause: e,
    });
  }
}

/**
 * Compiles the kernel module once per URL, for workers that instantiate it themselves.
 *
 * @param options Where the module is (default: the build {@linkcode defaultVariant} picks).
 * @returns The compiled module, shared by every caller with the same URL.
 * @throws {WasmLoadError} When the file cannot be read or is not a valid module.
 * @throws {TypeError} When `options.url` is neither a string nor a URL.
 * @throws {RangeError} Without `options.url`, when `PRISM_WASM` names no build
 *   ({@linkcode defaultVariant}).
 * @example
 * ```ts
 * import { loadModule } from "./loader.ts";
 * import assert from "node:assert";
 * const module = await loadModule();
 * assert(WebAssembly.Module.exports(module).some((e) => e.name === "prism_alloc"));
 * ```
 */
export async function loadModule(options: LoadOptions = {}): Promise<WebAssembly.Module> {
  const url = resolve(options.url);
  return await cached(modules, url.href, () => compile(url));
}

/**
 * Loads the kernel module (once per URL) and returns its instance on this thread.
 *
 * @param options Where the module is (default: the build {@linkcode defaultVariant} picks).
 * @returns The shared {@linkcode Kernels} instance for that URL.
 * @throws {WasmLoadError} When the file cannot be read, is corrupt, or has another ABI version;
 *   the message names the file and, for a version mismatch, both versions.
 * @throws {TypeError} When `options.url` is neither a string nor a URL.
 * @throws {RangeError} Without `options.url`, when `PRISM_WASM` names no build
 *   ({@linkcode defaultVariant}).
 * @example
 * ```ts
 * import { loadKernels } from "./loader.ts";
 * import assert from "node:assert";
 * const kernels = await loadKernels();
 * const x = kernels.copyIn(new Float32Array([1, 2, 3, 4]));
 * const out = kernels.alloc(2 * 8);
 * kernels.f64(out, 2).fill(0);
 * kernels.check("prism_column_sums_f32", kernels.exports.prism_column_sums_f32(x, 2, 2, out));
 * assert(kernels.f64(out, 2)[1] === 6);
 * kernels.free(x);
 * kernels.free(out);
 * ```
 */
export async function loadKernels(options: LoadOptions = {}): Promise<Kernels> {
  const url = resolve(options.url);
  return await cached(
    instances,
    url.href,
    async () => instantiateKernels(await loadModule({ url }), nameOf(url)),
  );
}
