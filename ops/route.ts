/**
 * Backend routing: the one place where `backend: "auto"` becomes `"wasm"` or `"webgpu"`, read
 * from the family table in `./families.ts`.
 *
 * The policy: input that already lives on a backend (a device tensor) runs there; otherwise a
 * hardware GPU takes problems large enough to amortise the transfer and everything else runs on
 * WASM SIMD. A software adapter (llvmpipe, lavapipe, SwiftShader) is slower than WASM SIMD on the
 * same cores, so `auto` never picks it; asking for `"webgpu"` explicitly still runs on it (that is
 * how CI proves the GPU path correct). When `auto` passes over a GPU the reason is said once per
 * process, plainly, on stderr.
 *
 * @module
 */

import type { Backend } from "../core/types.ts";
import { BackendUnavailableError } from "../core/errors.ts";
import { gpuStatus } from "../gpu/device.ts";
import type { GpuStatus } from "../gpu/types.ts";
import { FAMILIES, type FamilyInfo, type OperationFamily } from "./families.ts";

export type { OperationFamily } from "./families.ts";

/** The backend chosen for one call, and why. */
export interface Route {
  /** The engine that runs the call. */
  readonly backend: "wasm" | "webgpu";
  /** A sentence saying why, for `info` and for the one-time notice. */
  readonly reason: string;
  /** True when `auto` would have liked a GPU but none usable exists (announced once). */
  readonly fallback?: boolean;
}

/** What {@linkcode chooseBackend} decides on. */
export interface RouteRequest {
  /** What the caller asked for; default `"auto"`. */
  backend?: Backend;
  /** The problem size in the family's unit; default `Infinity` (where a large problem goes). */
  work?: number;
  /** Where the input already lives (a device tensor): `auto` runs there. */
  lives?: "wasm" | "webgpu";
  /** The GPU status to decide on (default: the live `gpuStatus()`). */
  status?: GpuStatus;
}

const announced = new Set<string>();

/**
 * Picks the backend for one call of an operation family.
 *
 * @param family The operation family, e.g. `"reduce"`.
 * @param request What the caller asked for, the work, where the input lives.
 * @returns The backend and the reason.
 * @throws {BackendUnavailableError} When `"webgpu"` is requested (or the input lives there) and
 *   there is no adapter, or the family has no WebGPU implementation.
 * @throws {RangeError} When `backend` is not a backend name.
 * @example
 * ```ts
 * import { chooseBackend } from "./route.ts";
 * import assert from "node:assert";
 * const route = await chooseBackend("reduce", { backend: "wasm", work: 10 });
 * assert(route.backend === "wasm");
 * ```
 */
export async function chooseBackend(
  family: OperationFamily,
  request: RouteRequest = {},
): Promise<Route> {
  const requested = request.backend ?? "auto";
  if (requested === "wasm") return { backend: "wasm", reason: "requested by the caller" };
  if (requested !== "auto" && requested !== "webgpu") {
    throw new RangeError(
      `backend must be "auto", "wasm" or "webgpu", got ${JSON.stringify(requested)}`,
    );
  }
  const entry: FamilyInfo = FAMILIES[family];
  if (requested === "auto" && request.lives === "wasm") {
    return { backend: "wasm", reason: "the input lives in WASM kernel memory" };
  }
  if (requested === "webgpu" || request.lives === "webgpu") {
    if (entry.noGpu !== undefined) {
      throw new BackendUnavailableError("webgpu", `${entry.noGpu}; pass backend "wasm" or "auto"`);
    }
    const gpu = request.status ?? await gpuStatus();
    if (!gpu.available) throw new BackendUnavailableError("webgpu", gpu.reason);
    const reason = requested === "webgpu"
      ? "requested by the caller"
      : "the input lives in a GPU buffer";
    return { backend: "webgpu", reason };
  }
  const work = request.work ?? Infinity;
  // A problem no GPU would take runs on WASM whatever the adapter: decide without probing, so
  // small calls never open a device (opening one costs far more than they do, and holds it).
  if (request.status === undefined && (entry.noGpu !== undefined || work < entry.gpuFromWork)) {
    return { backend: "wasm", reason: entry.noGpu ?? belowThreshold(entry) };
  }
  const route = autoRoute(family, { work, gpu: request.status ?? await gpuStatus() });
  if (route.fallback) announceOnce(route.reason);
  return route;
}

/**
 * The `auto` policy alone, without side effects: where a problem of `work` units would run.
 *
 * @param family The operation family.
 * @param situation `work` (in the family's unit) and the GPU status `gpu` to decide on.
 * @returns The backend and the reason.
 * @throws {TypeError} When `gpu` is not a GPU status.
 * @example
 * ```ts
 * import { autoRoute } from "./route.ts";
 * import assert from "node:assert";
 * const gpu = { available: false as const, reason: "navigator.gpu is undefined" };
 * const r = autoRoute("reduce", { work: 1e9, gpu });
 * assert(r.backend === "wasm" && r.reason.includes("navigator.gpu"));
 * ```
 */
export function autoRoute(
  family: OperationFamily,
  situation: { work: number; gpu: GpuStatus },
): Route {
  const { work, gpu } = situation;
  if (gpu === null || typeof gpu !== "object") {
    throw new TypeError(`situation.gpu must be a GPU status, got ${String(gpu)}`);
  }
  const { gpuFromWork, unit, noGpu }: FamilyInfo = FAMILIES[family];
  if (noGpu !== undefined) return { backend: "wasm", reason: noGpu };
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
  if (!wantsGpu) return { backend: "wasm", reason: belowThreshold(FAMILIES[family]) };
  return {
    backend: "webgpu",
    reason: `hardware adapter ${gpu.adapter.description || gpu.adapter.vendor}` +
      (Number.isFinite(work) ? ` and ${work} ${unit} >= ${gpuFromWork}` : ""),
  };
}

/** Why a problem below its family's GPU threshold runs on WASM. */
function belowThreshold({ gpuFromWork, unit }: FamilyInfo): string {
  return `problem below the GPU threshold (${gpuFromWork} ${unit}): transfer would dominate`;
}

/** Says once per process and reason why `auto` runs on WASM SIMD instead of a GPU. */
function announceOnce(reason: string): void {
  if (announced.has(reason)) return;
  announced.add(reason);
  console.error(`prism: backend "auto" runs on WASM SIMD: ${reason}`);
}
