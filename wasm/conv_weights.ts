/**
 * Dense convolution weights packed once per layer into the panels the WASM convolution kernels
 * stream (`prism_conv_pack_weights`), for the forward or the input gradient.
 *
 * @module
 */

import type { ConvGeometry } from "../core/conv_geometry.ts";
import { KernelArena } from "./arena.ts";
import { loadKernels } from "./loader.ts";
import { kernelAddress, WasmStorage } from "./storage.ts";
import { checkValues, runPack, writeGeometry } from "./_conv_calls.ts";

/**
 * Dense HWIO weights packed for one geometry and direction, in kernel memory: pack once per
 * layer, pass to every call, free when the layer goes.
 *
 * @example
 * ```ts
 * import { convGeometry } from "../core/conv_geometry.ts";
 * import { ConvWeights, wasmConvForward } from "./conv.ts";
 * import assert from "node:assert";
 * const g = convGeometry({ input: [1, 1, 1, 2], kernel: [1, 1], outChannels: 1 });
 * using w = await ConvWeights.pack(g, new Float32Array([2, 3]));
 * using y = await wasmConvForward(g, { input: new Float32Array([1, 1]), weights: w },
 *   { operation: "conv2d()" });
 * assert(y.view()[0] === 5);
 * ```
 */
export class ConvWeights implements Disposable {
  /** The packed panels. */
  readonly storage: WasmStorage;
  /** The geometry they were packed for. */
  readonly geometry: ConvGeometry;
  /** Packed for the input gradient / transposed convolution rather than the forward. */
  readonly transposed: boolean;

  private constructor(storage: WasmStorage, geometry: ConvGeometry, transposed: boolean) {
    this.storage = storage;
    this.geometry = geometry;
    this.transposed = transposed;
  }

  /**
   * Packs dense weights `[kh, kw, c, oc]` for the forward (default) or, with `transposed`, for
   * the input gradient / transposed convolution.
   *
   * @param g The convolution's geometry (dense).
   * @param weights HWIO values; kernel-memory data is read in place.
   * @param options `transposed`.
   * @returns The packed weights.
   * @throws {TypeError} When the geometry is depthwise or the weights' length is wrong.
   * @throws {InvalidDataError} When a weight is NaN or infinite.
   * @throws {OutOfMemoryError} When the kernel memory cannot hold them.
   */
  static async pack(
    g: ConvGeometry,
    weights: Float32Array,
    options: { transposed?: boolean } = {},
  ): Promise<ConvWeights> {
    if (g.depthwise) {
      throw new TypeError("depthwise weights are used as they are: pass the Float32Array itself");
    }
    checkValues("ConvWeights.pack()", "weights", weights, [g.kh, g.kw, g.c, g.oc]);
    const kernels = await loadKernels();
    const transposed = options.transposed ?? false;
    using arena = new KernelArena(kernels);
    const geom = writeGeometry(arena, g, { transposed });
    const storage = new WasmStorage(kernels, kernels.exports.prism_conv_packed_len(geom));
    try {
      const w = kernelAddress(kernels, weights) ?? arena.copyIn(weights);
      runPack(kernels, { geom, w, out: storage.ptr });
    } catch (e) {
      storage.free();
      throw e;
    }
    return new ConvWeights(storage, g, transposed);
  }

  /** Frees the panels. */
  free(): void {
    this.storage.free();
  }

  /** Same as {@linkcode ConvWeights.free}, for `using`. */
  [Symbol.dispose](): void {
    this.free();
  }

  /**
   * Packs new values of the same shape into these panels, in place (after an optimiser step).
   *
   * @param weights HWIO values of the packed shape; kernel-memory data is read in place.
   * @throws {TypeError} When the length differs or the panels were freed.
   * @throws {InvalidDataError} When a weight is NaN or infinite (the panels are then partly
   *   rewritten: repack valid values before using them again).
   * @example
   * ```ts
   * import { convGeometry } from "../core/conv_geometry.ts";
   * import { ConvWeights, wasmConvForward } from "./conv.ts";
   * import assert from "node:assert";
   * const g = convGeometry({ input: [1, 1, 1, 1], kernel: [1, 1], outChannels: 1 });
   * using w = await ConvWeights.pack(g, new Float32Array([2]));
   * w.repack(new Float32Array([3]));
   * using y = await wasmConvForward(g, { input: new Float32Array([1]), weights: w },
   *   { operation: "conv2d()" });
   * assert(y.view()[0] === 3);
   * ```
   */
  repack(weights: Float32Array): void {
    const g = this.geometry;
    checkValues("ConvWeights.repack()", "weights", weights, [g.kh, g.kw, g.c, g.oc]);
    if (this.storage.freed) {
      throw new TypeError("ConvWeights.repack(): the panels were freed; pack the weights again");
    }
    const kernels = this.storage.kernels;
    using arena = new KernelArena(kernels);
    const geom = writeGeometry(arena, g, { transposed: this.transposed });
    const w = kernelAddress(kernels, weights) ?? arena.copyIn(weights);
    runPack(kernels, { geom, w, out: this.storage.ptr });
  }

  /**
   * True when these panels serve a call with geometry `g` in the given direction: the panels
   * depend on the kernel size and the channels only, not on the image, stride or padding.
   *
   * @param g The call's geometry.
   * @param transposed The call's direction.
   * @returns Whether the packing matches.
   * @throws Never.
   * @example
   * ```ts
   * import { convGeometry } from "../core/conv_geometry.ts";
   * import { ConvWeights } from "./conv_weights.ts";
   * import assert from "node:assert";
   * const g = convGeometry({ input: [1, 2, 2, 1], kernel: [1, 1], outChannels: 1 });
   * using w = await ConvWeights.pack(g, new Float32Array([1]));
   * assert(w.fits(g, false) && !w.fits(g, true));
   * const bigger = convGeometry({ input: [4, 9, 9, 1], kernel: [1, 1], outChannels: 1, stride: 2 });
   * assert(w.fits(bigger, false));
   * ```
   */
  fits(g: ConvGeometry, transposed: boolean): boolean {
    const keys = ["c", "kh", "kw", "oc", "depthwise"] as const;
    return this.transposed === transposed && keys.every((k) => this.geometry[k] === g[k]);
  }
}
