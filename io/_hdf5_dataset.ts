/**
 * Checked access to one dataset of a file opened for reading (`./hdf5_read.ts`): finding it,
 * refusing what would read other files or declares more than the file can hold, and reading rows
 * in pieces of bounded size after a budget check. Every h5wasm call goes through `h5do`.
 *
 * @module
 */

import { checkBudget, formatBytes, memoryBudget } from "../core/budget.ts";
import { InvalidDataError } from "../core/errors.ts";
import type { H5Dataset, H5File, H5Group } from "./_h5wasm.ts";
import { ALLOW_EXTERNAL_HINT, h5do, type Hdf5Place, normalise } from "./_hdf5_file.ts";
import type { Hdf5Attrs, Hdf5DatasetInfo, Hdf5ReadData } from "./hdf5_types.ts";

/** A file open for reading: where it is, its size, and the h5wasm handle. */
export interface OpenHdf5 {
  /** The wrapper's view of the file. */
  place: Hdf5Place;
  /** The open file. */
  file: H5File;
  /** The file's size in bytes. */
  bytes: number;
}

/** A numeric dataset that passed the checks. */
export interface CheckedDataset {
  /** Its absolute path in the file. */
  path: string;
  /** The h5wasm dataset. */
  dataset: H5Dataset;
  /** The extent of each axis (`[]` for a scalar). */
  shape: number[];
  /** Bytes per element. */
  itemSize: number;
  /** Whether the stored elements are float32 (read without conversion). */
  float32: boolean;
  /** Rows per chunk along the first axis, or `null` when stored contiguously. */
  chunkRows: number | null;
  /** Its element type name. */
  dtype: string;
}

/** h5wasm reads at most this many bytes per call, so its WebAssembly heap stays small. */
export const PIECE_BYTES = 64 * 2 ** 20;

// The most one filter can shrink data: deflate tops out near 1032:1; n-bit and scale-offset keep
// at least one bit per element; filters h5wasm lacks cannot be read anyway, so count them as
// deflate. Shuffle and Fletcher-32 do not shrink anything.
const DEFLATE_MAX_RATIO = 1032;

const TYPE_CLASSES: Record<number, string> = {
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

/** The element type's name, e.g. `float32` or `uint8` (or `string`, `compound`, ...). */
export function dtypeName(m: { type: number; size: number; signed: boolean }): string {
  if (m.type === 1) return `float${m.size * 8}`;
  if (m.type === 0) return `${m.signed ? "int" : "uint"}${m.size * 8}`;
  return TYPE_CLASSES[m.type] ?? `class-${m.type}`;
}

/**
 * Finds the numeric dataset `datasetPath` and refuses, before reading anything: external links,
 * virtual datasets (unless `allowExternal`), non-numeric types and declared sizes the file could
 * not hold.
 */
export function checkedDataset(open: OpenHdf5, datasetPath: string): CheckedDataset {
  const { place, file } = open;
  const h5 = place.h5;
  const full = normalise(datasetPath);
  const entity = h5do(place, { action: "find", object: full }, () => file.get(full));
  if (isExternalLink(entity)) {
    throw new InvalidDataError(
      `${full} in ${place.shown} is an external link to ${entity.filename}:${entity.obj_path}; ` +
        `prism reads a file only from itself by default; ${ALLOW_EXTERNAL_HINT}`,
    );
  }
  if (!(entity instanceof h5.Dataset)) throw notFound(open, full, entity !== null);
  const what = { action: "read", object: full };
  const m = h5do(place, what, () => entity.metadata);
  const shape = (m.shape ?? []).map(Number);
  const dtype = dtypeName(m);
  if (m.type !== 0 && m.type !== 1) {
    throw new InvalidDataError(
      `${full} in ${place.shown} holds ${dtype} values; only numeric datasets can be read`,
    );
  }
  const sources = m.virtual_sources ?? [];
  if (sources.length > 0 && !place.allowExternal) {
    const first = sources[0];
    throw new InvalidDataError(
      `${full} in ${place.shown} is a virtual dataset whose values come from ` +
        `${first.file_name}:${first.dset_name}${
          sources.length > 1 ? ` and ${sources.length - 1} more` : ""
        }; ` +
        `prism reads a file only from itself by default; ${ALLOW_EXTERNAL_HINT}`,
    );
  }
  const chunks = m.chunks;
  // Only contiguous storage can live in another file (external raw storage), and a virtual
  // dataset's values do: with allowExternal those are not held to this file's size.
  if (chunks !== null ? sources.length === 0 : !place.allowExternal) {
    const ratio = chunks === null
      ? 1
      : h5do(place, what, () => entity.filters).reduce((r, f) => r * maxRatio(f.id, m.size), 1);
    checkDeclaredSize(open, {
      path: full,
      shape,
      dtype,
      itemSize: m.size,
      chunked: chunks !== null,
    }, ratio);
  }
  return {
    path: full,
    dataset: entity,
    shape,
    itemSize: m.size,
    float32: m.type === 1 && m.size === 4,
    chunkRows: chunks === null || chunks.length === 0 ? null : Number(chunks[0]),
    dtype,
  };
}

/**
 * Reads `count` rows from `start` (or the scalar, for `shape []`), after a budget check, in
 * pieces of at most {@linkcode PIECE_BYTES} (whole chunks when chunked).
 */
export function readRowsChecked(
  open: OpenHdf5,
  d: CheckedDataset,
  range: { start: number; count: number; float32: boolean },
): Hdf5ReadData {
  const { place } = open;
  const what = { action: "read", object: d.path };
  const { start, count, float32 } = range;
  const rowLength = d.shape.slice(1).reduce((a, b) => a * b, 1);
  const values = d.shape.length === 0 ? 1 : count * rowLength;
  const outItem = float32 ? 4 : d.itemSize;
  // The output, plus one piece in the stored type when it must be converted.
  const pieceRows = rowsPerPiece(d, rowLength);
  const staged = float32 && !d.float32 ? Math.min(count, pieceRows) * rowLength * d.itemSize : 0;
  checkBudget(
    values * outItem + staged,
    `reading ${
      d.shape.length === 0 ? "the scalar" : `${count} rows`
    } of ${d.path} in ${place.shown}`,
    "read fewer rows at a time (openHdf5Dataset(...).readRows)",
  );
  if (d.shape.length === 0) {
    const value = h5do(place, what, () => d.dataset.value);
    return convert(asArray(value, d), float32);
  }
  if (count <= pieceRows) {
    const piece = h5do(place, what, () => d.dataset.slice([[start, start + count]]));
    return convert(asArray(piece, d), float32);
  }
  let out: Hdf5ReadData | undefined;
  for (let s = 0; s < count; s += pieceRows) {
    const n = Math.min(pieceRows, count - s);
    const piece = convert(
      asArray(h5do(place, what, () => d.dataset.slice([[start + s, start + s + n]])), d),
      float32,
    );
    out ??= new (piece.constructor as new (n: number) => Hdf5ReadData)(values);
    (out as unknown as { set(a: ArrayLike<unknown>, at: number): void }).set(piece, s * rowLength);
  }
  return out!;
}

/** Attributes of a group or dataset, each refused when it declares more than the file holds. */
export function readAttrs(open: OpenHdf5, target: H5Group | H5Dataset): Hdf5Attrs {
  const { place, bytes } = open;
  const what = { action: "read attributes of", object: target.path };
  return h5do(place, what, () => {
    const out: Hdf5Attrs = {};
    for (const [name, attr] of Object.entries(target.attrs)) {
      const m = attr.metadata;
      const declared = Number(m.total_size) * m.size;
      if (!(declared <= bytes)) {
        throw new InvalidDataError(
          `attribute ${name} of ${target.path} in ${place.shown} declares ` +
            `${formatBytes(declared)} of values, more than the ${formatBytes(bytes)} file ` +
            `holds; the file is damaged`,
        );
      }
      out[name] = attrValue(attr);
    }
    return out;
  });
}

/** A dataset as `readHdf5Tree` lists it. */
export function describeDataset(open: OpenHdf5, dataset: H5Dataset, path: string): Hdf5DatasetInfo {
  const { place } = open;
  const what = { action: "describe", object: path };
  const { m, filters } = h5do(
    place,
    what,
    () => ({ m: dataset.metadata, filters: dataset.filters }),
  );
  const deflate = filters.find((f) => f.id === 1);
  return {
    path,
    shape: (m.shape ?? []).map(Number),
    dtype: dtypeName(m),
    chunks: m.chunks,
    ...(deflate === undefined ? {} : { gzip: deflate.cd_values?.[0] ?? 0 }),
    filters: filters.map((f) => f.name),
    attrs: readAttrs(open, dataset),
  };
}

/** Whether `entity` is h5wasm's `ExternalLink` (returned when its target was refused). */
export function isExternalLink(
  entity: unknown,
): entity is { filename: string; obj_path: string } {
  return entity !== null && typeof entity === "object" &&
    typeof (entity as { filename?: unknown }).filename === "string" &&
    typeof (entity as { obj_path?: unknown }).obj_path === "string";
}

function attrValue(attr: { value: unknown; json_value: unknown }): Hdf5Attrs[string] {
  const v = attr.value;
  if (typeof v === "string" || typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    return Array.from(v as unknown as ArrayLike<number | bigint>, Number);
  }
  if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v;
  return JSON.stringify(attr.json_value);
}

function maxRatio(filterId: number, itemSize: number): number {
  if (filterId === 2 || filterId === 3) return 1; // shuffle, Fletcher-32
  if (filterId === 5 || filterId === 6) return itemSize * 8; // n-bit, scale-offset
  return DEFLATE_MAX_RATIO;
}

/**
 * A dataset declaring far more bytes than its file could hold (even compressed at the filters'
 * best ratio) is mostly fill values never written, or bytes kept elsewhere. Reading it would
 * allocate or stream those for nothing, so it is refused when the excess passes the budget.
 */
function checkDeclaredSize(
  open: OpenHdf5,
  d: { path: string; shape: number[]; dtype: string; itemSize: number; chunked: boolean },
  ratio: number,
): void {
  const declared = d.shape.reduce((a, b) => a * b, 1) * d.itemSize;
  const holdable = open.bytes * ratio;
  if (declared <= holdable + memoryBudget()) return;
  // Chunked storage cannot live in another file, so allowExternal does not apply to it; a
  // sparse dataset the user really wants is read by raising the budget.
  const way = d.chunked
    ? `if this sparse dataset is wanted, raise PRISM_MEMORY_BUDGET above ` +
      `${formatBytes(declared - holdable)}`
    : `or is kept in another file (${ALLOW_EXTERNAL_HINT})`;
  throw new InvalidDataError(
    `${d.path} in ${open.place.shown} declares [${d.shape.join(", ")}] ${d.dtype} values ` +
      `(${formatBytes(declared)}), but the ${formatBytes(open.bytes)} file can hold at most ` +
      `${formatBytes(holdable)} of them${ratio > 1 ? " at its filters' best compression" : ""}; ` +
      `the rest was never written (it would read as ${formatBytes(declared - holdable)} of fill ` +
      `values)${d.chunked ? "; " : " "}${way}`,
  );
}

function rowsPerPiece(d: CheckedDataset, rowLength: number): number {
  const rows = Math.max(1, Math.floor(PIECE_BYTES / Math.max(1, rowLength * d.itemSize)));
  // Whole chunks per piece, so no chunk is decompressed twice.
  if (d.chunkRows === null || d.chunkRows < 1) return rows;
  return Math.max(d.chunkRows, Math.floor(rows / d.chunkRows) * d.chunkRows);
}

function notFound(open: OpenHdf5, full: string, isGroup: boolean): Error {
  const { place, file } = open;
  const h5 = place.h5;
  const listed = h5do(place, { action: "list" }, () => {
    const datasets: string[] = [];
    for (const p of file.paths()) {
      const d = file.get(p);
      if (d instanceof h5.Dataset) {
        const m = d.metadata;
        datasets.push(`${normalise(p)} (${dtypeName(m)} [${(m.shape ?? []).join(", ")}])`);
      }
    }
    return datasets;
  });
  const more = listed.length > 20 ? `, and ${listed.length - 20} more` : "";
  return new Deno.errors.NotFound(
    `${place.shown} has no dataset ${full}${isGroup ? " (it is a group)" : ""}; ` +
      (listed.length === 0
        ? "the file holds no datasets"
        : `it holds: ${listed.slice(0, 20).join(", ")}${more}`),
  );
}

function asArray(value: unknown, d: CheckedDataset): Hdf5ReadData {
  if (ArrayBuffer.isView(value)) return value as Hdf5ReadData;
  if (typeof value === "number") {
    return d.float32 ? new Float32Array([value]) : new Float64Array([value]);
  }
  if (typeof value === "bigint") return new BigInt64Array([value]);
  throw new InvalidDataError(`${d.path} did not read as numbers (${d.dtype})`);
}

function convert(values: Hdf5ReadData, float32: boolean): Hdf5ReadData {
  if (!float32 || values instanceof Float32Array) return values;
  const out = new Float32Array(values.length);
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    for (let i = 0; i < values.length; i++) out[i] = Number(values[i]);
  } else out.set(values);
  return out;
}
