/**
 * Images read by row bands, so an image larger than memory can be processed band by band:
 * `.npy` files (`openNpy`) and HDF5 datasets (`openHdf5Dataset`) of shape `[h, w, c]` (or
 * `[h, w]`, one channel), or any object with the same four members.
 *
 * @module
 */

import { requireDeno } from "../core/runtime.ts";
import { InvalidDataError } from "../core/errors.ts";
import { openHdf5Dataset } from "./hdf5_read.ts";
import { openNpy } from "./npy.ts";
import type { ArrayRowReader } from "./row_reader.ts";

/** An image `[height, width, channels]` whose rows are read on demand, as float32. */
export interface ImageSource {
  /** Rows. */
  readonly height: number;
  /** Columns. */
  readonly width: number;
  /** Values per pixel. */
  readonly channels: number;
  /** Reads rows `[start, start + count)`: `count · width · channels` values, C order. */
  readRows(start: number, count: number): Promise<Float32Array>;
}

/** An {@linkcode ImageSource} backed by an open file; close it when done. */
export interface FileImageSource extends ImageSource, Disposable {
  /** Closes the file; a second call does nothing. */
  close(): void;
}

/**
 * Views an open array reader of shape `[h, w, c]` or `[h, w]` as an image source.
 *
 * @param reader From `openNpy` or `openHdf5Dataset`; closing the source closes it.
 * @param name The file (and dataset) for messages.
 * @returns The source.
 * @throws {InvalidDataError} When the array is not 2-D or 3-D, or is empty.
 * @example
 * ```ts
 * import { imageSourceOf } from "./image_source.ts";
 * import { openNpy, writeNpy } from "./npy.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * await writeNpy(`${dir}/i.npy`, { data: new Float32Array(24).map((_, i) => i), shape: [2, 4, 3] });
 * using image = imageSourceOf(await openNpy(`${dir}/i.npy`), "i.npy");
 * assert(image.height === 2 && image.width === 4 && image.channels === 3);
 * assert((await image.readRows(1, 1))[0] === 12);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function imageSourceOf(reader: ArrayRowReader, name: string): FileImageSource {
  const shape = reader.shape;
  if ((shape.length !== 2 && shape.length !== 3) || shape.some((d) => d === 0)) {
    reader.close();
    throw new InvalidDataError(
      `${name} holds an array of shape [${shape.join(", ")}]; an image is [height, width, ` +
        `channels] (or [height, width]) with no empty axis`,
    );
  }
  return {
    height: shape[0],
    width: shape[1],
    channels: shape.length === 3 ? shape[2] : 1,
    readRows: (start, count) => reader.readRows(start, count),
    close: () => reader.close(),
    [Symbol.dispose]: () => reader.close(),
  };
}

/**
 * Opens an image file for reading by row bands: `.npy` (C order), or `.h5`/`.hdf5` with
 * `dataset`.
 *
 * @param path The file.
 * @param options `dataset`: the dataset inside an HDF5 file (required there).
 * @returns The source; close it when done.
 * @throws {TypeError} When the extension is unknown or an HDF5 file comes without `dataset`.
 * @throws {InvalidDataError} When the array is not an image (see {@linkcode imageSourceOf}) or
 *   the file is not readable as its format.
 * @throws {Deno.errors.NotFound} When the file or dataset does not exist.
 * @example
 * ```ts
 * import { openImageSource } from "./image_source.ts";
 * import { writeHdf5 } from "./hdf5.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * const data = new Float32Array(12).fill(2);
 * await writeHdf5(`${dir}/i.h5`, { datasets: [{ path: "img", data, shape: [3, 4] }] });
 * using image = await openImageSource(`${dir}/i.h5`, { dataset: "img" });
 * assert(image.channels === 1 && (await image.readRows(2, 1)).length === 4);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openImageSource(
  path: string,
  options: { dataset?: string } = {},
): Promise<FileImageSource> {
  requireDeno("openImageSource()");
  if (typeof path !== "string" || path === "") throw new TypeError("path must be a file path");
  const ext = path.toLowerCase().split(".").pop();
  if (ext === "npy") return imageSourceOf(await openNpy(path), path);
  if (ext === "h5" || ext === "hdf5") {
    if (options.dataset === undefined) {
      throw new TypeError(`${path} is HDF5: name the image's dataset (dataset: "/image")`);
    }
    const reader = await openHdf5Dataset(path, options.dataset);
    return imageSourceOf(reader, `${path}:${options.dataset}`);
  }
  throw new TypeError(`cannot read an image from ${path}: give a .npy, .h5 or .hdf5 file`);
}
