/**
 * How the weight-gradient passes split the output pixels, and how their f32 partials are
 * finished on the GPU: the column-sums program adds the splits (never more than one of its row
 * blocks, so its partials are the sums), then the sums are copied into the weight and bias
 * gradients, all in the pending encoder.
 *
 * @module
 */

import type { ConvGeometry } from "../core/conv_geometry.ts";
import { type PassSetup, passWorkgroups } from "./_conv_runs.ts";
import type { ConvLimits, ConvPiece } from "./_conv_split.ts";
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

/** A piece of a weight gradient and the splits of its pixels (rows of partials it writes). */
export interface PiecePartials {
  /** The piece. */
  readonly piece: ConvPiece;
  /** Its splits. */
  readonly splits: number;
}

/**
 * Groups the pieces of a weight gradient so that each group's partials (`Σ splits × cols` f32)
 * fit one binding: one group (each piece split as an unsplit call would be, within the
 * binding and the dispatch limit) when a row per piece fits, else groups of one split per
 * piece, whose sums are added afterwards (see {@linkcode sumSeparateRows}).
 *
 * @param pieces The pieces (none for an empty batch).
 * @param options `setup` of the pass, `cols` per partial, `limits`, `operation` for the error.
 * @returns The groups.
 * @throws {RangeError} When pieces must be grouped but two partial rows exceed one binding.
 * @example
 * ```ts
 * import { convGeometry } from "../core/conv_geometry.ts";
 * import { partialsPlan } from "./_conv_weight_grad.ts";
 * import assert from "node:assert";
 * const g = convGeometry({ input: [1, 16, 16, 1], kernel: [3, 3], outChannels: 1 });
 * const piece = { g, input: { start: 0, count: 256 }, output: { start: 0, count: 196 } };
 * const limits = { bindingBytes: 1 << 20, bufferBytes: 1 << 20, workgroups: 1 << 20,
 *   perDimension: 1024, align: 16 };
 * const setup = { mode: "weight_grad", precision: "f32", f16: "packed" } as const;
 * const plan = partialsPlan([piece], { setup, cols: 10, limits, operation: "c" });
 * assert(plan.length === 1 && plan[0][0].splits === 4); // 196 pixels, 64 per split
 * ```
 */
export function partialsPlan(
  pieces: readonly ConvPiece[],
  options: { setup: PassSetup; cols: number; limits: ConvLimits; operation: string },
): PiecePartials[][] {
  const { setup, cols, limits } = options;
  const fit = Math.floor(limits.bindingBytes / (cols * 4));
  if (pieces.length === 0) return [];
  if (pieces.length <= fit) {
    const share = Math.floor(fit / pieces.length);
    const bindingLimits = {
      maxStorageBufferBindingSize: limits.bindingBytes,
      maxBufferSize: limits.bindingBytes,
    } as GPUSupportedLimits;
    return [pieces.map((piece) => {
      const wanted = weightGradSplits(piece.g, { cols, limits: bindingLimits });
      const room = Math.floor(limits.workgroups / passWorkgroups(setup, piece.g));
      return { piece, splits: Math.max(1, Math.min(wanted, share, room)) };
    })];
  }
  if (fit < 2) {
    throw new RangeError(
      `${options.operation}: the weight gradient's ${pieces.length} pieces need partial sums ` +
        `of ${cols * 4} bytes each, and two do not fit one maxStorageBufferBindingSize of ` +
        `${limits.bindingBytes} bytes; use fewer channels or the wasm backend`,
    );
  }
  const groups = Math.ceil(pieces.length / fit);
  return Array.from(
    { length: groups },
    (_, i) => pieces.slice(i * fit, (i + 1) * fit).map((piece) => ({ piece, splits: 1 })),
  );
}

/**
 * Records column sums of a `rows × cols` f32 matrix, again and again, until at most `to` rows
 * remain (a row per block of the column-sums program each time).
 *
 * @param gpu The context.
 * @param work `matrix` (storage of `rows × cols` f32), `rows`, `cols`, `to` (at least 1), and
 *   `temps` (storage freed after the submit; every intermediate joins it).
 * @returns The storage holding the remaining rows and how many there are.
 * @example
 * ```ts
 * import { sumRows } from "./_conv_weight_grad.ts";
 * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
 * import { GpuStorage } from "./storage.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const gpu = await getGpu();
 *   const matrix = GpuStorage.fromArray(gpu, new Float32Array([1, 2, 3, 4, 5, 6]));
 *   const temps = [matrix];
 *   const sum = await sumRows(gpu, { matrix, rows: 3, cols: 2, temps, to: 1 });
 *   assert(sum.rows === 1);
 *   assert.deepStrictEqual(Array.from(await sum.storage.read()), [9, 12]);
 *   for (const s of temps) s.free();
 * }
 * await releaseGpu();
 * ```
 */
export async function sumRows(
  gpu: GpuContext,
  work: { matrix: GpuStorage; rows: number; cols: number; to: number; temps: GpuStorage[] },
): Promise<{ storage: GpuStorage; rows: number }> {
  const { cols } = work;
  const { blockRows } = columnSumsLayout(cols);
  let { matrix, rows } = work;
  while (rows > work.to) {
    const next = Math.ceil(rows / blockRows);
    const sums = GpuStorage.allocate(gpu, next * cols, { label: "prism conv2d row sums" });
    work.temps.push(sums);
    await record(gpu, [{
      program: COLUMN_SUMS_PROGRAM,
      overrides: columnSumsOverrides(cols),
      shapes: { rows, cols },
      buffers: {
        matrix: { buffer: matrix.buffer, size: rows * cols * 4 },
        partials: { buffer: sums.buffer, size: next * cols * 4 },
      },
    }]);
    matrix = sums;
    rows = next;
  }
  return { storage: matrix, rows };
}

/**
 * Sums single rows of `cols` f32 values, each in its own storage, into one: `fit` at a time
 * are copied side by side and summed by {@linkcode sumRows}, until one row remains.
 *
 * @param gpu The context.
 * @param work `rows` (storages of at least `cols` values), `cols`, `fit` (rows one binding
 *   holds, at least 2), `temps` (storage freed after the submit).
 * @returns Storage whose first `cols` values are the sum.
 * @example
 * ```ts
 * import { sumSeparateRows } from "./_conv_weight_grad.ts";
 * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
 * import { GpuStorage } from "./storage.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const gpu = await getGpu();
 *   const rows = [1, 2, 3].map((v) => GpuStorage.fromArray(gpu, new Float32Array([v, 10 * v])));
 *   const temps = [...rows];
 *   const sum = await sumSeparateRows(gpu, { rows, cols: 2, fit: 2, temps });
 *   assert.deepStrictEqual(Array.from(await sum.read()), [6, 60]);
 *   for (const s of temps) s.free();
 * }
 * await releaseGpu();
 * ```
 */
export async function sumSeparateRows(
  gpu: GpuContext,
  work: { rows: readonly GpuStorage[]; cols: number; fit: number; temps: GpuStorage[] },
): Promise<GpuStorage> {
  const { cols, fit, temps } = work;
  let rows = work.rows;
  while (rows.length > 1) {
    const next: GpuStorage[] = [];
    for (let i = 0; i < rows.length; i += fit) {
      const chunk = rows.slice(i, i + fit);
      const matrix = GpuStorage.allocate(gpu, chunk.length * cols, { label: "prism conv2d sums" });
      temps.push(matrix);
      const encoder = gpu.encoder();
      chunk.forEach((r, j) =>
        encoder.copyBufferToBuffer(r.buffer, 0, matrix.buffer, j * cols * 4, cols * 4)
      );
      next.push((await sumRows(gpu, { matrix, rows: chunk.length, cols, temps, to: 1 })).storage);
    }
    rows = next;
  }
  return rows[0];
}
