/**
 * What the layer operations (`activation`, `add`, `channelAffine`, `batchNorm`, `layerNorm`,
 * `upsampleBilinear`, `convTranspose2d`) share: checking NHWC operands and per-channel vectors,
 * routing (running where a device-tensor operand lives), and handing operands to the WASM and
 * GPU hosts.
 *
 * @module
 */

import type { RunOptions, Tensor } from "../core/types.ts";
import type { GpuConvTensor } from "../gpu/_conv_tensor.ts";
import { GpuStorage } from "../gpu/storage.ts";
import { DeviceTensor } from "../tensor/device_tensor.ts";
import { checkFiniteValues } from "../wasm/layers.ts";
import { WasmStorage } from "../wasm/storage.ts";
import type { OperationFamily } from "./families.ts";
import { chooseBackend } from "./route.ts";

/** An NHWC image batch: plain `{ data, shape }` or a device tensor. */
export type LayerInput = Tensor | DeviceTensor;

/** An NHWC shape. */
export type Nhwc = [number, number, number, number];

/** The options every layer operation takes. */
export type LayerRunOptions = Pick<RunOptions, "backend" | "signal">;

/**
 * The NHWC shape of an operand, checked: four whole sizes, none zero, values that match.
 *
 * @param x The operand.
 * @param what Its role, e.g. `"input"`.
 * @param op The operation, for messages.
 * @returns The shape.
 * @throws {TypeError} When it is not NHWC, is empty, or its values do not match the shape.
 * @example
 * ```ts
 * import { imageShape } from "./_layer_io.ts";
 * import assert from "node:assert";
 * const x = { data: new Float32Array(6), shape: [1, 2, 3, 1] };
 * assert.deepStrictEqual(imageShape(x, "input", "example"), [1, 2, 3, 1]);
 * assert.throws(() => imageShape({ data: new Float32Array(0), shape: [0, 1, 1, 1] }, "x", "f"),
 *   /f: x is empty/);
 * ```
 */
export function imageShape(x: LayerInput, what: string, op: string): Nhwc {
  const shape = nhwcShape(x instanceof DeviceTensor ? x.shape : x?.shape, what, op);
  const size = shape[0] * shape[1] * shape[2] * shape[3];
  if (
    !(x instanceof DeviceTensor) && (!(x.data instanceof Float32Array) || x.data.length !== size)
  ) {
    throw new TypeError(
      `${op}: ${what} of shape [${shape.join(", ")}] needs a Float32Array of ${size} values`,
    );
  }
  return shape;
}

/**
 * Checks an NHWC shape: four whole sizes, none zero.
 *
 * @param shape The shape.
 * @param what Its role, e.g. `"inputShape"`.
 * @param op The operation, for messages.
 * @returns A copy.
 * @throws {TypeError} When it is not four whole sizes, or one is zero.
 * @example
 * ```ts
 * import { nhwcShape } from "./_layer_io.ts";
 * import assert from "node:assert";
 * assert.throws(() => nhwcShape([1, 2, 3], "inputShape", "f"), /NHWC/);
 * ```
 */
export function nhwcShape(shape: unknown, what: string, op: string): Nhwc {
  if (
    !Array.isArray(shape) || shape.length !== 4 ||
    !shape.every((d) => Number.isInteger(d) && d >= 0)
  ) {
    throw new TypeError(
      `${op}: ${what} must be NHWC [n, h, w, c] of whole sizes, got shape ` +
        `${JSON.stringify(shape)}`,
    );
  }
  if (shape.some((d) => d === 0)) {
    throw new TypeError(`${op}: ${what} is empty (shape [${shape.join(", ")}]); pass values`);
  }
  return [...shape] as Nhwc;
}

/**
 * Checks that two operands have one shape.
 *
 * @param a The first shape.
 * @param b The second.
 * @param names `[a's role, b's role]`.
 * @param op The operation.
 * @throws {TypeError} Naming both shapes when they differ.
 * @example
 * ```ts
 * import { sameShape } from "./_layer_io.ts";
 * import assert from "node:assert";
 * assert.throws(() => sameShape([1, 2, 2, 3], [1, 2, 2, 4], ["x", "dy"], "f"),
 *   /dy has shape \[1, 2, 2, 4\] but x has \[1, 2, 2, 3\]/);
 * ```
 */
export function sameShape(
  a: readonly number[],
  b: readonly number[],
  names: [string, string],
  op: string,
): void {
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
    throw new TypeError(
      `${op}: ${names[1]} has shape [${b.join(", ")}] but ${names[0]} has [${a.join(", ")}]; ` +
        `they must match`,
    );
  }
}

/**
 * Checks a per-channel vector: a `Float32Array` of `channels` finite values.
 *
 * @param v The vector.
 * @param channels The length it must have.
 * @param what Its name, e.g. `"gamma"`.
 * @param op The operation.
 * @returns `v`.
 * @throws {TypeError} When it is not a `Float32Array` of `channels` values.
 * @throws {InvalidDataError} When it holds NaN or infinity.
 * @example
 * ```ts
 * import { channelVector } from "./_layer_io.ts";
 * import assert from "node:assert";
 * assert.throws(() => channelVector(new Float32Array(2), 3, "gamma", "f"),
 *   /gamma has 2 values but the input has 3 channels/);
 * ```
 */
export function channelVector(
  v: Float32Array | undefined,
  channels: number,
  what: string,
  op: string,
): Float32Array {
  if (!(v instanceof Float32Array)) {
    throw new TypeError(`${op}: ${what} must be a Float32Array of ${channels} values`);
  }
  if (v.length !== channels) {
    throw new TypeError(
      `${op}: ${what} has ${v.length} values but the input has ${channels} channels; pass one ` +
        `per channel`,
    );
  }
  checkFiniteValues(op, what, v, channels);
  return v;
}

/**
 * Checks a norm's `eps`: a finite number above zero.
 *
 * @param eps The value.
 * @param op The operation.
 * @returns `eps`.
 * @throws {RangeError} When it is not a finite number above zero.
 * @example
 * ```ts
 * import { checkEps } from "./_layer_io.ts";
 * import assert from "node:assert";
 * assert.throws(() => checkEps(NaN, "f"), /eps must be a finite number above 0/);
 * ```
 */
export function checkEps(eps: number, op: string): number {
  if (typeof eps !== "number" || !Number.isFinite(eps) || eps <= 0) {
    throw new RangeError(`${op}: eps must be a finite number above 0 (e.g. 1e-5), got ${eps}`);
  }
  return eps;
}

/**
 * The backend a layer call runs on: where its first device-tensor operand lives under `auto`.
 * On WebGPU, plain operands are checked for NaN and infinity here (the GPU programs do not
 * check; the WASM hosts do).
 *
 * @param family The operation family.
 * @param options `backend`.
 * @param operands The tensor operands by role.
 * @param op The operation.
 * @returns `"wasm"` or `"webgpu"`.
 * @throws {BackendUnavailableError} When `"webgpu"` is asked for and there is no adapter.
 * @throws {InvalidDataError} When a plain operand holds NaN or infinity on the GPU route.
 * @example
 * ```ts
 * import { layerBackend } from "./_layer_io.ts";
 * import assert from "node:assert";
 * const x = { data: new Float32Array(1), shape: [1, 1, 1, 1] };
 * assert((await layerBackend("elementwise", { backend: "wasm" }, { x }, "f")) === "wasm");
 * ```
 */
export async function layerBackend(
  family: OperationFamily,
  options: LayerRunOptions,
  operands: Record<string, LayerInput>,
  op: string,
): Promise<"wasm" | "webgpu"> {
  const values = Object.values(operands);
  const resident = values.find((v): v is DeviceTensor => v instanceof DeviceTensor);
  const work = values.reduce((n, v) => n + (v instanceof DeviceTensor ? v.size : v.data.length), 0);
  const route = await chooseBackend(family, {
    backend: options.backend,
    work,
    lives: resident?.backend,
  });
  if (route.backend === "webgpu") {
    for (const [what, v] of Object.entries(operands)) {
      if (!(v instanceof DeviceTensor)) checkFiniteValues(op, what, v.data, v.shape.at(-1) ?? 1);
    }
  }
  return route.backend;
}

/**
 * An operand's values for the WASM hosts: plain data, a kernel-memory view read in place, or a
 * GPU tensor read back (f16 widened).
 *
 * @param x The operand.
 * @returns Its values.
 * @example
 * ```ts
 * import { wasmValues } from "./_layer_io.ts";
 * import assert from "node:assert";
 * const data = new Float32Array([1]);
 * assert((await wasmValues({ data, shape: [1, 1, 1, 1] })) === data);
 * ```
 */
export async function wasmValues(x: LayerInput): Promise<Float32Array> {
  if (!(x instanceof DeviceTensor)) return x.data;
  const storage = x.storage;
  return storage instanceof WasmStorage ? storage.view() : await x.read();
}

/**
 * An operand as the GPU hosts take it: plain (uploaded by the host), or bound in place.
 *
 * @param x The operand.
 * @returns `{ data, shape }` or `{ storage, shape, precision }`.
 * @throws {TypeError} When a device tensor's storage is of an unknown kind.
 * @example
 * ```ts
 * import { gpuOperand } from "./_layer_io.ts";
 * import assert from "node:assert";
 * const x = { data: new Float32Array(1), shape: [1, 1, 1, 1] };
 * assert(gpuOperand(x) === x);
 * ```
 */
export function gpuOperand(x: LayerInput): Tensor | GpuConvTensor {
  if (!(x instanceof DeviceTensor)) return x;
  const storage = x.storage;
  const shape = x.shape as unknown as Nhwc;
  if (storage instanceof GpuStorage) return { storage, shape, precision: x.dtype };
  if (storage instanceof WasmStorage) return { data: storage.view(), shape };
  throw new TypeError(`A tensor's storage is of an unknown kind`);
}

/**
 * A GPU host's result as a device tensor.
 *
 * @param t The host's result.
 * @returns The tensor (it owns the storage).
 * @example
 * ```ts
 * import { gpuResult } from "./_layer_io.ts";
 * import assert from "node:assert";
 * assert(typeof gpuResult === "function");
 * ```
 */
export function gpuResult(t: GpuConvTensor): DeviceTensor {
  return new DeviceTensor(t.storage, t.shape, t.precision);
}

/** The GPU programs' activation codes. */
export const ACTIVATION_CODE = { none: 0, relu: 1, gelu: 2 } as const;

/**
 * Checks an activation name.
 *
 * @param kind The name.
 * @param allowed The names the operation takes.
 * @param op The operation.
 * @returns The name.
 * @throws {RangeError} When it is not one of `allowed`.
 * @example
 * ```ts
 * import { activationKind } from "./_layer_io.ts";
 * import assert from "node:assert";
 * assert.throws(() => activationKind("tanh", ["relu", "gelu"], "f"), /"relu", "gelu"/);
 * ```
 */
export function activationKind<K extends keyof typeof ACTIVATION_CODE>(
  kind: unknown,
  allowed: readonly K[],
  op: string,
): K {
  if (!allowed.includes(kind as K)) {
    throw new RangeError(
      `${op}: activation must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, got ` +
        `${JSON.stringify(kind)}`,
    );
  }
  return kind as K;
}

/** What the norms' backward passes return. */
export interface NormGradients {
  /** The gradient of the input; dispose it. */
  readonly dInput: DeviceTensor;
  /** `Σ dy·x̂` per channel over every pixel. */
  readonly dGamma: Float32Array;
  /** `Σ dy` per channel over every pixel. */
  readonly dBeta: Float32Array;
}

/**
 * A WASM host's norm gradients as {@linkcode NormGradients}.
 *
 * @param g The host's result: kernel-memory `dInput`, float64 sums.
 * @param shape The input's shape.
 * @returns The gradients (the tensor owns `g.dInput`).
 * @example
 * ```ts
 * import { wasmNormGradients } from "./_layer_io.ts";
 * import { loadKernels } from "../wasm/loader.ts";
 * import { WasmStorage } from "../wasm/storage.ts";
 * import assert from "node:assert";
 * const dInput = new WasmStorage(await loadKernels(), 1);
 * const g = wasmNormGradients({ dInput, dGamma: new Float64Array([1]),
 *   dBeta: new Float64Array([2]) }, [1, 1, 1, 1]);
 * assert(g.dBeta[0] === 2);
 * g.dInput.dispose();
 * ```
 */
export function wasmNormGradients(
  g: { dInput: WasmStorage; dGamma: Float64Array; dBeta: Float64Array },
  shape: readonly number[],
): NormGradients {
  return {
    dInput: new DeviceTensor(g.dInput, shape),
    dGamma: Float32Array.from(g.dGamma),
    dBeta: Float32Array.from(g.dBeta),
  };
}
