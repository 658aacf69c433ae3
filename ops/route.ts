/**
 * Backend routing: the one place where `backend: "auto"` becomes `"wasm"` or `"webgpu"`.
 *
 * The policy: a hardware GPU takes problems large enough to amortise the transfer; everything
 * else runs on WASM SIMD. A software adapter (llvmpipe, lavapipe, SwiftShader) is slower than
 * WASM SIMD on the same cores, so `auto` never picks it; asking for `"webgpu"` explicitly still
 * runs on it (that is how CI proves the GPU path correct). When `auto` passes over a GPU the
 * reason is said once per process, plainly, on stderr.
 *
 * @module
 */

import type { Backend } from "../core/types.ts";
import { BackendUnavailableError } from "../core/errors.ts";
import { gpuStatus } from "../gpu/device.ts";
import type { GpuStatus } from "../gpu/types.ts";

/** The operation families that route independently, with the work size from which a GPU pays. */
export const OPERATION_FAMILIES = {
  /** Per-column sums and means of a matrix: memory-bound, a GPU pays only on large inputs. */
  reduce: { gpuFromWork: 64 * 1024 * 1024, unit: "values" },
  /**
   * Streaming covariance: `rows · bands² / 2` multiply-adds (the upper triangle); a GPU pays once
   * the product is about a billion multiply-adds and the upload is amortised.
   */
  covariance: { gpuFromWork: 1024 * 1024 * 1024, unit: "multiply-adds" },
  /** The Gram engine alone (`AᵀA` or `AAᵀ`): `k · n² / 2` multiply-adds, as for covariance. */
  gram: { gpuFromWork: 1024 * 1024 * 1024, unit: "multiply-adds" },
  /**
   * Singular values through the smaller Gram matrix: the Gram product (`rows · cols ·
   * min(rows, cols)` multiply-adds) runs on the chosen backend, the float64 eigensolver always on
   * the CPU; a GPU pays once the product is about a billion multiply-adds.
   */
  spectrum: { gpuFromWork: 1024 * 1024 * 1024, unit: "multiply-adds" },
  /** RX scoring: `pixels · bands · rank` multiply-adds; a GPU pays only on large cubes. */
  rx: { gpuFromWork: 4 * 1024 * 1024 * 1024, unit: "multiply-adds" },
} as const;

/** The name of an operation family, e.g. `"reduce"`. */
export type OperationFamily = keyof typeof OPERATION_FAMILIES;

/** The backend chosen for one call, and why. */
export interface Route {
  /** The engine that runs the call. */
  readonly backend: "wasm" | "webgpu";
  /** A sentence saying why, for `info` and for the one-time notice. */
  readonly reason: string;
  /** True when `auto` would have liked a GPU but none usable exists (announced once). */
  readonly fallback?: boolean;
}

const announced = new Set<string>();

/**
 * Picks the backend for one call of an operation family.
 *
 * @param family The operation family, e.g. `"reduce"`.
 * @param requested What the caller asked for (`"auto"` by default).
 * @param work The problem size in the family's unit (see {@linkcode OPERATION_FAMILIES});
 *   `Infinity` asks where a large problem would go.
 * @param status The GPU status to decide on (default: the live {@linkcode gpuStatus}).
 * @returns The backend and the reason.
 * @throws {BackendUnavailableError} When `"webgpu"` is requested and no adapter exists.
 * @throws {RangeError} When `requested` is not a backend name.
 * @example
 * ```ts
 * import { chooseBackend } from "./route.ts";
 * import assert from "node:assert";
 * const route = await chooseBackend("reduce", "wasm", 10);
 * assert(route.backend === "wasm");
 * ```
 */
export async function chooseBackend(
  family: OperationFamily,
  requested: Backend = "auto",
  work = Infinity,
  status?: GpuStatus,
): Promise<Route> {
  if (requested === "wasm") return { backend: "wasm", reason: "requested by the caller" };
  if (requested !== "auto" && requested !== "webgpu") {
    throw new RangeError(
      `backend must be "auto", "wasm" or "webgpu", got ${JSON.stringify(requested)}`,
    );
  }
  const gpu = status ?? await gpuStatus();
  if (requested === "webgpu") {
    if (!gpu.available) throw new BackendUnavailableError("webgpu", gpu.reason);
    return { backend: "webgpu", reason: "requested by the caller" };
  }
  const route = autoRoute(family, work, gpu);
  if (route.fallback) announceOnce(route.reason);
  return route;
}

/**
 * The `auto` policy alone, without side effects: where a problem of `work` units would run.
 *
 * @param family The operation family.
 * @param work The problem size in the family's unit.
 * @param gpu The GPU status to decide on.
 * @returns The backend and the reason.
 * @example
 * ```ts
 * import { autoRoute } from "./route.ts";
 * import assert from "node:assert";
 * const r = autoRoute("reduce", 1e9, { available: false, reason: "navigator.gpu is undefined" });
 * assert(r.backend === "wasm" && r.reason.includes("navigator.gpu"));
 * ```
 */
export function autoRoute(family: OperationFamily, work: number, gpu: GpuStatus): Route {
  const { gpuFromWork, unit } = OPERATION_FAMILIES[family];
  // Only a problem a GPU would have taken makes a missing or software adapter a fallback.
  const wantsGpu = work >= gpuFromWork;
  if (!gpu.available) {
    return { backend: "wasm", reason: `no WebGPU adapter (${gpu.reason})`, fallback: wantsGpu };
  }
  if (gpu.adapter.isSoftware) {
    const name = gpu.adapter.description || gpu.adapter.vendor || "unnamed";
    return {
      backend: "wasm",
      reason: `the only WebGPU adapter, ${name}, is a software rasterizer: ` +
        `slower than WASM SIMD on the same cores`,
      fallback: wantsGpu,
    };
  }
  if (!wantsGpu) {
    return {
      backend: "wasm",
      reason: `problem below the GPU threshold (${gpuFromWork} ${unit}): transfer would dominate`,
    };
  }
  return {
    backend: "webgpu",
    reason: `hardware adapter ${gpu.adapter.description || gpu.adapter.vendor}` +
      (Number.isFinite(work) ? ` and ${work} ${unit} >= ${gpuFromWork}` : ""),
  };
}

/** Says once per process and reason why `auto` runs on WASM SIMD instead of a GPU. */
function announceOnce(reason: string): void {
  if (announced.has(reason)) return;
  announced.add(reason);
  console.error(`prism: backend "auto" runs on WASM SIMD: ${reason}`);
}
