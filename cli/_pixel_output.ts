/**
 * Writing one value (or one row of values) per pixel, as `rx` and `pca` do: `.npy`, or HDF5 with
 * one chunked, gzip-compressed dataset and the run's root attributes; atomically either way.
 *
 * @module
 */

import { type Hdf5Attrs, writeHdf5 } from "../io/hdf5.ts";
import { writeNpy } from "../io/npy.ts";

/**
 * Writes `data` shaped `shape` to `path`.
 *
 * @param path The output file.
 * @param array `format` (`"npy"` or `"h5"`), `data`, `shape`, `dataset` (the HDF5 dataset
 *   name, e.g. `"scores"`) and `attrs` (root attributes of an HDF5 file; `.npy` has none).
 */
export async function writePixelArray(
  path: string,
  array: {
    format: string;
    data: Float32Array;
    shape: number[];
    dataset: string;
    attrs?: Hdf5Attrs;
  },
): Promise<void> {
  const { format, data, shape, dataset, attrs } = array;
  if (format === "npy") {
    await writeNpy(path, { data, shape });
    return;
  }
  const chunks = shape.map((n, i) => i === 0 ? Math.min(n, 256) : n);
  await writeHdf5(path, {
    ...(attrs === undefined ? {} : { attrs }),
    datasets: [{ path: dataset, data, shape, chunks, gzip: 4 }],
  });
}
