/**
 * Finds an adapter and opens a device on it with the adapter's own limits, or says precisely
 * why not. Never throws.
 *
 * @module
 */

import type { GpuAvailable } from "./types.ts";
import { webgpuDisabledByEnv } from "./_env.ts";
import { detectSoftware } from "./_software.ts";

/** The features prism uses when the adapter has them. */
const WANTED_FEATURES: readonly GPUFeatureName[] = ["shader-f16", "timestamp-query"];

/** A device and what was found, or the reason there is none. */
export type Opened =
  | { readonly ok: true; readonly device: GPUDevice; readonly status: GpuAvailable }
  | { readonly ok: false; readonly reason: string; readonly cause?: unknown };

/** Opens a device, or reports what was looked for and not found. */
export async function openDevice(): Promise<Opened> {
  const disabled = webgpuDisabledByEnv();
  if (disabled !== undefined) return { ok: false, reason: disabled };

  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (gpu === undefined || gpu === null) {
    return { ok: false, reason: "navigator.gpu is undefined: this runtime exposes no WebGPU" };
  }

  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (e) {
    return { ok: false, reason: `navigator.gpu.requestAdapter() threw: ${message(e)}`, cause: e };
  }
  if (adapter === null) {
    return {
      ok: false,
      reason: "navigator.gpu.requestAdapter() returned null: no GPU driver and no software " +
        "adapter (such as Mesa's lavapipe) was found",
    };
  }

  const info = adapter.info;
  const description = info?.description ?? "";
  // Every numeric limit the adapter reports: the WebGPU defaults (128 MiB per storage binding,
  // 256 MiB per buffer) are far below what real adapters allow.
  const requiredLimits: Record<string, number> = {};
  for (const name in adapter.limits) {
    const value = (adapter.limits as unknown as Record<string, unknown>)[name];
    if (typeof value === "number") requiredLimits[name] = value;
  }
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));

  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      label: "prism device",
      requiredLimits,
      requiredFeatures,
    });
  } catch (e) {
    return {
      ok: false,
      reason: `adapter "${description}" was found but requestDevice() failed with: ${message(e)}`,
      cause: e,
    };
  }

  const limits: Record<string, number> = {};
  for (const name in device.limits) {
    const value = (device.limits as unknown as Record<string, unknown>)[name];
    if (typeof value === "number") limits[name] = value;
  }
  const facts = {
    vendor: info?.vendor ?? "",
    architecture: info?.architecture ?? "",
    device: info?.device ?? "",
    description,
    // Older implementations put the flag on the adapter itself.
    isFallbackAdapter: info?.isFallbackAdapter === true ||
      (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter === true,
  };
  const features = [...device.features].sort();
  return {
    ok: true,
    device,
    status: {
      available: true,
      adapter: {
        vendor: facts.vendor,
        architecture: facts.architecture,
        device: facts.device,
        description,
        ...detectSoftware(facts),
      },
      features,
      f16: device.features.has("shader-f16"),
      timestampQuery: device.features.has("timestamp-query"),
      limits,
    },
  };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
