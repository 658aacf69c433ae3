/**
 * The one rule every command applies to an HDF5 input given without `--dataset`: take the only
 * dataset that can be the input, or list the candidates and ask for `--dataset`.
 *
 * @module
 */

import { extname } from "node:path";
import { readHdf5Tree } from "../io/hdf5.ts";
import type { Hdf5DatasetInfo } from "../io/hdf5.ts";
import { UsageError } from "./_command.ts";

const NUMERIC = /^(u?int\d+|float\d+)$/;

/**
 * The dataset to read from `input`: `dataset` when given, else for an HDF5 file (`.h5`,
 * `.hdf5`) the only numeric dataset with `axes[0]` to `axes[1]` axes (when several fit, the only
 * floating-point one among them, so a `synth` file's `/cube` is picked over its int labels and
 * mask). Other inputs get `dataset` back unchanged.
 *
 * @param input The input path.
 * @param options `dataset` (the `--dataset` value), `axes` (the least and most axes the command
 *   reads), `allowExternal` (passed to the HDF5 reader).
 * @returns The dataset path, or `undefined` for a non-HDF5 input without `--dataset`.
 * @throws {UsageError} When several datasets fit (the message lists them with shapes and types).
 * @throws {TypeError} When none fits (the message lists what the file holds).
 */
export async function chooseDataset(
  input: string,
  options: { dataset: string | undefined; axes: [number, number]; allowExternal?: boolean },
): Promise<string | undefined> {
  const { dataset, axes: [least, most] } = options;
  const ext = extname(input).toLowerCase();
  if (dataset !== undefined || (ext !== ".h5" && ext !== ".hdf5")) return dataset;
  const all = (await readHdf5Tree(input, { allowExternal: options.allowExternal })).datasets;
  const fit = all.filter((d) =>
    NUMERIC.test(d.dtype) && d.shape.length >= least && d.shape.length <= most
  );
  const floats = fit.filter((d) => d.dtype.startsWith("float"));
  const candidates = fit.length > 1 && floats.length > 0 ? floats : fit;
  if (candidates.length === 1) return candidates[0].path;
  const wanted = `numeric datasets of ${least} to ${most} axes`;
  if (candidates.length === 0) {
    throw new TypeError(
      `${input} holds no ${wanted}${all.length ? ` (it holds ${list(all)})` : " (it is empty)"}`,
    );
  }
  throw new UsageError(
    `${input} holds ${candidates.length} ${wanted}; choose one with --dataset: ${list(candidates)}`,
  );
}

function list(datasets: Hdf5DatasetInfo[]): string {
  const shown = datasets.slice(0, 10).map((d) => `${d.path} [${d.shape.join(", ")}] ${d.dtype}`);
  return shown.join(", ") + (datasets.length > 10 ? `, and ${datasets.length - 10} more` : "");
}
