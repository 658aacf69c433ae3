/**
 * numpy's `.npy` format, versions 1.0, 2.0 and 3.0: read whole arrays (C or Fortran order, either
 * byte order), stream row slices of C-order files larger than memory (Fortran-order files are
 * read whole, within the memory budget, and then served the same way), and write atomically.
 *
 * Supported element types: `f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1` (float16 to float64, signed
 * and unsigned 8- to 64-bit integers, bool), little- or big-endian.
 *
 * @module
 */

import { requireDeno } from "../core/runtime.ts";
import { InvalidDataError } from "../core/errors.ts";
import { checkBudget, formatBytes } from "../core/budget.ts";
import {
  checkRowRange,
  decodeSamples,
  decodeToFloat32,
  encodeLittleEndian,
  readExactly,
  SAMPLE_BYTES,
  SAMPLE_NAMES,
  type SampleArray,
  type SampleType,
  sampleTypeOf,
  serialQueue,
  toFloat32,
} from "./_binary.ts";
import { writeFileAtomic } from "./atomic.ts";
import type { ArrayRowReader } from "./row_reader.ts";

/** An array read from a `.npy` file, always in C (row-major) order. */
export interface NpyArray {
  /** The values, C order, in the file's element type. */
  data: NpyData;
  /** The extent of each axis (`[]` for a scalar). */
  shape: number[];
  /** numpy's name of the element type: `float16`, `float32`, `int64`, `uint8`, `bool`, ... */
  dtype: string;
}

/**
 * The typed arrays `.npy` files hold here: each dtype in its own array type, except int64 and
 * uint64, read into a `Float64Array` (every value must be exact there: at most 2^53 in
 * magnitude), and bool, read as a `Uint8Array` of 0 and 1.
 */
export type NpyData =
  | Float16Array
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array;

/** An array to write: {@linkcode NpyArray} without `dtype` (taken from the data's type). */
export interface NpyInput {
  /** The values, C order; the element type picks the file's dtype. */
  readonly data: NpyData;
  /** The extent of each axis; its product must equal `data.length`. */
  readonly shape: readonly number[];
}

/** An open `.npy` file whose rows (slices along the first axis) are read on demand. */
export interface NpyReader extends ArrayRowReader {}

/** What a parsed header says. */
interface NpyHeader {
  type: SampleType;
  littleEndian: boolean;
  fortranOrder: boolean;
  shape: number[];
  dataOffset: number;
}

/**
 * The largest `.npy` header read: 1 MiB (numpy itself refuses headers over 10,000 bytes unless
 * told otherwise; a few hundred bytes is usual).
 */
export const NPY_HEADER_LIMIT = 2 ** 20;

/** The most axes a `.npy` array may have here (numpy 2 allows 64). */
export const NPY_MAX_AXES = 64;

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const SUPPORTED = "f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1 (float16-64, int8-64, uint8-64, bool; " +
  "either byte order)";

/**
 * Reads a whole `.npy` array. Fortran-order files are transposed to C order; big-endian files are
 * converted to the host's order.
 *
 * @param source A file path or the file's bytes.
 * @returns The array in C order.
 * @throws {InvalidDataError} When the bytes are not a supported `.npy` (bad magic, bad header,
 * a header over {@linkcode NPY_HEADER_LIMIT}, more than {@linkcode NPY_MAX_AXES} axes,
 * unsupported dtype, too few bytes: the message names the file and what is wrong).
 * @throws {OutOfMemoryError} When the file is over the memory budget (`PRISM_MEMORY_BUDGET`):
 *   stream it with {@linkcode openNpy}.
 * @throws {Deno.errors.NotFound} When the file does not exist.
 * @example
 * ```ts
 * import { encodeNpy, readNpy } from "./npy.ts";
 * import assert from "node:assert";
 * const bytes = encodeNpy(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
 * const a = await readNpy(bytes);
 * assert(a.dtype === "float32" && a.shape[1] === 3 && a.data[5] === 6);
 * ```
 */
export async function readNpy(source: string | Uint8Array): Promise<NpyArray> {
  let bytes: Uint8Array;
  let name: string;
  if (typeof source === "string") {
    requireDeno("readNpy(path)");
    const size = (await Deno.stat(source)).size;
    checkBudget(size, `reading ${source} whole`, "stream its rows with openNpy()");
    bytes = await Deno.readFile(source);
    name = source;
  } else if (source instanceof Uint8Array) {
    bytes = source;
    name = "the .npy bytes";
  } else {
    throw new TypeError("source must be a file path or a Uint8Array of .npy bytes");
  }
  const header = parseHeader(bytes, name);
  const count = product(header.shape);
  const expected = count * SAMPLE_BYTES[header.type];
  const got = bytes.length - header.dataOffset;
  if (got < expected) {
    throw new InvalidDataError(
      `${name} is truncated: too few bytes of data for shape (${header.shape.join(", ")}) ` +
        `${SAMPLE_NAMES[header.type]}: expected ${expected} got ${got}; write the file again`,
    );
  }
  // Fortran order needs a second copy of the values to reorder them.
  if (header.fortranOrder && header.shape.length > 1) {
    checkBudget(
      2 * expected,
      `reading Fortran-order ${name}`,
      "convert it to C order (np.ascontiguousarray) and stream it with openNpy()",
    );
  }
  const raw = bytes.subarray(header.dataOffset, header.dataOffset + expected);
  let data = decodeSamples(raw, header);
  if (header.fortranOrder && header.shape.length > 1) data = fortranToC(data, header.shape);
  return { data: numeric(data, name), shape: header.shape, dtype: SAMPLE_NAMES[header.type] };
}

/**
 * Opens a `.npy` file for reading rows on demand. A C-order file is not loaded: only the header
 * is read here, so files larger than memory stream. A Fortran-order file's rows are not
 * contiguous, so it is read whole here (within the memory budget) and reordered once.
 *
 * @param path The file.
 * @returns A reader; close it when done.
 * @throws {InvalidDataError} On a bad header, an unsupported dtype, or a file shorter than its
 * header promises.
 * @throws {OutOfMemoryError} From `readRows`, when the rows asked for are over the memory budget
 *   (`PRISM_MEMORY_BUDGET`): read fewer at a time; here, when a Fortran-order file is (convert
 *   it with `np.ascontiguousarray` to stream it).
 * @throws {Deno.errors.NotFound} When the file does not exist.
 * @example
 * ```ts
 * import { openNpy, writeNpy } from "./npy.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * await writeNpy(`${dir}/a.npy`, { data: new Int16Array([1, 2, 3, 4, 5, 6]), shape: [3, 2] });
 * const reader = await openNpy(`${dir}/a.npy`);
 * const rows = await reader.readRows(1, 2);
 * reader.close();
 * assert(rows.length === 4 && rows[0] === 3);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openNpy(path: string): Promise<NpyReader> {
  requireDeno("openNpy()");
  if (typeof path !== "string") throw new TypeError("path must be a string");
  const file = await Deno.open(path, { read: true });
  try {
    const size = (await file.stat()).size;
    const at: ReadAt = (position, length) => readExactly(file, { position, length, name: path });
    const header = parseHeader(await readPrefix(at, path, size), path);
    const { rows, rowLength, itemSize, expected } = rowGeometry(header, { size, name: path });
    const fortran = header.fortranOrder && header.shape.length > 1
      ? await readFortranWhole(file, { header, name: path, length: expected })
      : undefined;
    const queue = serialQueue();
    let closed = false;
    const close = () => {
      if (!closed) file.close();
      closed = true;
    };
    return {
      shape: header.shape,
      dtype: SAMPLE_NAMES[header.type],
      rows,
      rowLength,
      readRows(start: number, count: number): Promise<Float32Array> {
        checkRowRange({ start, count }, rows);
        if (closed) return Promise.reject(new TypeError(`${path} reader is closed`));
        // The float32 result plus the raw bytes behind it, decided before anything is read.
        checkBudget(
          count * rowLength * (itemSize + 4),
          `reading ${count} rows of ${path} (${rowLength} values each)`,
          "read fewer rows at a time (openNpy().readRows or openCubeSource().chunks)",
        );
        if (fortran !== undefined) {
          return Promise.resolve(
            fortran.slice(start * rowLength, (start + count) * rowLength),
          );
        }
        return queue(async () => {
          const bytes = await readExactly(file, {
            position: header.dataOffset + start * rowLength * itemSize,
            length: count * rowLength * itemSize,
            name: path,
          });
          return decodeToFloat32(bytes, header);
        });
      },
      readInner(start: number, count: number): Promise<Float32Array> {
        const inner = header.shape[1] ?? 0;
        checkRowRange({ start, count }, inner);
        if (closed) return Promise.reject(new TypeError(`${path} reader is closed`));
        const run = count * (rowLength / Math.max(1, inner)); // values of one first-axis index
        checkBudget(
          rows * run * (itemSize + 4),
          `reading ${count} of ${inner} entries of the second axis of ${path}`,
          "read fewer at a time (openCubeSource().chunks)",
        );
        return queue(async () => {
          const out = new Float32Array(rows * run);
          const skip = start * (rowLength / Math.max(1, inner));
          for (let i = 0; i < rows; i++) {
            if (fortran !== undefined) {
              out.set(fortran.subarray(i * rowLength + skip, i * rowLength + skip + run), i * run);
              continue;
            }
            const bytes = await readExactly(file, {
              position: header.dataOffset + (i * rowLength + skip) * itemSize,
              length: run * itemSize,
              name: path,
            });
            out.set(decodeToFloat32(bytes, header), i * run);
          }
          return out;
        });
      },
      close,
      [Symbol.dispose]: close,
    };
  } catch (error) {
    file.close();
    throw error;
  }
}

/**
 * Opens a `.npy` array held in a `Blob` (a file dropped on a web page, or `new Blob([bytes])`)
 * for reading rows on demand: the path-free twin of {@linkcode openNpy}, which runs in a browser.
 * Only the header and the rows asked for are read, so a crop of an array larger than memory
 * loads. C order only: a Fortran-order array's rows are scattered through the file.
 *
 * @param blob The `.npy` bytes.
 * @param name The file's name, for messages.
 * @returns A reader (`close()` does nothing: a `Blob` holds no handle).
 * @throws {InvalidDataError} On a bad header, an unsupported dtype, a Fortran-order array
 * (convert it with `np.ascontiguousarray`), or fewer bytes than the header promises.
 * @throws {OutOfMemoryError} From `readRows`, when the rows asked for are over the budget.
 * @example
 * ```ts
 * import { encodeNpy, openNpyBlob } from "./npy.ts";
 * import assert from "node:assert";
 * const bytes = encodeNpy(new Int16Array([1, 2, 3, 4, 5, 6]), [3, 2]);
 * const blob = new Blob([bytes.slice()]);
 * const reader = await openNpyBlob(blob, "a.npy");
 * assert(reader.rows === 3 && reader.dtype === "int16");
 * assert.deepStrictEqual([...await reader.readRows(1, 2)], [3, 4, 5, 6]);
 * ```
 */
export async function openNpyBlob(blob: Blob, name: string): Promise<ArrayRowReader> {
  if (!(blob instanceof Blob)) throw new TypeError("blob must be a Blob (a File, say)");
  const at: ReadAt = async (position, length) =>
    new Uint8Array(await blob.slice(position, position + length).arrayBuffer());
  const header = parseHeader(await readPrefix(at, name, blob.size), name);
  if (header.fortranOrder && header.shape.length > 1) {
    throw new InvalidDataError(
      `${name} is a Fortran-order array, whose rows cannot be read one by one; save it in C ` +
        `order (np.save(path, np.ascontiguousarray(a))) and open it again`,
    );
  }
  const { rows, rowLength, itemSize } = rowGeometry(header, { size: blob.size, name });
  const close = () => {};
  return {
    shape: header.shape,
    dtype: SAMPLE_NAMES[header.type],
    rows,
    rowLength,
    async readRows(start: number, count: number): Promise<Float32Array> {
      checkRowRange({ start, count }, rows);
      checkBudget(
        count * rowLength * (itemSize + 4),
        `reading ${count} rows of ${name} (${rowLength} values each)`,
        "read fewer rows at a time",
      );
      const position = header.dataOffset + start * rowLength * itemSize;
      return decodeToFloat32(await at(position, count * rowLength * itemSize), header);
    },
    close,
    [Symbol.dispose]: close,
  };
}

/**
 * Encodes an array as `.npy` bytes (version 1.0, or 2.0 when the header needs it), C order,
 * little-endian.
 *
 * @param data The values, C order.
 * @param shape The extent of each axis; its product must equal `data.length`.
 * @returns The file's bytes.
 * @throws {TypeError} When `data` is not a supported typed array or `shape` does not match it.
 * @example
 * ```ts
 * import { encodeNpy } from "./npy.ts";
 * import assert from "node:assert";
 * const bytes = encodeNpy(new Float64Array([1, 2]), [2]);
 * assert(bytes[0] === 0x93 && bytes.length % 64 === 16);
 * ```
 */
export function encodeNpy(data: NpyData, shape: readonly number[]): Uint8Array {
  const type = sampleTypeOf(data);
  if (type === undefined) {
    throw new TypeError(
      `data must be a Float16Array, Float32Array, Float64Array, Int8Array, Int16Array, ` +
        `Int32Array, Uint8Array, Uint16Array or Uint32Array, ` +
        `got ${(data as object)?.constructor?.name ?? typeof data}`,
    );
  }
  checkShape(shape, data.length);
  const header = npyHeader(type, shape);
  const body = encodeLittleEndian(data);
  const out = new Uint8Array(header.length + body.length);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}

/**
 * The header of a C-order little-endian float32 `.npy` file of `shape`: what a writer that
 * streams the rows afterwards puts first (the data follows it directly).
 *
 * @param shape The extent of each axis, whole numbers ≥ 0.
 * @returns The header's bytes (a multiple of 64 long).
 * @throws {TypeError} When `shape` holds something other than whole numbers ≥ 0.
 * @example
 * ```ts
 * import { encodeNpy, encodeNpyFloat32Header } from "./npy.ts";
 * import assert from "node:assert";
 * const header = encodeNpyFloat32Header([2, 3]);
 * const whole = encodeNpy(new Float32Array(6), [2, 3]);
 * assert.deepStrictEqual(header, whole.subarray(0, header.length));
 * ```
 */
export function encodeNpyFloat32Header(shape: readonly number[]): Uint8Array {
  checkShape(shape, product(Array.isArray(shape) ? shape : []));
  return npyHeader("f4", shape);
}

function npyHeader(type: SampleType, shape: readonly number[]): Uint8Array {
  const descr = SAMPLE_BYTES[type] === 1 ? `|${type}` : `<${type}`;
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  // Version 1.0 stores the header length in 2 bytes; longer headers (very many axes) need 2.0.
  const version = dict.length + 11 > 0xffff ? 2 : 1;
  const prefixLength = version === 1 ? 10 : 12;
  // numpy pads with spaces and a final newline so the data starts on a 64-byte boundary.
  const headerLength = Math.ceil((prefixLength + dict.length + 1) / 64) * 64 - prefixLength;
  const header = dict.padEnd(headerLength - 1, " ") + "\n";
  const out = new Uint8Array(prefixLength + headerLength);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, headerLength, true);
  else view.setUint32(8, headerLength, true);
  out.set(new TextEncoder().encode(header), prefixLength);
  return out;
}

/**
 * Writes an array to a `.npy` file atomically (see {@linkcode encodeNpy} for the format).
 *
 * @param path The file to create or replace.
 * @param array `data` (the values, C order) and `shape` (the extent of each axis); an
 *   {@linkcode NpyArray} from {@linkcode readNpy} writes back as it was read.
 * @returns Resolves once the file is in place.
 * @throws {TypeError} When `data` is not a supported typed array or `shape` does not match it.
 * @throws {Deno.errors.NotFound} When the folder does not exist.
 * @example
 * ```ts
 * import { readNpy, writeNpy } from "./npy.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * await writeNpy(`${dir}/x.npy`, { data: new Float32Array([0.5, 1.5]), shape: [2, 1] });
 * assert((await readNpy(`${dir}/x.npy`)).data[1] === 1.5);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeNpy(path: string, array: NpyInput): Promise<void> {
  requireDeno("writeNpy()");
  // A typed array here is the old (path, data, shape) call: say how to call it now.
  if (array === null || typeof array !== "object" || ArrayBuffer.isView(array)) {
    const got = array === null
      ? "null"
      : ArrayBuffer.isView(array)
      ? `a ${array.constructor.name}`
      : typeof array;
    throw new TypeError(
      `writeNpy() takes (path, { data, shape }), got ${got} as its second argument`,
    );
  }
  await writeFileAtomic(path, encodeNpy(array.data, array.shape));
}

/**
 * Reads a whole Fortran-order array as float32 in C order: its rows (first-axis slices) are
 * strided through the file, so streaming them would read the whole file for every chunk.
 */
async function readFortranWhole(
  file: Deno.FsFile,
  what: { header: NpyHeader; name: string; length: number },
): Promise<Float32Array> {
  const { header, name, length } = what;
  // The raw bytes, their reordered copy and the float32 result are alive together.
  checkBudget(
    2 * length + (length / SAMPLE_BYTES[header.type]) * 4,
    `reading Fortran-order ${name} (its rows are not contiguous, so it is read whole)`,
    "convert it to C order (np.save(path, np.ascontiguousarray(a))) to stream it",
  );
  const bytes = await readExactly(file, { position: header.dataOffset, length, name });
  return toFloat32(fortranToC(decodeSamples(bytes, header), header.shape));
}

/** Reads the magic, version and header bytes of an open file (no more than the header needs). */
/** Rows, values per row and bytes of a file's array, checked against the file's size. */
function rowGeometry(
  header: NpyHeader,
  file: { size: number; name: string },
): { rows: number; rowLength: number; itemSize: number; expected: number } {
  const rows = header.shape.length === 0 ? 1 : header.shape[0];
  const rowLength = product(header.shape.slice(1));
  const itemSize = SAMPLE_BYTES[header.type];
  const expected = rows * rowLength * itemSize;
  if (file.size - header.dataOffset < expected) {
    throw new InvalidDataError(
      `${file.name} is truncated: too few bytes of data for shape (${header.shape.join(", ")}) ` +
        `${SAMPLE_NAMES[header.type]}: expected ${expected} got ${file.size - header.dataOffset}`,
    );
  }
  return { rows, rowLength, itemSize, expected };
}

/** Reads `length` bytes at `position` of a file or a `Blob`. */
type ReadAt = (position: number, length: number) => Promise<Uint8Array>;

async function readPrefix(read: ReadAt, name: string, size: number): Promise<Uint8Array> {
  if (size < 12) {
    throw new InvalidDataError(
      `${name} is not a .npy file: too few bytes for the header: expected at least 12 got ${size}`,
    );
  }
  const start = await read(0, 12);
  checkMagic(start, name);
  const view = new DataView(start.buffer);
  const headerLength = start[6] === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const prefixLength = start[6] === 1 ? 10 : 12;
  checkHeaderLength(headerLength, name);
  if (size < prefixLength + headerLength) {
    throw new InvalidDataError(
      `${name} is truncated inside its header: expected ${prefixLength + headerLength} ` +
        `bytes got ${size}`,
    );
  }
  return await read(0, prefixLength + headerLength);
}

function checkHeaderLength(headerLength: number, name: string): void {
  if (headerLength > NPY_HEADER_LIMIT) {
    throw new InvalidDataError(
      `${name} declares a .npy header of ${formatBytes(headerLength)}, over the ` +
        `${formatBytes(NPY_HEADER_LIMIT)} limit (NPY_HEADER_LIMIT); numpy writes a few hundred ` +
        `bytes: the file is corrupt or not from numpy.save()`,
    );
  }
}

function checkMagic(bytes: Uint8Array, name: string): void {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new InvalidDataError(
      `${name} is not a .npy file: bad magic (the file must start with \\x93NUMPY); ` +
        `save it with numpy.save()`,
    );
  }
  if (bytes[6] < 1 || bytes[6] > 3) {
    throw new InvalidDataError(
      `${name} has .npy format version ${bytes[6]}.${bytes[7]}; supported are 1.0, 2.0, 3.0`,
    );
  }
}

function parseHeader(bytes: Uint8Array, name: string): NpyHeader {
  checkMagic(bytes, name);
  const major = bytes[6];
  const prefixLength = major === 1 ? 10 : 12;
  if (bytes.length < prefixLength) {
    throw new InvalidDataError(`${name} is truncated inside its header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  checkHeaderLength(headerLength, name);
  if (bytes.length < prefixLength + headerLength) {
    throw new InvalidDataError(
      `${name} is truncated inside its header: too few bytes: expected ` +
        `${prefixLength + headerLength} got ${bytes.length}`,
    );
  }
  // Version 3.0 allows UTF-8 in the header (field names); 1.0 and 2.0 are latin-1.
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(prefixLength, prefixLength + headerLength),
  );
  const bad = (what: string) =>
    new InvalidDataError(
      `${name} has a bad .npy header (${what}): ${JSON.stringify(text.trim().slice(0, 200))}`,
    );
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined) throw bad("no 'descr'");
  if (fortran === undefined) throw bad("no 'fortran_order'");
  if (shapeText === undefined) throw bad("no 'shape'");
  const dims = shapeText.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (!dims.every((d) => /^\d+L?$/.test(d))) throw bad("shape is not a tuple of whole numbers");
  if (dims.length > NPY_MAX_AXES) throw bad(`${dims.length} axes, over ${NPY_MAX_AXES}`);
  const shape = dims.map((d) => Number.parseInt(d, 10));
  // Beyond 2^53 the sizes computed from the shape would be wrong (or NaN with a 0 axis).
  if (!shape.every(Number.isSafeInteger) || !Number.isSafeInteger(product(shape))) {
    throw bad("an axis or the element count is beyond 2^53");
  }
  const m = /^([<>|=]?)([fiub])(\d+)$/.exec(descr);
  const type = m ? `${m[2]}${m[3]}` : "";
  if (m === null || !(type in SAMPLE_BYTES)) {
    throw new InvalidDataError(
      `${name} holds dtype '${descr}', which prism does not read; supported: ${SUPPORTED}. ` +
        `Convert it with a.astype(np.float32)`,
    );
  }
  // '=' (native) never appears in files numpy writes; read it as little-endian like every host.
  const littleEndian = m[1] !== ">";
  return {
    type: type as SampleType,
    littleEndian,
    fortranOrder: fortran === "True",
    shape,
    dataOffset: prefixLength + headerLength,
  };
}

/**
 * int64 and uint64 values as float64, refused where that would change one: numbers stay plain
 * numbers for every caller, and no value is silently rounded.
 */
function numeric(data: SampleArray, name: string): NpyData {
  if (!(data instanceof BigInt64Array || data instanceof BigUint64Array)) return data;
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    out[i] = Number(data[i]);
    if (!Number.isSafeInteger(out[i])) {
      throw new InvalidDataError(
        `${name} holds ${data[i]} at flat index ${i}, beyond 2^53: prism reads 64-bit integers ` +
          `as float64 and that value would change; convert it (e.g. a.astype(np.float64)) if ` +
          `rounding is acceptable`,
      );
    }
  }
  return out;
}

/** Reorders Fortran-order (first axis fastest) values into C order (last axis fastest). */
function fortranToC(data: SampleArray, shape: readonly number[]): SampleArray {
  const out = new (data.constructor as new (n: number) => SampleArray)(data.length);
  const ndim = shape.length;
  const index = new Array<number>(ndim).fill(0);
  // C strides of the output, walked while the index counts in Fortran order (axis 0 fastest).
  const cStride = new Array<number>(ndim);
  let s = 1;
  for (let a = ndim - 1; a >= 0; a--) {
    cStride[a] = s;
    s *= shape[a];
  }
  let c = 0;
  for (let f = 0; f < data.length; f++) {
    out[c] = data[f];
    for (let a = 0; a < ndim; a++) {
      index[a]++;
      c += cStride[a];
      if (index[a] < shape[a]) break;
      c -= cStride[a] * shape[a];
      index[a] = 0;
    }
  }
  return out;
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function checkShape(shape: readonly number[], length: number): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TypeError(`shape must be an array of whole numbers >= 0, got ${String(shape)}`);
  }
  if (product(shape) !== length) {
    throw new TypeError(
      `shape (${shape.join(", ")}) holds ${product(shape)} values but data has ${length}`,
    );
  }
}
