/**
 * The rows the covariance shift is estimated from (`_covariance_shift.ts`), fetched from wherever
 * the chunk lives: a plain or WASM-resident matrix is read in place; from a GPU tensor only the
 * sampled rows are read back, in one submit and one map.
 *
 * @module
 */

import type { Matrix } from "../core/types.ts";
import { GpuStorage } from "../gpu/storage.ts";
import { DeviceTensor } from "../tensor/device_tensor.ts";
import { sampledRows } from "./_covariance_shift.ts";
import { hostMatrix, type MatrixLike } from "./_placement.ts";

/**
 * A matrix `estimateShift()` gives the same shift for as for `input`: the input itself, or (for a
 * GPU tensor taller than the sample) exactly the rows it would sample, in order.
 *
 * @param input A matrix or a device tensor with at least one row.
 * @returns A plain matrix.
 */
export async function sampleForShift(input: MatrixLike): Promise<Matrix> {
  if (!(input instanceof DeviceTensor) || !(input.storage instanceof GpuStorage)) {
    return await hostMatrix(input);
  }
  const { rows, cols } = input.matrixShape();
  const take = sampledRows(rows, cols);
  if (take === rows) return await hostMatrix(input);
  const storage = input.storage;
  const ranges = Array.from({ length: take }, (_, s) => ({
    buffer: storage.buffer,
    byteOffset: Math.floor((s * rows) / take) * cols * 4,
    bytes: cols * 4,
  }));
  const parts = await storage.context.readRanges(ranges);
  const data = new Float32Array(take * cols);
  parts.forEach((part, s) => data.set(new Float32Array(part), s * cols));
  return { data, rows: take, cols };
}
