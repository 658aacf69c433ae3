/**
 * How the weight-gradient passes split the output pixels, and how their f32 partials are
 * finished on the GPU: the column-sums program adds the splits (never more than one of its row
 * blocks, so its partials are the sums), then the sums are copied into the weight and bias
 * gradients, all in the pending encoder.
 *
 * @module
 */

import type { ConvGeometry } from "../core/conv_geometry.ts";
import type { GpuContext } from "./context.ts";
import {
  COLUMN_SUMS_PROGRAM,
  columnSumsLayout,
  columnSumsOverrides,
} from "./programs/column_sums.ts";
import { record } from "./run.ts";
import { GpuStorage } from "./storage.ts";
import { bindingBytes } from "./upload.ts";

/** The most splits: at most one row block of the column-sums program (64 rows or more). */
export const MAX_SPLITS = 64;
/** Output pixels per split below which another split is not worth its partial. */
const PIXELS_PER_SPLIT = 64;

/**
 * How many parts the output pixels of a weight gradient are split into: enough for the GPU to
 * have work across many workgroups, at most {@linkcode MAX_SPLITS}, and no more partials than
 * one storage binding holds.
 *
 * @param g The geometry.
 * @param options `cols`, f32 values per partial; `limits`, the device's.
 * @returns At least 1.
 * @example
 * ```ts
 * import { convGeometry } from "../core/conv_geometry.ts";
 * import { weightGradSplits } from "./_conv_weight_grad.ts";
 * import assert from "node:assert";
 * const limits = { maxStorageBufferBindingSize: 1 << 27, maxBufferSize: 1 << 28 };
 * const g = convGeometry({ input: [1, 256, 256, 8], kernel: [3, 3], outChannels: 8 });
 * assert(weightGradSplits(g, { cols: 584, limits: limits as GPUSupportedLimits }) === 64);
 * const small = convGeometry({ input: [2, 9, 9, 3], kernel: [3, 3], outChannels: 2 });
 * assert(weightGradSplits(small, { cols: 56, limits: limits as GPUSupportedLimits }) === 2);
 * ```
 */
export function weightGradSplits(
  g: ConvGeometry,
  options: { cols: number; limits: GPUSupportedLimits },
): number {
  const { cols, limits } = options;
  const pixels = g.n * g.oh * g.ow;
  const fit = Math.floor(bindingBytes(limits) / (cols * 4));
  return Math.max(1, Math.min(MAX_SPLITS, Math.ceil(pixels / PIXELS_PER_SPLIT), fit));
}

/**
 * Records the finish: the splits' sums into a scratch storage, then its first `cols − oc`
 * values into `dWeights` and its last `oc` into `dBias`.
 *
 * @param gpu The context.
 * @param work `partials` (`splits × cols` f32), `splits`, `cols`, the two outputs, and `temps`
 *   (storage freed after the submit; the scratch joins it).
 * @returns When recorded; nothing is submitted.
 * @throws {RangeError} When `splits` exceeds one column-sums block.
 * @example
 * ```ts
 * import { finishWeightGrad } from "./_conv_weight_grad.ts";
 * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
 * import { GpuStorage } from "./storage.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const gpu = await getGpu();
 *   // Two splits of three values: two weight gradients and one bias gradient.
 *   const partials = GpuStorage.fromArray(gpu, new Float32Array([1, 2, 3, 10, 20, 30]));
 *   const dWeights = GpuStorage.allocate(gpu, 2);
 *   const dBias = GpuStorage.allocate(gpu, 1);
 *   const temps = [partials];
 *   await finishWeightGrad(gpu, { partials, splits: 2, cols: 3, dWeights, dBias, temps });
 *   assert.deepStrictEqual(Array.from(await dWeights.read()), [11, 22]);
 *   assert.deepStrictEqual(Array.from(await dBias.read()), [33]);
 *   for (const s of [...temps, dWeights, dBias]) s.free();
 * }
 * await releaseGpu();
 * ```
 */
export async function finishWeightGrad(
  gpu: GpuContext,
  work: {
    partials: GpuStorage;
    splits: number;
    cols: number;
    dWeights: GpuStorage;
    dBias: GpuStorage;
    temps: GpuStorage[];
  },
): Promise<void> {
  const { partials, splits, cols, dWeights, dBias } = work;
  if (splits > columnSumsLayout(cols).blockRows) {
    throw new RangeError(`${splits} splits exceed one column-sums block; lower MAX_SPLITS`);
  }
  const sums = GpuStorage.allocate(gpu, cols, { label: "prism conv2d gradient sums" });
  work.temps.push(sums);
  await record(gpu, [{
    program: COLUMN_SUMS_PROGRAM,
    overrides: columnSumsOverrides(cols),
    shapes: { rows: splits, cols },
    buffers: {
      matrix: { buffer: partials.buffer, size: splits * cols * 4 },
      partials: { buffer: sums.buffer, size: cols * 4 },
    },
  }]);
  const weights = dWeights.length;
  const encoder = gpu.encoder();
  encoder.copyBufferToBuffer(sums.buffer, 0, dWeights.buffer, 0, weights * 4);
  encoder.copyBufferToBuffer(sums.buffer, weights * 4, dBias.buffer, 0, dBias.length * 4);
}
