/**
 * Reading HDF5 files: a file's tree, datasets whole or by rows (see `./hdf5.ts`).
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";
import { checkRowRange } from "./_binary.ts";
import { type H5, type H5Dataset, type H5File, type H5Group, loadH5wasm } from "./_h5wasm.ts";
import { normalise, openExisting } from "./_hdf5_file.ts";
import type {
  Hdf5Attrs,
  Hdf5DatasetInfo,
  Hdf5DatasetReader,
  Hdf5ReadData,
  Hdf5Tree,
} from "./hdf5_types.ts";

/**
 * Lists an HDF5 file's groups and datasets with shapes, element types, storage and attributes,
 * without reading any dataset's values.
 *
 * @param path The file.
 * @returns The tree.
 * @throws {Deno.errors.NotFound} When the file does not exist.
 * @throws {InvalidDataError} When it is not an HDF5 file.
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
export async function readHdf5Tree(path: string): Promise<Hdf5Tree> {
  const h5 = await loadH5wasm();
  const file = await openExisting(h5, path);
  try {
    const tree: Hdf5Tree = { attrs: readAttrs(file), groups: [], datasets: [] };
    for (const name of file.paths()) {
      const entity = file.get(name);
      const full = normalise(name);
      if (entity instanceof h5.Dataset) tree.datasets.push(describeDataset(entity, full));
      else if (entity instanceof h5.Group) {
        tree.groups.push({ path: full, attrs: readAttrs(entity) });
      }
    }
    return tree;
  } finally {
    file.close();
  }
}

/**
 * Reads a numeric dataset, whole or a slice of rows along its first axis (only that slice is
 * read from the file, so large datasets can be processed in pieces).
 *
 * @param path The file.
 * @param datasetPath The dataset inside it.
 * @param options `rowStart` (default 0) and `rowCount` (default: the rest).
 * @returns The values in the stored element type (C order) and their shape.
 * @throws {Deno.errors.NotFound} When the file or dataset does not exist (the message lists the
 * datasets there are).
 * @throws {InvalidDataError} When the file is not HDF5 or the dataset is not numeric.
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
  options: { rowStart?: number; rowCount?: number } = {},
): Promise<{ data: Hdf5ReadData; shape: number[] }> {
  const h5 = await loadH5wasm();
  const file = await openExisting(h5, path);
  try {
    const dataset = getNumericDataset(h5, file, path, datasetPath);
    const shape = dataset.shape ?? [];
    if (shape.length === 0) {
      if (options.rowStart !== undefined || options.rowCount !== undefined) {
        throw new RangeError(`${datasetPath} in ${path} is a scalar; it has no rows to slice`);
      }
      return { data: asArray(dataset.value, dataset), shape: [] };
    }
    const start = options.rowStart ?? 0;
    const count = options.rowCount ?? Math.max(0, shape[0] - start);
    checkRowRange({ start, count }, shape[0]);
    return { data: readSlice(dataset, start, count), shape: [count, ...shape.slice(1)] };
  } finally {
    file.close();
  }
}

/**
 * Reads several whole numeric datasets of one file, opening it once (cheaper than one
 * {@linkcode readHdf5Dataset} call per dataset when there are many).
 *
 * @param path The file.
 * @param datasetPaths The datasets inside it.
 * @returns One `{ data, shape }` per dataset, in the order asked.
 * @throws {Deno.errors.NotFound} When the file or a dataset does not exist (the message lists the
 * datasets there are).
 * @throws {InvalidDataError} When the file is not HDF5 or a dataset is not numeric.
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
): Promise<{ data: Hdf5ReadData; shape: number[] }[]> {
  if (!Array.isArray(datasetPaths)) {
    throw new TypeError("datasetPaths must be an array of dataset paths inside the file");
  }
  datasetPaths.forEach((p) => normalise(p));
  const h5 = await loadH5wasm();
  const file = await openExisting(h5, path);
  try {
    return datasetPaths.map((datasetPath) => {
      const dataset = getNumericDataset(h5, file, path, datasetPath);
      const shape = dataset.shape ?? [];
      return { data: asArray(dataset.value, dataset), shape };
    });
  } finally {
    file.close();
  }
}

/**
 * Opens a numeric dataset for reading rows on demand, keeping the file open until `close()`.
 *
 * @param path The file.
 * @param datasetPath The dataset inside it.
 * @returns A reader; close it when done.
 * @throws {Deno.errors.NotFound} When the file or dataset does not exist.
 * @throws {InvalidDataError} When the file is not HDF5 or the dataset is not numeric.
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
): Promise<Hdf5DatasetReader> {
  const h5 = await loadH5wasm();
  const file = await openExisting(h5, path);
  try {
    const dataset = getNumericDataset(h5, file, path, datasetPath);
    const shape = dataset.shape ?? [];
    const rows = shape.length === 0 ? 1 : shape[0];
    const rowLength = shape.slice(1).reduce((a, b) => a * b, 1);
    let closed = false;
    const close = () => {
      if (!closed) file.close();
      closed = true;
    };
    return {
      shape,
      dtype: dtypeName(dataset),
      rows,
      rowLength,
      readRows(start: number, count: number): Promise<Float32Array> {
        // h5wasm reads synchronously; errors still arrive through the promise.
        try {
          checkRowRange({ start, count }, rows);
          if (closed) throw new TypeError(`the reader of ${datasetPath} in ${path} is closed`);
          const values = shape.length === 0
            ? asArray(dataset.value, dataset)
            : readSlice(dataset, start, count);
          return Promise.resolve(toFloat32(values));
        } catch (error) {
          return Promise.reject(error);
        }
      },
      close,
      [Symbol.dispose]: close,
    };
  } catch (error) {
    file.close();
    throw error;
  }
}

function readAttrs(target: H5Group | H5Dataset): Hdf5Attrs {
  const out: Hdf5Attrs = {};
  for (const [name, attr] of Object.entries(target.attrs)) {
    const v = attr.value as unknown;
    if (typeof v === "string" || typeof v === "number") out[name] = v;
    else if (typeof v === "bigint") out[name] = Number(v);
    else if (typeof v === "boolean") out[name] = v ? 1 : 0;
    else if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      out[name] = Array.from(v as unknown as ArrayLike<number | bigint>, Number);
    } else if (Array.isArray(v) && v.every((s) => typeof s === "string")) out[name] = v;
    else out[name] = JSON.stringify(attr.json_value);
  }
  return out;
}

function dtypeName(dataset: H5Dataset): string {
  const m = dataset.metadata;
  if (m.type === 1) return `float${m.size * 8}`;
  if (m.type === 0) return `${m.signed ? "int" : "uint"}${m.size * 8}`;
  const classes: Record<number, string> = {
    2: "time",
    3: "string",
    4: "bitfield",
    5: "opaque",
    6: "compound",
    7: "reference",
    8: "enum",
    9: "vlen",
    10: "array",
  };
  return classes[m.type] ?? `class-${m.type}`;
}

function describeDataset(dataset: H5Dataset, path: string): Hdf5DatasetInfo {
  const filters = dataset.filters;
  const deflate = filters.find((f) => f.id === 1);
  return {
    path,
    shape: dataset.shape ?? [],
    dtype: dtypeName(dataset),
    chunks: dataset.metadata.chunks,
    ...(deflate === undefined ? {} : { gzip: deflate.cd_values?.[0] ?? 0 }),
    filters: filters.map((f) => f.name),
    attrs: readAttrs(dataset),
  };
}

function getNumericDataset(h5: H5, file: H5File, path: string, datasetPath: string): H5Dataset {
  const full = normalise(datasetPath);
  const entity = file.get(full);
  if (!(entity instanceof h5.Dataset)) {
    const datasets = file.paths().filter((p) => file.get(p) instanceof h5.Dataset);
    const listed = datasets.slice(0, 20).map((p) => {
      const d = file.get(p) as H5Dataset;
      return `${normalise(p)} (${dtypeName(d)} [${(d.shape ?? []).join(", ")}])`;
    });
    const more = datasets.length > 20 ? `, and ${datasets.length - 20} more` : "";
    throw new Deno.errors.NotFound(
      `${path} has no dataset ${full}${entity === null ? "" : " (it is a group)"}; ` +
        (datasets.length === 0
          ? "the file holds no datasets"
          : `it holds: ${listed.join(", ")}${more}`),
    );
  }
  const m = entity.metadata;
  if (m.type !== 0 && m.type !== 1) {
    throw new InvalidDataError(
      `${full} in ${path} holds ${dtypeName(entity)} values; only numeric datasets can be read`,
    );
  }
  return entity;
}

function readSlice(dataset: H5Dataset, start: number, count: number): Hdf5ReadData {
  return asArray(dataset.slice([[start, start + count]]), dataset);
}

function asArray(value: unknown, dataset: H5Dataset): Hdf5ReadData {
  if (ArrayBuffer.isView(value)) return value as Hdf5ReadData;
  if (typeof value === "number") {
    return dtypeName(dataset) === "float32" ? new Float32Array([value]) : new Float64Array([value]);
  }
  if (typeof value === "bigint") return new BigInt64Array([value]);
  throw new InvalidDataError(`${dataset.path} did not read as numbers (${dtypeName(dataset)})`);
}

function toFloat32(values: Hdf5ReadData): Float32Array {
  if (values instanceof Float32Array) return values;
  const out = new Float32Array(values.length);
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    for (let i = 0; i < values.length; i++) out[i] = Number(values[i]);
  } else out.set(values);
  return out;
}
