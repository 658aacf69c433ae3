/**
 * Writing a covariance result (`cov`, `merge --finish` of `cov` shards) as `.npy` (the matrix),
 * `.json` or `.h5` (count, bands, mean, covariance and the run's fields), atomically.
 *
 * @module
 */

import { writeFileAtomic } from "../io/atomic.ts";
import { writeNpy } from "../io/npy.ts";
import { writeHdf5 } from "../io/hdf5.ts";
import type { Hdf5Attrs } from "../io/hdf5.ts";
import type { CovarianceResult } from "../ops/covariance_accumulator.ts";

/**
 * Writes `result` to `path` in `format`.
 *
 * @param path The output file.
 * @param options `format` (`npy`, `json`, `h5`), `result`, `fields` (selection fields, in JSON
 *   and HDF5) and `attrs` (HDF5 only: input, dataset, prism version).
 */
export async function writeCovarianceFile(
  path: string,
  options: { format: string; result: CovarianceResult; fields: Hdf5Attrs; attrs: Hdf5Attrs },
): Promise<void> {
  const { format, result, fields, attrs } = options;
  const { count, bands, mean, covariance: cov, skipped, excluded } = result;
  if (format === "npy") {
    await writeNpy(path, { data: cov, shape: [bands, bands] });
  } else if (format === "json") {
    // Row c of the matrix is covariance[c], as numpy's np.array(json["covariance"]) reads it.
    const rows = Array.from(
      { length: bands },
      (_, c) => [...cov.subarray(c * bands, (c + 1) * bands)],
    );
    const json = { count, bands, skipped, excluded, ...fields, mean: [...mean], covariance: rows };
    await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(json)));
  } else {
    await writeHdf5(path, {
      attrs: { count, bands, skipped, excluded, ...fields, ...attrs },
      datasets: [
        { path: "mean", data: mean, shape: [bands] },
        { path: "covariance", data: cov, shape: [bands, bands] },
      ],
    });
  }
}
