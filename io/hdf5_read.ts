/**
 * Reading HDF5 files: a file's tree, datasets whole or by rows (see `./hdf5.ts`).
 *
 * @module
 */

import { requireDeno } from "../core/runtime.ts";
import { InvalidDataError } from "../core/errors.ts";
import { checkRowRange } from "./_binary.ts";
import { loadH5wasm } from "./_h5wasm.ts";
import { closeQuietly, h5do, normalise, openExisting } from "./_hdf5_file.ts";
import {
  checkedDataset,
  describeDataset,
  type OpenHdf5,
  readAttrs,
  readRowsChecked,
} from "./_hdf5_dataset.ts";
import type { Hdf5DatasetReader, Hdf5ReadData, Hdf5ReadOptions, Hdf5Tree } from "./hdf5_types.ts";

/**
 * Lists an HDF5 file's groups and datasets with shapes, element types, storage and attributes,
 * without reading any dataset's values.
 *
 * @param path The file.
 * @param options `allowExternal` (default false): follow external links to other files.
 * @returns The tree (external links are not listed unless allowed).
 * @throws {Deno.errors.NotFound} When the file does not exist.
 * @throws {InvalidDataError} When it is not an HDF5 file, or it is damaged (the message names
 * the file and object; HDF5's diagnostics are the error's `cause`).
 * @example
 * ```ts
 * import { readHdf5Tree, writeHdf5 } from "./hdf5.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * await writeHdf5(`${dir}/t.h5`, {
 *   groups: [{ path: "a", attrs: { n: 2 } }],
 *   datasets: [{ path: "a/x", data: new Float32Array(6), shape: [3, 2] }],
 * });
 * const tree = await readHdf5Tree(`${dir}/t.h5`);
 * assert(tree.groups[0].path === "/a" && tree.datasets[0].dtype === "float32");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readHdf5Tree(
  path: string,
  options: Hdf5ReadOptions = {},
): Promise<Hdf5Tree> {
  requireDeno("readHdf5Tree()");
  const open = await openForReading(path, options);
  const { place, file } = open;
  const h5 = place.h5;
  try {
    const tree: Hdf5Tree = { attrs: readAttrs(open, file), groups: [], datasets: [] };
    for (const name of h5do(place, { action: "list" }, () => file.paths())) {
      const full = normalise(name);
      const entity = h5do(place, { action: "open", object: full }, () => file.get(name));
      if (entity instanceof h5.Dataset) tree.datasets.push(describeDataset(open, entity, full));
      else if (entity instanceof h5.Group) {
        tree.groups.push({ path: full, attrs: readAttrs(open, entity) });
      }
    }
    return tree;
  } finally {
    closeQuietly(file);
  }
}

/**
 * Reads a numeric dataset, whole or a slice of rows along its first axis (only that slice is
 * read from the file, so large datasets can be processed in pieces).
 *
 * @param path The file.
 * @param datasetPath The dataset inside it.
 * @param options `rowStart` (default 0) and `rowCount` (default: the rest); `allowExternal`
 * (default false) lets the file read other files (see {@linkcode Hdf5ReadOptions}).
 * @returns The values in the stored element type (C order) and their shape.
 * @throws {Deno.errors.NotFound} When the file or dataset does not exist (the message lists the
 * datasets there are).
 * @throws {InvalidDataError} When the file is not HDF5 or is damaged, the dataset is not numeric,
 * refers to another file (without `allowExternal`), or declares far more values than the file
 * can hold.
 * @throws {OutOfMemoryError} When the rows asked for exceed the memory budget
 * (`PRISM_MEMORY_BUDGET`).
 * @throws {RangeError} When the row range leaves the dataset, or rows are asked of a scalar.
 * @example
 * ```ts
 * import { readHdf5Dataset, writeHdf5 } from "./hdf5.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * const data = new Int32Array([0, 1, 2, 3, 4, 5, 6, 7]);
 * await writeHdf5(`${dir}/r.h5`, { datasets: [{ path: "x", data, shape: [4, 2] }] });
 * const part = await readHdf5Dataset(`${dir}/r.h5`, "x", { rowStart: 1, rowCount: 2 });
 * assert(part.shape[0] === 2 && part.data[0] === 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readHdf5Dataset(
  path: string,
  datasetPath: string,
  options: { rowStart?: number; rowCount?: number } & Hdf5ReadOptions = {},
): Promise<{ data: Hdf5ReadData; shape: number[] }> {
  requireDeno("readHdf5Dataset()");
  const open = await openForReading(path, options);
  try {
    const d = checkedDataset(open, datasetPath);
    const shape = d.shape;
    if (shape.length === 0) {
      if (options.rowStart !== undefined || options.rowCount !== undefined) {
        throw new RangeError(`${datasetPath} in ${path} is a scalar; it has no rows to slice`);
      }
      return { data: readRowsChecked(open, d, { start: 0, count: 1, float32: false }), shape };
    }
    const start = options.rowStart ?? 0;
    const count = options.rowCount ?? Math.max(0, shape[0] - start);
    checkRowRange({ start, count }, shape[0]);
    return {
      data: readRowsChecked(open, d, { start, count, float32: false }),
      shape: [count, ...shape.slice(1)],
    };
  } finally {
    closeQuietly(open.file);
  }
}

/**
 * Reads several whole numeric datasets of one file, opening it once (cheaper than one
 * {@linkcode readHdf5Dataset} call per dataset when there are many).
 *
 * @param path The file.
 * @param datasetPaths The datasets inside it.
 * @param options `allowExternal` (default false): let the file read other files.
 * @returns One `{ data, shape }` per dataset, in the order asked.
 * @throws {Deno.errors.NotFound} When the file or a dataset does not exist (the message lists the
 * datasets there are).
 * @throws {InvalidDataError} When the file is not HDF5 or is damaged, or a dataset is not numeric,
 * refers to another file or declares more than the file can hold (all checked before reading).
 * @throws {OutOfMemoryError} When a dataset exceeds the memory budget.
 * @throws {TypeError} When `datasetPaths` is not an array of paths.
 * @example
 * ```ts
 * import { readHdf5Datasets, writeHdf5 } from "./hdf5.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * await writeHdf5(`${dir}/b.h5`, {
 *   datasets: [
 *     { path: "g/a", data: new Float32Array([1, 2]), shape: [2] },
 *     { path: "g/b", data: new Uint32Array([7]), shape: [1] },
 *   ],
 * });
 * const [a, b] = await readHdf5Datasets(`${dir}/b.h5`, ["g/a", "/g/b"]);
 * assert(a.data[1] === 2 && b.data instanceof Uint32Array && b.data[0] === 7);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readHdf5Datasets(
  path: string,
  datasetPaths: readonly string[],
  options: Hdf5ReadOptions = {},
): Promise<{ data: Hdf5ReadData; shape: number[] }[]> {
  requireDeno("readHdf5Datasets()");
  if (!Array.isArray(datasetPaths)) {
    throw new TypeError("datasetPaths must be an array of dataset paths inside the file");
  }
  datasetPaths.forEach((p) => normalise(p));
  const open = await openForReading(path, options);
  try {
    const checked = datasetPaths.map((p) => checkedDataset(open, p));
    return checked.map((d) => ({
      data: readRowsChecked(open, d, { start: 0, count: d.shape[0] ?? 1, float32: false }),
      shape: d.shape,
    }));
  } finally {
    closeQuietly(open.file);
  }
}

/**
 * Opens a numeric dataset for reading rows on demand, keeping the file open until `close()`.
 *
 * @param path The file.
 * @param datasetPath The dataset inside it.
 * @param options `allowExternal` (default false): let the file read other files.
 * @returns A reader; close it when done. `readRows` rejects with `OutOfMemoryError` when the
 * rows asked for exceed the memory budget, and reads in pieces of at most 64 MiB.
 * @throws {Deno.errors.NotFound} When the file or dataset does not exist.
 * @throws {InvalidDataError} When the file is not HDF5 or is damaged, the dataset is not
 * numeric, refers to another file (without `allowExternal`), declares far more values than the
 * file can hold, or has rows of no values.
 * @example
 * ```ts
 * import { openHdf5Dataset, writeHdf5 } from "./hdf5.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * const data = new Float64Array([1, 2, 3, 4, 5, 6]);
 * await writeHdf5(`${dir}/o.h5`, { datasets: [{ path: "g/x", data, shape: [3, 2] }] });
 * const reader = await openHdf5Dataset(`${dir}/o.h5`, "/g/x");
 * const rows = await reader.readRows(2, 1);
 * reader.close();
 * assert(rows instanceof Float32Array && rows[1] === 6);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openHdf5Dataset(
  path: string,
  datasetPath: string,
  options: Hdf5ReadOptions = {},
): Promise<Hdf5DatasetReader> {
  requireDeno("openHdf5Dataset()");
  const open = await openForReading(path, options);
  try {
    const d = checkedDataset(open, datasetPath);
    const shape = d.shape;
    const rows = shape.length === 0 ? 1 : shape[0];
    const rowLength = shape.slice(1).reduce((a, b) => a * b, 1);
    if (rowLength === 0 && rows > 0) {
      throw new InvalidDataError(
        `${d.path} in ${path} has shape [${shape.join(", ")}]: its ${rows} rows hold no values ` +
          `(an axis after the first is 0), so there is nothing to stream; check the file`,
      );
    }
    let closed = false;
    const close = () => {
      if (!closed) closeQuietly(open.file);
      closed = true;
    };
    return {
      shape,
      dtype: d.dtype,
      rows,
      rowLength,
      // A layout attribute (io/layout.ts) names the bands axis, so the source never guesses it.
      attrs: readAttrs(open, d.dataset),
      readRows(start: number, count: number): Promise<Float32Array> {
        // h5wasm reads synchronously; errors still arrive through the promise.
        try {
          checkRowRange({ start, count }, rows);
          if (closed) throw new TypeError(`the reader of ${datasetPath} in ${path} is closed`);
          const range = shape.length === 0 ? { start: 0, count: 1 } : { start, count };
          return Promise.resolve(
            readRowsChecked(open, d, { ...range, float32: true }) as Float32Array,
          );
        } catch (error) {
          return Promise.reject(error);
        }
      },
      close,
      [Symbol.dispose]: close,
    };
  } catch (error) {
    closeQuietly(open.file);
    throw error;
  }
}

async function openForReading(path: string, options: Hdf5ReadOptions): Promise<OpenHdf5> {
  const allowExternal = options.allowExternal ?? false;
  if (typeof allowExternal !== "boolean") {
    throw new TypeError(`allowExternal must be true or false, got ${String(allowExternal)}`);
  }
  const h5 = await loadH5wasm();
  return await openExisting(h5, path, allowExternal);
}
