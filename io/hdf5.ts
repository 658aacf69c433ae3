/**
 * HDF5 files through h5wasm (the HDF5 C library compiled to WebAssembly): write groups, datasets
 * (chunked, gzip) and attributes atomically; list a file's tree; read datasets whole or by row
 * slices along the first axis, so large datasets stream.
 *
 * Paths inside a file may be given with or without the leading `/`; they are reported with it.
 * Attribute numbers that are all safe integers are stored as int64, other numbers as float64,
 * strings as variable-length UTF-8 strings.
 *
 * @module
 */

import { resolve } from "node:path";
import { InvalidDataError } from "../core/errors.ts";
import { checkInteger } from "../core/validate.ts";
import { checkRowRange } from "./_binary.ts";
import { type H5, type H5Dataset, type H5File, type H5Group, loadH5wasm } from "./_h5wasm.ts";
import { withAtomicPath } from "./atomic.ts";

/** Attribute values prism writes and reads back. */
export type Hdf5Attrs = Record<string, string | number | string[] | number[]>;

/** The typed arrays a dataset can be written from. */
export type Hdf5Data =
  | Float32Array
  | Float64Array
  | Int32Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array;

/** The typed arrays a numeric dataset can be read into (HDF5 files from elsewhere add a few). */
export type Hdf5ReadData = Hdf5Data | Int8Array | BigUint64Array;

/** One dataset to write. */
export interface Hdf5DatasetSpec {
  /** Where in the file, e.g. `"conv1/stable_rank"`; missing parent groups are created. */
  path: string;
  /** The values, C order. */
  data: Hdf5Data;
  /** The extent of each axis; the product must equal `data.length`. */
  shape: number[];
  /** Chunk extents (one per axis, each at most the axis extent); chosen when `gzip` needs them. */
  chunks?: number[];
  /** gzip (deflate) level 0-9; absent means no compression. */
  gzip?: number;
  /** Attributes of the dataset. */
  attrs?: Hdf5Attrs;
}

/** What {@linkcode writeHdf5} writes. */
export interface Hdf5Content {
  /** Attributes of the root group. */
  attrs?: Hdf5Attrs;
  /** Groups to create (with their attributes); existing ones get the attributes set. */
  groups?: { path: string; attrs?: Hdf5Attrs }[];
  /** Datasets to create. */
  datasets?: Hdf5DatasetSpec[];
}

/** A dataset as {@linkcode readHdf5Tree} lists it. */
export interface Hdf5DatasetInfo {
  /** Absolute path in the file. */
  path: string;
  /** The extent of each axis (`[]` for a scalar). */
  shape: number[];
  /** `float32`, `int64`, ... for numbers; `string`, `compound`, ... otherwise. */
  dtype: string;
  /** Chunk extents, or `null` when stored contiguously. */
  chunks: number[] | null;
  /** The gzip level when the deflate filter is on. */
  gzip?: number;
  /** Names of all filters in the pipeline (`deflate`, `shuffle`, ...). */
  filters: string[];
  /** Attributes. */
  attrs: Hdf5Attrs;
}

/** A file's groups and datasets. Links to missing targets and named datatypes are not listed. */
export interface Hdf5Tree {
  /** Attributes of the root group. */
  attrs: Hdf5Attrs;
  /** Every group but the root, parents before children. */
  groups: { path: string; attrs: Hdf5Attrs }[];
  /** Every dataset. */
  datasets: Hdf5DatasetInfo[];
}

/** An open dataset whose rows (slices along the first axis) are read on demand. */
export interface Hdf5DatasetReader {
  /** The extent of each axis. */
  readonly shape: readonly number[];
  /** The element type, e.g. `float32`. */
  readonly dtype: string;
  /** Rows along the first axis (1 for a scalar). */
  readonly rows: number;
  /** Values per row. */
  readonly rowLength: number;
  /**
   * Reads `count` rows from `start`, converted to float32. Asynchronous like the `.npy` and
   * ENVI readers' `readRows`, so a cube source reads every format alike.
   */
  readRows(start: number, count: number): Promise<Float32Array>;
  /** Closes the file. */
  close(): void;
  /** Closes the file (`using reader = await openHdf5Dataset(...)`). */
  [Symbol.dispose](): void;
}

const DTYPES: [new (n: number) => Hdf5Data, string][] = [
  [Float32Array, "<f"],
  [Float64Array, "<d"],
  [Int32Array, "<i"],
  [Uint8Array, "<B"],
  [Int16Array, "<h"],
  [Uint16Array, "<H"],
  [Uint32Array, "<I"],
  [BigInt64Array, "<q"],
];

// Files are written with HDF5 1.10 object formats at both bounds: newer, smaller object headers
// and B-tree v2 chunk indexes than the library's "earliest" default (the tracker's 1,000
// measurements x 10 layers: 0.52 MB -> about 0.3 MB, written 3x faster), still readable by every
// HDF5 >= 1.10 (h5py since 2.8). A lone "v110" would mean [v110, latest] and HDF5 rejects it.
const LIBVER: ["v110", "v110"] = ["v110", "v110"];

// Aim for chunks of about 64 KiB when gzip is asked for without chunk sizes (h5py does similar).
const AUTO_CHUNK_BYTES = 65536;

/**
 * Writes groups, datasets and attributes to an HDF5 file atomically: the file is built under a
 * temporary name and renamed into place, so a failure leaves the target as it was. With
 * `append`, the existing file (if any) is copied to the temporary name first and extended.
 *
 * @param path The file to create, replace or (with `append`) extend.
 * @param content What to write.
 * @param options `append: true` keeps what the file holds (a missing file is created).
 * @returns Resolves once the file is in place.
 * @throws {TypeError} When a dataset's data is not a supported typed array, its shape does not
 * match its length, or an attribute value has an unsupported type.
 * @throws {RangeError} On chunk sizes outside 1..extent or a gzip level outside 0..9.
 * @throws {Deno.errors.AlreadyExists} When appending a dataset whose path exists.
 * @throws {InvalidDataError} When appending to a file that is not HDF5.
 * @example
 * ```ts
 * import { readHdf5Dataset, writeHdf5 } from "./hdf5.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * await writeHdf5(`${dir}/m.h5`, {
 *   attrs: { columns: ["step", "loss"] },
 *   datasets: [{ path: "fc1/loss", data: new Float64Array([0.5, 0.25]), shape: [2], gzip: 6 }],
 * });
 * const { data } = await readHdf5Dataset(`${dir}/m.h5`, "fc1/loss");
 * assert(data[1] === 0.25);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeHdf5(
  path: string,
  content: Hdf5Content,
  options: { append?: boolean } = {},
): Promise<void> {
  if (typeof path !== "string" || path === "") throw new TypeError("path must be a file path");
  if (content === null || typeof content !== "object") {
    throw new TypeError("content must be an object { attrs?, groups?, datasets? }");
  }
  const datasets = (content.datasets ?? []).map(prepareDataset);
  const groups = content.groups ?? [];
  groups.forEach((g) => normalise(g.path));
  checkAttrs(content.attrs, "/");
  groups.forEach((g) => checkAttrs(g.attrs, g.path));
  const h5 = await loadH5wasm();
  const target = resolve(path);
  await withAtomicPath(target, async (tmp) => {
    let existing = false;
    if (options.append === true) {
      try {
        await Deno.copyFile(target, tmp);
        existing = true;
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    const file = openFile(h5, tmp, existing ? "a" : "w", path);
    try {
      writeAttrs(file, content.attrs);
      for (const g of groups) writeAttrs(ensureGroup(h5, file, normalise(g.path)), g.attrs);
      for (const d of datasets) {
        if (file.get(d.path) !== null) {
          throw new Deno.errors.AlreadyExists(
            `Cannot write dataset ${d.path} to ${path}: the file already holds ${d.path}; ` +
              `choose another path or write a new file`,
          );
        }
        const parent = d.path.slice(0, d.path.lastIndexOf("/")) || "/";
        ensureGroup(h5, file, parent);
        const dataset = file.create_dataset({
          name: d.path,
          data: d.spec.data,
          shape: d.spec.shape,
          dtype: d.dtype,
          ...(d.chunks === undefined ? {} : { chunks: d.chunks }),
          ...(d.spec.gzip === undefined ? {} : { compression: d.spec.gzip }),
        });
        writeAttrs(dataset, d.spec.attrs);
      }
    } finally {
      file.close();
    }
  });
}

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
    checkRowRange(start, count, shape[0]);
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
          checkRowRange(start, count, rows);
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

interface PreparedDataset {
  spec: Hdf5DatasetSpec;
  path: string;
  dtype: string;
  chunks?: number[];
}

function prepareDataset(spec: Hdf5DatasetSpec, index: number): PreparedDataset {
  const where = `datasets[${index}]`;
  if (spec === null || typeof spec !== "object") {
    throw new TypeError(`${where} must be an object { path, data, shape }`);
  }
  const path = normalise(spec.path);
  const entry = DTYPES.find(([ctor]) => spec.data instanceof ctor);
  if (entry === undefined) {
    throw new TypeError(
      `${where} (${path}).data must be a Float32Array, Float64Array, Int32Array, Uint8Array, ` +
        `Int16Array, Uint16Array, Uint32Array or BigInt64Array`,
    );
  }
  const shape = spec.shape;
  if (!Array.isArray(shape)) throw new TypeError(`${where} (${path}).shape must be an array`);
  shape.forEach((d, a) => checkInteger(`${path} shape[${a}]`, d, 0));
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== spec.data.length) {
    throw new TypeError(
      `${path}: shape [${shape.join(", ")}] holds ${count} values but data has ${spec.data.length}`,
    );
  }
  if (spec.gzip !== undefined) checkInteger(`${path} gzip level`, spec.gzip, 0, 9);
  checkAttrs(spec.attrs, path);
  let chunks = spec.chunks;
  if (chunks !== undefined) {
    if (!Array.isArray(chunks) || chunks.length !== shape.length) {
      throw new TypeError(`${path}: chunks must have one extent per axis (${shape.length})`);
    }
    chunks.forEach((c, a) => checkInteger(`${path} chunks[${a}]`, c, 1, Math.max(1, shape[a])));
  } else if (spec.gzip !== undefined) {
    chunks = autoChunks(shape, spec.data.BYTES_PER_ELEMENT);
  }
  if (chunks !== undefined && shape.length === 0) {
    throw new RangeError(`${path} is a scalar; HDF5 cannot chunk or compress it (drop gzip)`);
  }
  return { spec, path, dtype: entry[1], ...(chunks === undefined ? {} : { chunks }) };
}

function autoChunks(shape: readonly number[], itemSize: number): number[] {
  const rowBytes = shape.slice(1).reduce((a, b) => a * Math.max(1, b), itemSize);
  const rows = Math.max(1, Math.floor(AUTO_CHUNK_BYTES / rowBytes));
  return shape.map((d, a) => Math.max(1, a === 0 ? Math.min(d, rows) : d));
}

function normalise(path: string): string {
  if (typeof path !== "string" || path.replace(/\//g, "") === "") {
    throw new TypeError(`an HDF5 object path must be a non-empty string like "a/b", got ${path}`);
  }
  return "/" + path.split("/").filter((p) => p !== "").join("/");
}

function ensureGroup(h5: H5, file: H5File, path: string): H5Group {
  let group: H5Group = file;
  let current = "";
  for (const part of path.split("/").filter((p) => p !== "")) {
    current += "/" + part;
    const entity = file.get(current);
    if (entity === null) group = file.create_group(current);
    else if (entity instanceof h5.Group) group = entity;
    else {
      throw new TypeError(`${current} exists and is not a group, so it cannot hold ${path}`);
    }
  }
  return group;
}

function checkAttrs(attrs: Hdf5Attrs | undefined, where: string): void {
  if (attrs === undefined) return;
  if (attrs === null || typeof attrs !== "object") {
    throw new TypeError(`attrs of ${where} must be an object of name: value`);
  }
  for (const [name, value] of Object.entries(attrs)) {
    const ok = typeof value === "string" || (typeof value === "number") ||
      (Array.isArray(value) &&
        (value.every((v) => typeof v === "string") || value.every((v) => typeof v === "number")));
    if (!ok) {
      throw new TypeError(
        `attribute ${name} of ${where} must be a string, a number, or an array of only strings ` +
          `or only numbers`,
      );
    }
  }
}

function writeAttrs(target: H5Group | H5Dataset, attrs: Hdf5Attrs | undefined): void {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (name in target.attrs) target.delete_attribute(name);
    if (typeof value === "string") {
      target.create_attribute(name, value);
    } else if (Array.isArray(value) && value.length > 0 && typeof value[0] === "string") {
      target.create_attribute(name, value as string[], [value.length]);
    } else {
      const numbers = (Array.isArray(value) ? value : [value]) as number[];
      const shape = Array.isArray(value) ? [value.length] : [];
      if (numbers.length > 0 && numbers.every((v) => Number.isSafeInteger(v))) {
        target.create_attribute(name, BigInt64Array.from(numbers, BigInt), shape, "<q");
      } else {
        target.create_attribute(name, Float64Array.from(numbers), shape, "<d");
      }
    }
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

async function openExisting(h5: H5, path: string): Promise<H5File> {
  if (typeof path !== "string" || path === "") throw new TypeError("path must be a file path");
  const target = resolve(path);
  try {
    await Deno.stat(target);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`HDF5 file ${path} does not exist`, { cause: error });
    }
    throw error;
  }
  return openFile(h5, target, "r", path);
}

function openFile(h5: H5, fsPath: string, mode: "r" | "a" | "w", shown: string): H5File {
  try {
    return mode === "r" ? new h5.File(fsPath, mode) : new h5.File(fsPath, mode, { libver: LIBVER });
  } catch (error) {
    const text = String(error);
    if (text.includes("file signature not found")) {
      throw new InvalidDataError(
        `${shown} is not an HDF5 file (no HDF5 signature found); check the path`,
        { cause: error },
      );
    }
    // HDF5's error stack lists the call chain; its deepest frame says what actually failed.
    const frames = [...text.matchAll(/#\d+: .*?\(\): (.*)/g)].map((m) => m[1]);
    throw new InvalidDataError(
      `Cannot open ${shown} as HDF5 (mode ${mode}): ${frames.at(-1) ?? text.slice(0, 200)}`,
      { cause: error },
    );
  }
}
