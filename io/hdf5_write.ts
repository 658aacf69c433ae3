/**
 * Writing HDF5 files atomically (see `./hdf5.ts`).
 *
 * @module
 */

import { requireDeno } from "../core/runtime.ts";
import { absolutePath } from "./_path.ts";
import { checkInteger } from "../core/validate.ts";
import { type H5, type H5Dataset, type H5File, type H5Group, loadH5wasm } from "./_h5wasm.ts";
import { withAtomicPath } from "./atomic.ts";
import { closeQuietly, h5do, type Hdf5Place, normalise, openFile } from "./_hdf5_file.ts";
import type { Hdf5Attrs, Hdf5Content, Hdf5Data, Hdf5DatasetSpec } from "./hdf5_types.ts";

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

// Aim for chunks of about 64 KiB when gzip is asked for without chunk sizes (h5py does similar).
const AUTO_CHUNK_BYTES = 65536;

/**
 * The most bytes one chunk holds: 4 MiB. A reader inflates a whole chunk to read one value of it,
 * and HDF5's default chunk cache is 1 MiB, so chunks of tens of MiB make partial reads slow and
 * memory-hungry in h5py and other tools.
 */
export const MAX_CHUNK_BYTES = 4 * 2 ** 20;

/**
 * Writes groups, datasets and attributes to an HDF5 file atomically: the file is built under a
 * temporary name and renamed into place, so a failure leaves the target as it was. With
 * `append`, the existing file (if any) is copied to the temporary name first and extended.
 * Chunks (given, or chosen for gzip) are kept to at most {@linkcode MAX_CHUNK_BYTES}: larger
 * ones are halved along their first axes until they fit.
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
  requireDeno("writeHdf5()");
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
  const target = absolutePath(path);
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
    const file = openFile(h5, { fsPath: tmp, mode: existing ? "a" : "w", shown: path });
    const place: Hdf5Place = { h5, fsPath: tmp, shown: path, allowExternal: false };
    // Every h5wasm call below goes through the wrapper (errors name the file and object).
    const w = <T>(object: string, fn: () => T): T => h5do(place, { action: "write", object }, fn);
    try {
      w("/", () => writeAttrs(file, content.attrs));
      for (const g of groups) {
        const group = ensureGroup(h5, file, normalise(g.path), w);
        w(g.path, () => writeAttrs(group, g.attrs));
      }
      for (const d of datasets) {
        if (w(d.path, () => file.get(d.path)) !== null) {
          throw new Deno.errors.AlreadyExists(
            `Cannot write dataset ${d.path} to ${path}: the file already holds ${d.path}; ` +
              `choose another path or write a new file`,
          );
        }
        const parent = d.path.slice(0, d.path.lastIndexOf("/")) || "/";
        ensureGroup(h5, file, parent, w);
        const dataset = w(d.path, () =>
          file.create_dataset({
            name: d.path,
            data: d.spec.data,
            shape: d.spec.shape,
            dtype: d.dtype,
            ...(d.chunks === undefined ? {} : { chunks: d.chunks }),
            ...(d.spec.gzip === undefined ? {} : { compression: d.spec.gzip }),
          }));
        w(d.path, () => writeAttrs(dataset, d.spec.attrs));
      }
    } finally {
      closeQuietly(file);
    }
  });
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
  if (chunks !== undefined) chunks = capChunks(chunks, spec.data.BYTES_PER_ELEMENT);
  return { spec, path, dtype: entry[1], ...(chunks === undefined ? {} : { chunks }) };
}

function autoChunks(shape: readonly number[], itemSize: number): number[] {
  const rowBytes = shape.slice(1).reduce((a, b) => a * Math.max(1, b), itemSize);
  const rows = Math.max(1, Math.floor(AUTO_CHUNK_BYTES / rowBytes));
  return shape.map((d, a) => Math.max(1, a === 0 ? Math.min(d, rows) : d));
}

/** Halves chunk extents from the first axis on until a chunk holds at most MAX_CHUNK_BYTES. */
function capChunks(chunks: readonly number[], itemSize: number): number[] {
  const out = [...chunks];
  let bytes = out.reduce((a, b) => a * b, itemSize);
  for (let a = 0; a < out.length && bytes > MAX_CHUNK_BYTES; a++) {
    while (out[a] > 1 && bytes > MAX_CHUNK_BYTES) {
      const half = Math.ceil(out[a] / 2);
      bytes = bytes / out[a] * half;
      out[a] = half;
    }
  }
  return out;
}

function ensureGroup(
  h5: H5,
  file: H5File,
  path: string,
  w: <T>(object: string, fn: () => T) => T,
): H5Group {
  let group: H5Group = file;
  let current = "";
  for (const part of path.split("/").filter((p) => p !== "")) {
    current += "/" + part;
    const at = current;
    const entity = w(at, () => file.get(at));
    if (entity === null) group = w(at, () => file.create_group(at));
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
