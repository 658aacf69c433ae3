/**
 * Prepared convolution weights: a layer's HWIO weights packed once for the WASM kernels (forward
 * and input-gradient panels), reused by every `conv2d()` / `conv2dBackward()` call, repacked by
 * `update()` after an optimiser changed the values in place. Without it, every WASM call packs
 * the weights again (a copy of the whole tensor per call).
 *
 * @module
 */

import { type ConvGeometry, convGeometry } from "../core/conv_geometry.ts";
import type { Backend, Tensor } from "../core/types.ts";
import { assertFiniteParameters } from "../core/validate.ts";
import { ConvWeights } from "../wasm/conv_weights.ts";

/** Options of {@linkcode prepareConv2dWeights}. */
export interface PrepareConv2dOptions {
  /** 1 (dense, default) or the input channel count (depthwise, weights `[kh, kw, c, 1]`). */
  groups?: number;
  /**
   * Where the layer will run; `"wasm"` and `"auto"` (default) pack the forward panels now,
   * `"webgpu"` packs nothing (the GPU programs read HWIO as it is).
   */
  backend?: Backend;
}

/**
 * A layer's weights prepared once for many convolutions: pass it to `conv2d()` and
 * `conv2dBackward()` where a `{ data, shape }` tensor goes. It is a tensor itself (`data` is the
 * caller's array, not a copy), so code that reads `data` and `shape` keeps working.
 *
 * @example
 * ```ts
 * import { conv2d, prepareConv2dWeights } from "./conv2d.ts";
 * import assert from "node:assert";
 * const input = { data: new Float32Array([1, 2]), shape: [1, 1, 1, 2] };
 * using w = await prepareConv2dWeights({ data: new Float32Array([3, 4]), shape: [1, 1, 2, 1] });
 * using y1 = await conv2d(input, w);
 * w.data[0] = 5; // e.g. an optimiser step
 * w.update();
 * using y2 = await conv2d(input, w);
 * assert.deepStrictEqual([(await y1.read())[0], (await y2.read())[0]], [11, 13]);
 * ```
 */
export class PreparedConv2dWeights implements Tensor, Disposable {
  /** The HWIO values (the array passed to `prepareConv2dWeights`, shared, not copied). */
  readonly data: Float32Array;
  /** `[kh, kw, c, oc]` (depthwise `[kh, kw, c, 1]`). */
  readonly shape: readonly number[];
  /** 1 or the depthwise channel count. */
  readonly groups: number;
  #disposed = false;

  /** Use {@linkcode prepareConv2dWeights}. */
  private constructor(weights: Tensor, groups: number) {
    this.data = weights.data;
    this.shape = [...weights.shape];
    this.groups = groups;
  }

  /**
   * Checks `weights` and wraps them (internal: {@linkcode prepareConv2dWeights} is the entry).
   *
   * @param weights HWIO weights.
   * @param groups 1 or depthwise.
   * @returns The handle, nothing packed yet.
   * @throws {TypeError} When the weights are not a 4-D float32 tensor of their shape's size.
   * @throws {InvalidDataError} When a weight is NaN or infinite.
   */
  static wrap(weights: Tensor, groups: number): PreparedConv2dWeights {
    const op = "prepareConv2dWeights()";
    const shape = weights?.shape;
    if (!(weights?.data instanceof Float32Array) || !Array.isArray(shape) || shape.length !== 4) {
      throw new TypeError(`${op}: weights must be { data: Float32Array, shape: [kh, kw, c, oc] }`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (!shape.every((d) => Number.isInteger(d) && d > 0) || weights.data.length !== size) {
      throw new TypeError(
        `${op}: weights of shape [${shape.join(", ")}] need ${size} values (positive integer ` +
          `sizes), got ${weights.data.length}`,
      );
    }
    if (!Number.isInteger(groups) || groups < 1 || (groups !== 1 && shape[3] !== 1)) {
      throw new TypeError(
        `${op}: groups must be 1 (dense) or the input channel count with weights [kh, kw, c, 1] ` +
          `(depthwise); got groups ${groups} with [${shape.join(", ")}]`,
      );
    }
    assertFiniteParameters(weights.data.subarray(0, size), `${op}: the weights`);
    return new PreparedConv2dWeights(weights, groups);
  }

  /** Whether {@linkcode PreparedConv2dWeights.dispose} was called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * Repacks after the values in `data` changed in place (an optimiser step): every later call
   * sees the new values. Do not call it while a convolution with these weights is running.
   *
   * @throws {TypeError} When the handle was disposed.
   * @throws {InvalidDataError} When a weight is NaN or infinite (the old panels stay).
   * @example
   * ```ts
   * import { prepareConv2dWeights } from "./conv2d.ts";
   * import assert from "node:assert";
   * using w = await prepareConv2dWeights({ data: new Float32Array([1]), shape: [1, 1, 1, 1] });
   * w.data[0] = NaN;
   * assert.throws(() => w.update(), /NaN|finite/);
   * ```
   */
  update(): void {
    this.check();
    assertFiniteParameters(this.data, "PreparedConv2dWeights.update(): the weights");
    for (const packed of Object.values(packsOf(this))) packed?.repack(this.data);
  }

  /** Frees the packed panels; the handle is unusable afterwards. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const packed of Object.values(packsOf(this))) packed?.free();
    PACKS.delete(this);
  }

  /** Same as {@linkcode PreparedConv2dWeights.dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * Throws when disposed (internal: the hosts call it before using the panels).
   *
   * @throws {TypeError} When {@linkcode PreparedConv2dWeights.dispose} was called.
   */
  check(): void {
    if (this.#disposed) {
      throw new TypeError(
        "the prepared convolution weights were disposed; prepare them again with " +
          "prepareConv2dWeights()",
      );
    }
  }
}

/** The packed panels of each handle, by direction (kept out of the public class's type). */
const PACKS = new WeakMap<
  PreparedConv2dWeights,
  { forward?: ConvWeights; transposed?: ConvWeights }
>();

function packsOf(h: PreparedConv2dWeights): { forward?: ConvWeights; transposed?: ConvWeights } {
  let packs = PACKS.get(h);
  if (packs === undefined) PACKS.set(h, packs = {});
  return packs;
}

/**
 * The WASM panels of prepared weights for a call with geometry `g`, packed on first use (dense
 * only; depthwise weights are read as they are, so this returns the raw values). For the ops'
 * WASM route; not part of the public API.
 *
 * @param h The handle.
 * @param g The call's geometry (its kernel and channels match the weights').
 * @param transposed Panels for the input gradient rather than the forward.
 * @returns Packed weights, or the raw array for depthwise geometry.
 * @throws {TypeError} When the handle was disposed.
 * @throws {InvalidDataError} When a weight became NaN or infinite (packing checks).
 * @example
 * ```ts
 * import { convGeometry } from "../core/conv_geometry.ts";
 * import { prepareConv2dWeights } from "./conv2d.ts";
 * import { wasmWeightsOf } from "./conv2d_weights.ts";
 * import assert from "node:assert";
 * using w = await prepareConv2dWeights({ data: new Float32Array(4), shape: [1, 1, 2, 2] });
 * const g = convGeometry({ input: [1, 3, 3, 2], kernel: [1, 1], outChannels: 2 });
 * assert((await wasmWeightsOf(w, g, false)) === (await wasmWeightsOf(w, g, false)));
 * ```
 */
export async function wasmWeightsOf(
  h: PreparedConv2dWeights,
  g: ConvGeometry,
  transposed: boolean,
): Promise<ConvWeights | Float32Array> {
  h.check();
  if (g.depthwise) return h.data;
  const key = transposed ? "transposed" : "forward";
  const have = packsOf(h)[key];
  if (have !== undefined && have.fits(g, transposed)) return have;
  const packed = await ConvWeights.pack(g, h.data, { transposed });
  // Disposed meanwhile, or another call packed meanwhile: keep one, free the other.
  if (h.disposed) {
    packed.free();
    h.check();
  }
  const packs = packsOf(h);
  const now = packs[key];
  if (now !== undefined && now !== have && now.fits(g, transposed)) {
    packed.free();
    return now;
  }
  now?.free();
  packs[key] = packed;
  return packed;
}

/**
 * Prepares a layer's weights once for many convolutions: on WASM they are packed into the
 * micro-kernel's panels now (forward) or on first use (input gradient), not on every call.
 *
 * @param weights HWIO `{ data, shape: [kh, kw, c, oc] }` (depthwise `[kh, kw, c, 1]`); `data`
 *   is shared, so an optimiser may update it in place and call `update()`.
 * @param options `groups` (1 or depthwise), `backend` (where the layer will run).
 * @returns The handle (dispose it when the layer goes).
 * @throws {TypeError} When the weights are not a 4-D float32 tensor or groups disagree.
 * @throws {InvalidDataError} When a weight is NaN or infinite.
 * @example
 * ```ts
 * import { conv2d, prepareConv2dWeights } from "./conv2d.ts";
 * import assert from "node:assert";
 * const weights = { data: new Float32Array(9).fill(1), shape: [3, 3, 1, 1] };
 * using w = await prepareConv2dWeights(weights);
 * const input = { data: new Float32Array(9).fill(1), shape: [1, 3, 3, 1] };
 * using y = await conv2d(input, w, { padding: "same" });
 * assert.deepStrictEqual([...await y.read()], [4, 6, 4, 6, 9, 6, 4, 6, 4]);
 * ```
 */
export async function prepareConv2dWeights(
  weights: Tensor,
  options: PrepareConv2dOptions = {},
): Promise<PreparedConv2dWeights> {
  const handle = PreparedConv2dWeights.wrap(weights, options.groups ?? 1);
  const backend = options.backend ?? "auto";
  if (!["auto", "wasm", "webgpu"].includes(backend)) {
    throw new TypeError(
      `prepareConv2dWeights(): backend must be "auto", "wasm" or "webgpu", got ${backend}`,
    );
  }
  if (backend !== "webgpu" && handle.groups === 1) {
    // The forward panels depend on the kernel and channels only: any geometry of them will do.
    const [kh, kw, c, oc] = handle.shape;
    const g = convGeometry({ input: [1, kh, kw, c], kernel: [kh, kw], outChannels: oc });
    await wasmWeightsOf(handle, g, false);
  }
  return handle;
}
