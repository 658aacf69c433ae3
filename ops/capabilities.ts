/**
 * What this machine offers prism: the runtime, the WASM kernels and their worker pool, the WebGPU
 * adapter, and where `backend: "auto"` sends each operation family, and why.
 *
 * @module
 */

import { gpuStatus } from "../gpu/device.ts";
import type { GpuStatus } from "../gpu/types.ts";
import {
  ABI_VERSION,
  defaultVariant,
  loadKernels,
  relaxedSimdSupported,
  wasmSimdSupported,
  type WasmVariant,
} from "../wasm/loader.ts";
import { defaultPool } from "../wasm/pool.ts";
import { type FamilyInfo, familyInfo, type OperationFamily } from "./families.ts";
import { autoRoute, type Route } from "./route.ts";
import meta from "../deno.json" with { type: "json" };
import { isDeno } from "../core/runtime.ts";

/** The WASM side of {@linkcode Capabilities}. */
export interface WasmCapabilities {
  /** Whether the engine runs WebAssembly SIMD (`simd128`), which the kernels need. */
  readonly simd: boolean;
  /** Whether the engine validates relaxed SIMD (`f32x4.relaxed_madd`), which the fused build needs. */
  readonly relaxedSimd: boolean;
  /**
   * The build loaded: `"relaxed-simd"` (`prism_fma.wasm`, fused multiply-adds) or `"simd"`
   * (`prism.wasm`, multiply then add); `PRISM_WASM=simd` forces the plain one.
   */
  readonly variant: WasmVariant;
  /** Why that build was chosen. */
  readonly variantReason: string;
  /** The kernel module's file or URL. */
  readonly file: string;
  /** The ABI version the module and this loader speak. */
  readonly abiVersion: number;
  /** SHA-256 of the Rust sources the module was built from, and the compiler. */
  readonly source?: { readonly hash: string; readonly rustc: string };
  /** Whether every worker shares the main thread's memory (kernels read data in place). */
  readonly sharedMemory: boolean;
  /** Workers in the default pool (one per logical CPU unless overridden). */
  readonly workers: number;
  /** Size of the kernel memory now, in bytes. */
  readonly heapBytes: number;
}

/** What {@linkcode capabilities} reports. */
export interface Capabilities {
  /** prism's own version. */
  readonly version: string;
  /** The JavaScript runtime; in a web page the versions are empty and `os` is the user agent. */
  readonly runtime: {
    readonly deno: string;
    readonly v8: string;
    readonly typescript: string;
    readonly os: string;
    readonly arch: string;
    readonly cpus: number;
  };
  /** The CPU backend. */
  readonly wasm: WasmCapabilities;
  /** The GPU backend: the adapter, its features and limits, or why there is none. */
  readonly gpu: GpuStatus;
  /** The operation families (`ops/families.ts`): what each computes, and its GPU threshold. */
  readonly families: Readonly<Record<OperationFamily, FamilyInfo>>;
  /** Where `backend: "auto"` runs a large problem of each operation family, and why. */
  readonly routes: Readonly<Record<OperationFamily, Route>>;
}

/**
 * Reports what this machine offers prism and which backend `auto` picks for each operation
 * family. Never throws for a missing GPU: that is reported in `gpu` and in the routes.
 *
 * @returns The report. It opens the GPU device if there is one; `releaseGpu()` closes it.
 * @throws {WasmLoadError} When the kernel module cannot be loaded.
 * @example
 * ```ts
 * import { capabilities } from "./capabilities.ts";
 * import { releaseGpu } from "../gpu/device.ts";
 * import assert from "node:assert";
 * const caps = await capabilities();
 * assert(caps.wasm.simd && caps.wasm.workers >= 1);
 * assert(["wasm", "webgpu"].includes(caps.routes.reduce.backend));
 * await releaseGpu();
 * ```
 */
export async function capabilities(): Promise<Capabilities> {
  const { variant, reason } = defaultVariant();
  const [kernels, gpu] = await Promise.all([loadKernels(), gpuStatus()]);
  const section = WebAssembly.Module.customSections(kernels.module, "prism.source_hash")[0];
  const source = section === undefined
    ? undefined
    : JSON.parse(new TextDecoder().decode(section)) as { hash: string; rustc: string };
  const routes = Object.fromEntries(
    familyInfo().map(([family]) => {
      const { backend, reason } = autoRoute(family, { work: Infinity, gpu });
      return [family, { backend, reason }];
    }),
  ) as Record<OperationFamily, Route>;
  return {
    version: meta.version,
    runtime: runtimeInfo(),
    wasm: {
      simd: wasmSimdSupported(),
      relaxedSimd: relaxedSimdSupported(),
      variant,
      variantReason: reason,
      file: kernels.file,
      abiVersion: ABI_VERSION,
      source,
      // A page that is not cross-origin isolated has no `SharedArrayBuffer` global at all.
      sharedMemory: typeof SharedArrayBuffer === "function" &&
        kernels.exports.memory.buffer instanceof SharedArrayBuffer,
      workers: defaultPool().size,
      heapBytes: kernels.memory().heapBytes,
    },
    gpu,
    families: Object.fromEntries(familyInfo()) as Record<OperationFamily, FamilyInfo>,
    routes,
  };
}

/** Deno's versions and platform, or in a web page the browser's user agent. */
function runtimeInfo(): Capabilities["runtime"] {
  const cpus = navigator.hardwareConcurrency;
  if (!isDeno()) {
    return { deno: "", v8: "", typescript: "", os: navigator.userAgent, arch: "", cpus };
  }
  const { version, build } = Deno;
  return { ...version, os: build.os, arch: build.arch, cpus };
}
