/**
 * Finding WebGPU and sharing one device: `gpuStatus()` says what exists, `getGpu()` hands out the
 * shared {@linkcode GpuContext}, `releaseGpu()` destroys it.
 *
 * Set `PRISM_WEBGPU=off` to make prism behave as if there were no GPU.
 *
 * @module
 */

import { BackendUnavailableError } from "../core/errors.ts";
import { GpuContext } from "./context.ts";
import type { GpuStatus, GpuUnavailable } from "./types.ts";
import { openDevice } from "./_open.ts";

type Unavailable = GpuUnavailable & { readonly cause?: unknown };

/**
 * The shared context or the reason there is none. Both outcomes are kept until `releaseGpu()`;
 * a lost device clears it so the next call opens a new one.
 */
let shared: Promise<GpuContext | Unavailable> | undefined;

function open(): Promise<GpuContext | Unavailable> {
  if (shared !== undefined) return shared;
  const opening: Promise<GpuContext | Unavailable> = openDevice().then((opened) => {
    if (!opened.ok) return { available: false, reason: opened.reason, cause: opened.cause };
    const context = new GpuContext(opened.device, opened.status);
    opened.device.lost.then(() => {
      if (shared === opening) shared = undefined;
    });
    return context;
  });
  shared = opening;
  return opening;
}

/**
 * Says whether WebGPU is usable here and what was found. Opens (and keeps) the shared device
 * that `getGpu()` returns, so call `releaseGpu()` when done. Never throws.
 *
 * @returns `{ available: true, adapter, features, f16, timestampQuery, limits }`, or
 *   `{ available: false, reason }` naming what was looked for: `PRISM_WEBGPU=off`,
 *   `navigator.gpu`, `requestAdapter()` or `requestDevice()`.
 * @throws Never; every failure becomes `{ available: false, reason }`.
 * @example
 * ```ts
 * import { gpuStatus, releaseGpu } from "./device.ts";
 * const status = await gpuStatus();
 * if (status.available) {
 *   console.log(status.adapter.description, status.adapter.isSoftware ? "(software)" : "");
 * } else {
 *   console.log("no WebGPU:", status.reason);
 * }
 * await releaseGpu();
 * ```
 */
export async function gpuStatus(): Promise<GpuStatus> {
  try {
    const found = await open();
    if (found instanceof GpuContext) return found.status;
    return { available: false, reason: found.reason };
  } catch (e) {
    return {
      available: false,
      reason: `probing WebGPU threw: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
}

/**
 * The shared WebGPU context, opened on first use with the adapter's own limits and the
 * `shader-f16` and `timestamp-query` features when present.
 *
 * @returns The context; the same one until `releaseGpu()` or device loss.
 * @throws {BackendUnavailableError} With the reason `gpuStatus()` gives.
 * @example
 * ```ts
 * import { BackendUnavailableError } from "../core/errors.ts";
 * import { getGpu, releaseGpu } from "./device.ts";
 * import assert from "node:assert";
 * try {
 *   const gpu = await getGpu();
 *   assert(gpu === await getGpu());
 * } catch (e) {
 *   if (!(e instanceof BackendUnavailableError)) throw e;
 * }
 * await releaseGpu();
 * ```
 */
export async function getGpu(): Promise<GpuContext> {
  const found = await open();
  if (found instanceof GpuContext) return found;
  throw new BackendUnavailableError("webgpu", found.reason, { cause: found.cause });
}

/**
 * Destroys the shared device and its buffers and forgets what was found, so the next call to
 * `gpuStatus()` or `getGpu()` looks again. Work still running on the device fails.
 *
 * @returns When the device is gone.
 * @throws Never.
 * @example
 * ```ts
 * import { gpuStatus, releaseGpu } from "./device.ts";
 * await gpuStatus();
 * await releaseGpu();
 * await releaseGpu(); // a no-op when nothing is open
 * ```
 */
export async function releaseGpu(): Promise<void> {
  const current = shared;
  shared = undefined;
  if (current === undefined) return;
  const found = await current.catch(() => undefined);
  if (found instanceof GpuContext) {
    found.destroy();
    await found.device.lost;
  }
}
