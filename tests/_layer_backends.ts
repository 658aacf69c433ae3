/**
 * Where the layer-op tests run each case: on WASM and (when an adapter exists) WebGPU, with the
 * operands plain, already resident on that backend, and on WebGPU also as f16 tensors (checked
 * against the reference of the f16-rounded operands within 2e-2). Plus the error measure.
 *
 * @module
 */

import { ok } from "node:assert/strict";
import { uploadConvTensor } from "../gpu/conv.ts";
import { gpuStatus, releaseGpu } from "../gpu/device.ts";
import { DeviceTensor, toDevice } from "../tensor/device_tensor.ts";
import { roundF16 } from "./_conv_gpu_cases.ts";
import { relativeError } from "./_conv_reference.ts";

const status = await gpuStatus();
await releaseGpu();
if (!status.available) console.log(`layer-op WebGPU cases skipped: ${status.reason}`);

/** True when a WebGPU adapter exists. */
export const HAS_GPU: boolean = status.available;

/** How a case's operands are handed over. */
export interface Placement {
  /** The backend asked for. */
  readonly backend: "wasm" | "webgpu";
  /** Plain arrays, device tensors on `backend`, or f16 GPU tensors. */
  readonly form: "plain" | "resident" | "f16";
}

/** Every placement this machine can run. */
export const PLACEMENTS: readonly Placement[] = [
  { backend: "wasm", form: "plain" },
  { backend: "wasm", form: "resident" },
  ...(HAS_GPU
    ? [
      { backend: "webgpu", form: "plain" },
      { backend: "webgpu", form: "resident" },
      { backend: "webgpu", form: "f16" },
    ] as const
    : []),
];

/** The tolerance of a placement: 1e-4 relative in f32, 2e-2 in f16. */
export const tolerance = (p: Placement): number => (p.form === "f16" ? 2e-2 : 1e-4);

/** The values the reference sees: f16-rounded for f16 placements. */
export const seen = (p: Placement, data: Float32Array): Float32Array =>
  p.form === "f16" ? roundF16(data) : data;

/** Tensors made by {@linkcode place}, disposed by {@linkcode disposePlaced}. */
const made: DeviceTensor[] = [];

/**
 * An NHWC operand in the placement's form.
 *
 * @param p The placement.
 * @param data The values.
 * @param shape The shape.
 * @returns Plain `{ data, shape }` or a device tensor.
 */
export async function place(
  p: Placement,
  data: Float32Array,
  shape: readonly number[],
): Promise<{ data: Float32Array; shape: number[] } | DeviceTensor> {
  if (p.form === "plain") return { data, shape: [...shape] };
  let t: DeviceTensor;
  if (p.form === "f16") {
    const g = await uploadConvTensor(
      { data, shape: [...shape] },
      { precision: "f16" },
    );
    t = new DeviceTensor(g.storage, shape, "f16");
  } else {
    t = await toDevice(data, { shape, backend: p.backend });
  }
  made.push(t);
  return t;
}

/** Disposes what {@linkcode place} made and releases the GPU. */
export async function disposePlaced(): Promise<void> {
  for (const t of made.splice(0)) t.dispose();
  await releaseGpu();
}

/**
 * Asserts `got` is within `tol` of the float64 reference, relative to its largest magnitude.
 *
 * @param what Names the case.
 * @param got Values under test.
 * @param want The reference.
 * @param tol The tolerance.
 */
export function assertNear(
  what: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: number,
): void {
  const err = relativeError(got, want);
  ok(err <= tol, `${what}: relative error ${err.toExponential(2)} > ${tol}`);
}

/** Reads an op's result, checking it ran where asked. */
export async function readOn(p: Placement, t: DeviceTensor): Promise<Float32Array> {
  ok(t.backend === p.backend, `ran on ${t.backend}, asked ${p.backend}`);
  return await t.read();
}
