/**
 * Writing one value (or one row of values) per pixel, as `rx` and `pca` do: `.npy`, or HDF5 with
 * one chunked, gzip-compressed dataset; atomically either way.
 *
 * @module
 */

import { writeHdf5 } from "../io/hdf5.ts";
import { writeNpy } from "../io/npy.ts";

/**
 * Writes `data` shaped `shape` to `path`.
 *
 * @param path The output file.
 * @param array `format` (`"npy"` or `"h5"`), `data`, `shape`, and `dataset` (the HDF5 dataset
 *   name, e.g. `"scores"`).
 */
export async function writePixelArray(
  path: string,
  array: { format: string; data: Float32Array; shape: number[]; dataset: string },
): Promise<void> {
  const { format, data, shape, dataset } = array;
  if (format === "npy") {
    await writeNpy(path, { data, shape });
    return;
  }
  const chunks = shape.map((n, i) => i === 0 ? Math.min(n, 256) : n);
  await writeHdf5(path, { datasets: [{ path: dataset, data, shape, chunks, gzip: 4 }] });
}
