/**
 * Pixel masks: one value per pixel, 0 (or `false`) leaves the pixel out. Read from `.npy` or an
 * HDF5 dataset, checked against the cube's pixel shape.
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";
import { formatOfPath } from "./format.ts";
import { readNpy } from "./npy.ts";
import { readHdf5Dataset, readHdf5Tree } from "./hdf5.ts";

/** A mask in memory: `data` in C order, `shape` equal to the cube's pixel shape. */
export interface PixelMask {
  /** One value per pixel: 0 or `false` leaves it out, anything else keeps it. */
  readonly data: ArrayLike<number | bigint | boolean>;
  /** Its shape, e.g. `[H, W]` for an `H × W × C` cube. */
  readonly shape: readonly number[];
}

const FORMATS = { npy: "npy", h5: "hdf5", hdf5: "hdf5" } as const;

/**
 * Reads a mask file: a `.npy`, or a `.h5`/`.hdf5` dataset (`dataset`, else the file's only
 * dataset).
 *
 * @param path The file.
 * @param options `dataset` inside HDF5; `allowExternal` as for cube inputs.
 * @returns The mask.
 * @throws {RangeError} On another extension.
 * @throws {TypeError} When an HDF5 file holds several datasets and none is named.
 */
export async function readMaskFile(
  path: string,
  options: { dataset?: string; allowExternal?: boolean },
): Promise<PixelMask> {
  if (formatOfPath(path, FORMATS) === "npy") return await readNpy(path);
  const allowExternal = options.allowExternal ?? false;
  let dataset = options.dataset;
  if (dataset === undefined) {
    const all = (await readHdf5Tree(path, { allowExternal })).datasets;
    if (all.length !== 1) {
      throw new TypeError(
        `mask file ${path} holds ${all.length} datasets; name one (maskDataset, ` +
          `--mask-dataset): ${all.slice(0, 10).map((d) => d.path).join(", ")}`,
      );
    }
    dataset = all[0].path;
  }
  return await readHdf5Dataset(path, dataset, { allowExternal });
}

/**
 * The mask as flags (1 keep, 0 leave out), after checking its shape and values.
 *
 * @param mask The mask.
 * @param target `pixelShape` (the cube's, without the bands) and `name` (the cube, for messages).
 * @returns One flag per pixel.
 * @throws {TypeError} When the mask's shape differs from `pixelShape` (both are named).
 * @throws {InvalidDataError} When a mask value is NaN (neither keep nor leave out).
 */
export function maskFlags(
  mask: PixelMask,
  target: { pixelShape: readonly number[]; name: string },
): Uint8Array {
  const { pixelShape, name } = target;
  if (mask === null || typeof mask !== "object" || !Array.isArray(mask.shape)) {
    throw new TypeError("mask must be a file path or { data, shape }");
  }
  const same = mask.shape.length === pixelShape.length &&
    mask.shape.every((n, i) => n === pixelShape[i]);
  if (!same) {
    throw new TypeError(
      `the mask has shape [${mask.shape.join(", ")}] but ${name} has pixel shape ` +
        `[${pixelShape.join(", ")}] (its shape without the bands axis); make a mask of that shape`,
    );
  }
  const count = pixelShape.reduce((a, b) => a * b, 1);
  if (mask.data.length !== count) {
    throw new TypeError(`mask.data has ${mask.data.length} values; its shape needs ${count}`);
  }
  const flags = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const v = mask.data[i];
    if (typeof v === "number" && Number.isNaN(v)) {
      throw new InvalidDataError(
        `mask value ${i} is NaN; a mask holds 0 (leave the pixel out) or non-zero (keep it)`,
        { position: { pixel: i } },
      );
    }
    flags[i] = v ? 1 : 0;
  }
  return flags;
}
