/**
 * The tensors the convolution hosts take and give: plain `{ data, shape }`, or GPU-resident
 * `{ storage, shape, precision }` whose f16 values are packed two per word. Moving them (upload,
 * conversion to f16 on the GPU, read-back with f16 unpacked on the CPU) happens here.
 *
 * @module
 */

import type { Tensor } from "../core/types.ts";
import { checkInteger } from "../core/validate.ts";
import type { GpuContext } from "./context.ts";
import { getGpu } from "./device.ts";
import { CAST_F16_OVERRIDES, CAST_F16_PROGRAM } from "./programs/conv2d_cast.ts";
import type { ConvPrecision } from "./programs/conv2d_common.ts";
import { record } from "./run.ts";
import { GpuStorage } from "./storage.ts";
import { convLimits } from "./_conv_split.ts";

/**
 * A 4-D tensor on the GPU: NHWC activations or HWIO weights. `storage` holds the product of
 * `shape` f32 values, or for f16 that many halves packed two per word (`ceil(count / 2)` words).
 */
export interface GpuConvTensor {
  /** The values. */
  readonly storage: GpuStorage;
  /** `[n, h, w, c]` or `[kh, kw, in, out]`. */
  readonly shape: readonly [number, number, number, number];
  /** How `storage` holds each value. */
  readonly precision: ConvPrecision;
}

/** What a convolution host takes: plain values (uploaded) or a GPU-resident tensor. */
export type ConvTensorInput = Tensor | GpuConvTensor;

/**
 * Tells a GPU-resident convolution tensor from a plain one.
 *
 * @param t A tensor.
 * @returns True when `t.storage` is a {@linkcode GpuStorage}.
 * @example
 * ```ts
 * import { isGpuConvTensor } from "./_conv_tensor.ts";
 * import assert from "node:assert";
 * assert(!isGpuConvTensor({ data: new Float32Array(1), shape: [1, 1, 1, 1] }));
 * ```
 */
export function isGpuConvTensor(t: unknown): t is GpuConvTensor {
  return t !== null && typeof t === "object" &&
    (t as { storage?: unknown }).storage instanceof GpuStorage;
}

/**
 * The `u32` words (4 bytes each) `count` values take in `precision`.
 *
 * @param count Values.
 * @param precision `"f32"` (a word each) or `"f16"` (two per word).
 * @returns Words.
 * @example
 * ```ts
 * import { storageWords } from "./_conv_tensor.ts";
 * import assert from "node:assert";
 * assert(storageWords(5, "f16") === 3 && storageWords(5, "f32") === 5);
 * ```
 */
export function storageWords(count: number, precision: ConvPrecision): number {
  return precision === "f16" ? Math.ceil(count / 2) : count;
}

/**
 * Checks a host's tensor: 4 whole sizes, values that match them, live storage of `gpu`, and
 * (given `precision`) not f16 for an f32 call, so a call fails before it allocates anything.
 *
 * @param gpu The context the work runs on.
 * @param t The tensor.
 * @param options `what`: its role in errors, e.g. `"conv2d input"`; `precision` of the call.
 * @returns Its shape.
 * @throws {TypeError} When the shape is not 4 whole numbers, the values do not match it, the
 *   storage was freed or lives on another device, or it is f16 and the call f32.
 * @example
 * ```ts
 * import { checkConvTensor } from "./_conv_tensor.ts";
 * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const gpu = await getGpu();
 *   const t = { data: new Float32Array(5), shape: [1, 2, 2, 1] };
 *   assert.throws(() => checkConvTensor(gpu, t, { what: "input" }), /input holds 5 values/);
 * }
 * await releaseGpu();
 * ```
 */
export function checkConvTensor(
  gpu: GpuContext,
  t: ConvTensorInput,
  options: { what: string; precision?: ConvPrecision },
): [number, number, number, number] {
  const { what, precision } = options;
  if (t === null || typeof t !== "object" || !Array.isArray(t.shape) || t.shape.length !== 4) {
    throw new TypeError(
      `${what} must be a 4-D tensor { data, shape: [4 sizes] } or { storage, shape, precision }`,
    );
  }
  const shape = t.shape.map((v, i) => checkInteger(`${what} shape[${i}]`, v)) as [
    number,
    number,
    number,
    number,
  ];
  const count = shape[0] * shape[1] * shape[2] * shape[3];
  if (isGpuConvTensor(t)) {
    if (t.storage.freed) throw new TypeError(`${what}'s GPU storage was freed; keep it longer`);
    if (t.storage.context !== gpu) {
      throw new TypeError(`${what} lives on another GPU device; read() it and pass the values`);
    }
    if (t.precision !== "f32" && t.precision !== "f16") {
      throw new TypeError(`${what}.precision must be "f32" or "f16", got ${t.precision}`);
    }
    if (precision === "f32" && t.precision === "f16") {
      throw new TypeError(
        `${what} is f16 but the call runs in f32; pass precision: "f16", or an f32 tensor`,
      );
    }
    if (t.storage.length !== storageWords(count, t.precision)) {
      throw new TypeError(
        `${what} holds ${t.storage.length} words, but shape [${shape.join(", ")}] in ` +
          `${t.precision} needs ${storageWords(count, t.precision)}`,
      );
    }
    return shape;
  }
  if (!(t.data instanceof Float32Array)) {
    throw new TypeError(`${what}.data must be a Float32Array`);
  }
  if (t.data.length !== count) {
    throw new TypeError(
      `${what} holds ${t.data.length} values, but its shape [${shape.join(", ")}] needs ${count}`,
    );
  }
  return shape;
}

/** A tensor bound for one host call: its storage, and whether the call made it (and frees it). */
export interface BoundTensor {
  /** Storage in the precision asked for. */
  readonly storage: GpuStorage;
  /** True when made for this call: free it after recording. */
  readonly owned: boolean;
}

/**
 * Binds a checked tensor in `precision`, recording (no submit) what it takes: a plain tensor is
 * uploaded (and converted to f16 on the GPU), a resident f32 one converted into a new storage
 * for f16, a resident one of the right precision bound in place. Call inside `gpu.scoped()`.
 *
 * @param gpu The context.
 * @param t The checked tensor.
 * @param options `precision`, `what` (its role, for errors), `label`.
 * @returns The storage and whether it was made here.
 * @throws {TypeError} When a resident f16 tensor is asked for in f32 (precision is lost).
 * @example
 * ```ts
 * import { bindTensor } from "./_conv_tensor.ts";
 * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const gpu = await getGpu();
 *   const t = { data: new Float32Array([1, 2, 3]), shape: [1, 1, 1, 3] };
 *   const bound = await bindTensor(gpu, t, { precision: "f16", what: "x", label: "x" });
 *   assert(bound.owned && bound.storage.length === 2); // three halves in two words
 *   bound.storage.free();
 * }
 * await releaseGpu();
 * ```
 */
export async function bindTensor(
  gpu: GpuContext,
  t: ConvTensorInput,
  options: { precision: ConvPrecision; what: string; label: string },
): Promise<BoundTensor> {
  const { precision, what, label } = options;
  if (isGpuConvTensor(t)) {
    if (t.precision === precision) return { storage: t.storage, owned: false };
    if (t.precision === "f16") {
      throw new TypeError(
        `${what} is f16 but the call runs in f32; pass precision: "f16", or an f32 tensor`,
      );
    }
    return { storage: await castF16(gpu, t.storage, t.storage.length, label), owned: true };
  }
  if (precision === "f32") {
    return { storage: GpuStorage.fromArray(gpu, t.data, { label }), owned: true };
  }
  const f32 = GpuStorage.fromArray(gpu, t.data, { label: `${label} f32` });
  try {
    return { storage: await castF16(gpu, f32, t.data.length, label), owned: true };
  } finally {
    f32.free(); // after the submit that reads it
  }
}

/**
 * Records the conversion of `count` f32 values of `src` into new packed f16 storage, in chunks
 * that fit one binding (each starts at an aligned word, so both bindings' offsets are aligned).
 */
async function castF16(
  gpu: GpuContext,
  src: GpuStorage,
  count: number,
  label: string,
): Promise<GpuStorage> {
  const words = storageWords(count, "f16");
  const dst = GpuStorage.allocate(gpu, words, { label: `${label} f16` });
  if (count === 0) return dst;
  const { bindingBytes, align } = convLimits(gpu.limits);
  const step = align / 4; // words: 4·step bytes of f16, 8·step of f32, both multiples of align
  const chunk = Math.max(step, Math.floor(bindingBytes / 8 / step) * step);
  const runs = [];
  for (let first = 0; first < words; first += chunk) {
    const values = Math.min(2 * chunk, count - 2 * first);
    runs.push({
      program: CAST_F16_PROGRAM,
      overrides: CAST_F16_OVERRIDES,
      shapes: { count: values },
      buffers: {
        src: { buffer: src.buffer, offset: first * 8, size: values * 4 },
        dst: { buffer: dst.buffer, offset: first * 4, size: storageWords(values, "f16") * 4 },
      },
    });
  }
  try {
    await record(gpu, runs);
  } catch (e) {
    dst.free();
    throw e;
  }
  return dst;
}

/**
 * Puts a plain tensor on the GPU in `precision` (f16 converted on the GPU), recorded without a
 * submit: weights uploaded once this way are converted once, however many calls use them.
 *
 * @param t `{ data: Float32Array, shape: [4 sizes] }`.
 * @param options `precision` (default `"f32"`).
 * @returns The resident tensor; the caller frees its storage.
 * @throws {TypeError} When `t` is malformed.
 * @throws {BackendUnavailableError} When WebGPU is unavailable.
 * @example
 * ```ts
 * import { readConvTensor, uploadConvTensor } from "./_conv_tensor.ts";
 * import { gpuStatus, releaseGpu } from "./device.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const t = await uploadConvTensor(
 *     { data: new Float32Array([1, 0.1, -3]), shape: [1, 1, 1, 3] },
 *     { precision: "f16" },
 *   );
 *   const back = await readConvTensor(t);
 *   assert(back[0] === 1 && Math.abs(back[1] - 0.1) < 1e-4 && back[2] === -3);
 *   t.storage.free();
 * }
 * await releaseGpu();
 * ```
 */
export async function uploadConvTensor(
  t: Tensor,
  options: { precision?: ConvPrecision } = {},
): Promise<GpuConvTensor> {
  const gpu = await getGpu();
  const shape = checkConvTensor(gpu, t, { what: "tensor" });
  if (isGpuConvTensor(t)) throw new TypeError("uploadConvTensor() takes a plain tensor");
  const precision = options.precision ?? "f32";
  const bound = await gpu.scoped(
    "uploadConvTensor()",
    () => bindTensor(gpu, t, { precision, what: "tensor", label: "prism conv tensor" }),
  );
  return { storage: bound.storage, shape, precision };
}

/**
 * Reads a resident tensor back as f32 values (f16 unpacked on the CPU): one submit of the
 * pending work and one read-back.
 *
 * @param t The tensor.
 * @returns Its values, NHWC or HWIO as stored.
 * @throws {TypeError} When its storage was freed.
 * @throws {KernelError} When the pending work fails validation.
 * @example
 * ```ts
 * import { readConvTensor, uploadConvTensor } from "./_conv_tensor.ts";
 * import { gpuStatus, releaseGpu } from "./device.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const t = await uploadConvTensor({ data: new Float32Array([0.1, 2]), shape: [1, 1, 2, 1] });
 *   assert.deepStrictEqual(Array.from(await readConvTensor(t)), [Math.fround(0.1), 2]);
 *   t.storage.free();
 * }
 * await releaseGpu();
 * ```
 */
export async function readConvTensor(t: GpuConvTensor): Promise<Float32Array<ArrayBuffer>> {
  const raw = await t.storage.read();
  if (t.precision === "f32") return raw;
  const count = t.shape[0] * t.shape[1] * t.shape[2] * t.shape[3];
  return Float32Array.from(new Float16Array(raw.buffer, 0, count));
}
