/**
 * ENVI raster files: a text header (`.hdr`) beside a raw binary data file, in band-sequential
 * (bsq), band-interleaved-by-line (bil) or band-interleaved-by-pixel (bip) order. Read whole or
 * streamed by image lines, always returned as BIP float32.
 *
 * Supported data types: 1 (uint8), 2 (int16), 3 (int32), 4 (float32), 5 (float64), 12 (uint16),
 * 13 (uint32), 14 (int64), 15 (uint64). Complex data (6, 9) is refused: a pixel's bands would need
 * two values each, and no operation here takes complex input.
 *
 * The header's `data ignore value`, `bbl` and `reflectance scale factor` are parsed here and
 * applied by `openCubeSource` (`./pixel_selection.ts`); the readers return the stored values.
 *
 * @module
 */

import { requireDeno } from "../core/runtime.ts";
import type { Cube } from "../core/types.ts";
import { InvalidDataError } from "../core/errors.ts";
import { checkBudget, formatBytes } from "../core/budget.ts";
import {
  checkRowRange,
  decodeToFloat32,
  readExactly,
  type RowSlice,
  SAMPLE_BYTES,
  type SampleType,
  serialQueue,
} from "./_binary.ts";

import type { RowReader } from "./row_reader.ts";
import { isAbsolute, pathSegments } from "./_path.ts";

export type { SampleType } from "./_binary.ts";

/** What an ENVI header says, with the data file it points to. */
export interface EnviHeader {
  /** Pixels per line (image width). */
  samples: number;
  /** Lines (image height). */
  lines: number;
  /** Spectral bands. */
  bands: number;
  /** Bytes to skip at the start of the data file. */
  headerOffset: number;
  /** ENVI's data type code (1-5 or 12-15). */
  dataType: number;
  /** The element type of the data file. */
  sampleType: SampleType;
  /** How bands are interleaved in the data file. */
  interleave: "bsq" | "bil" | "bip";
  /** 0 little-endian, 1 big-endian. */
  byteOrder: 0 | 1;
  /** Band centre wavelengths, when the header lists them. */
  wavelengths?: number[];
  /** `data ignore value`: the no-data value, when the header sets one (never NaN). */
  dataIgnoreValue?: number;
  /** `bbl`, the bad band list: 1 for a good band, 0 for a bad one, one per band. */
  bbl?: number[];
  /** `reflectance scale factor`: stored values are the data times it (readers divide by it). */
  reflectanceScaleFactor?: number;
  /** The data file's path. */
  dataFile: string;
  /** Every header field as text, keys lower-cased with single spaces. */
  fields: Record<string, string>;
}

/** An open ENVI image whose lines are read on demand. */
export interface EnviReader extends RowReader {
  /** Image lines. */
  readonly height: number;
  /** Pixels per line. */
  readonly width: number;
  /** Spectral bands. */
  readonly bands: number;
  /** The parsed header. */
  readonly header: EnviHeader;
  /**
   * Reads `lineCount` image lines from `lineStart` as BIP float32
   * (`lineCount * width * bands` values). Calls may overlap; they run one after another.
   */
  readRows(lineStart: number, lineCount: number): Promise<Float32Array>;
}

/** Options of the ENVI readers. */
export interface EnviOptions {
  /**
   * Read a `data file` named outside the header's folder (an absolute path elsewhere, a path
   * through `..`, or a link leading out of the folder). Default `false`: a header is untrusted
   * input, and following such a reference would let a header read any file on the machine.
   */
  allowExternal?: boolean;
}

/** The largest ENVI header read: 1 MiB (real headers are a few KiB, wavelength lists included). */
export const ENVI_HEADER_LIMIT = 2 ** 20;

const DATA_TYPES: Readonly<Record<number, SampleType>> = {
  1: "u1",
  2: "i2",
  3: "i4",
  4: "f4",
  5: "f8",
  12: "u2",
  13: "u4",
  14: "i8",
  15: "u8",
};
const SUPPORTED_TYPES = "1 (uint8), 2 (int16), 3 (int32), 4 (float32), 5 (float64), 12 (uint16), " +
  "13 (uint32), 14 (int64), 15 (uint64)";
const COMPLEX_TYPES: Readonly<Record<number, string>> = { 6: "complex64", 9: "complex128" };
const DATA_EXTENSIONS = ["", ".img", ".dat", ".raw", ".bsq", ".bil", ".bip"];

/**
 * Parses an ENVI header and finds its data file: the `data file` field if present, else the
 * header's stem with no extension or with `.img .dat .raw .bsq .bil .bip` (either case).
 *
 * The data file must lie in the header's folder (or below it) unless `allowExternal` is set, and
 * the header may be at most {@linkcode ENVI_HEADER_LIMIT} bytes; parsing is linear in its size.
 *
 * @param hdrPath The `.hdr` file.
 * @param options `allowExternal` (default `false`): read a data file outside the header's folder.
 * @returns The header.
 * @throws {InvalidDataError} When the first line is not `ENVI`, the header is over 1 MiB, a
 * required field (samples, lines, bands, data type) is missing, malformed or 0, the data type is
 * unsupported (the message lists the supported ones), the interleave or byte order is unknown,
 * the wavelength list does not have one value per band, `data ignore value` is not a number (or
 * is NaN), `bbl` does not hold one 0 or 1 per band, `reflectance scale factor` is not a finite
 * number > 0, or `data file` points outside the header's folder without `allowExternal` (the
 * message names the reference and the option).
 * @throws {Deno.errors.NotFound} When the header or its data file does not exist (the message
 * lists the names tried).
 * @example
 * ```ts
 * import { readEnviHeader } from "./envi.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.hdr`, "ENVI\nsamples = 2\nlines = 1\nbands = 3\n" +
 *   "data type = 4\ninterleave = bip\nbyte order = 0\nwavelength = {400, 500,\n 600}\n");
 * await Deno.writeFile(`${dir}/a.img`, new Uint8Array(24));
 * const h = await readEnviHeader(`${dir}/a.hdr`);
 * assert(h.bands === 3 && h.wavelengths?.[2] === 600 && h.dataFile.endsWith("a.img"));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readEnviHeader(
  hdrPath: string,
  options: EnviOptions = {},
): Promise<EnviHeader> {
  requireDeno("readEnviHeader()");
  if (typeof hdrPath !== "string") throw new TypeError("hdrPath must be a string");
  const parsed = parseEnviHeader(await readHeaderText(hdrPath), hdrPath);
  const dataFile = await findDataFile(hdrPath, {
    named: parsed.fields["data file"],
    allowExternal: options.allowExternal === true,
  });
  return { ...parsed, dataFile };
}

/**
 * Parses an ENVI header's text (the checks of {@linkcode readEnviHeader}, without looking for the
 * data file): for headers that arrive as bytes, such as a file dropped on a web page.
 *
 * @param text The header's text.
 * @param hdrPath The header's name, for messages.
 * @returns Every field of the header but `dataFile`.
 * @throws {InvalidDataError} On a bad header (see {@linkcode readEnviHeader}).
 * @example
 * ```ts
 * import { parseEnviHeader } from "./envi.ts";
 * import assert from "node:assert";
 * const h = parseEnviHeader(
 *   "ENVI\nsamples = 2\nlines = 1\nbands = 3\ndata type = 4\ninterleave = bil\n",
 *   "a.hdr",
 * );
 * assert(h.bands === 3 && h.interleave === "bil" && h.sampleType === "f4");
 * ```
 */
export function parseEnviHeader(text: string, hdrPath: string): Omit<EnviHeader, "dataFile"> {
  if (typeof text !== "string") throw new TypeError("text must be the header's text, a string");
  const fields = parseFields(text, hdrPath);
  const bad = (what: string) => new InvalidDataError(`ENVI header ${hdrPath}: ${what}`);
  const whole = (key: string, fallback?: number): number => {
    const raw = fields[key];
    if (raw === undefined) {
      if (fallback !== undefined) return fallback;
      throw bad(`the required field '${key}' is missing; add '${key} = <value>'`);
    }
    if (!/^\d+$/.test(raw)) {
      throw bad(`'${key}' must be a whole number >= 0, got '${raw.slice(0, 80)}'`);
    }
    const n = Number.parseInt(raw, 10);
    if (!Number.isSafeInteger(n)) throw bad(`'${key}' = ${raw.slice(0, 80)} is too large`);
    return n;
  };
  // An image with no pixels or no bands has nothing to read: refuse it before any loop over it.
  const extent = (key: string): number => {
    const n = whole(key);
    if (n === 0) throw bad(`'${key}' is 0; an ENVI image needs at least 1 ${key.slice(0, -1)}`);
    return n;
  };
  const samples = extent("samples");
  const lines = extent("lines");
  const bands = extent("bands");
  const headerOffset = whole("header offset", 0);
  const dataType = whole("data type");
  const sampleType = Object.hasOwn(DATA_TYPES, dataType) ? DATA_TYPES[dataType] : undefined;
  if (Object.hasOwn(COMPLEX_TYPES, dataType)) {
    throw new InvalidDataError(
      `ENVI header ${hdrPath}: data type ${dataType} is ${COMPLEX_TYPES[dataType]}, which prism ` +
        `does not read: its operations take real bands, and a complex value has two parts. ` +
        `Write the magnitude (or the real and imaginary parts as separate bands) as one of ` +
        `${SUPPORTED_TYPES}`,
    );
  }
  if (sampleType === undefined) {
    throw new InvalidDataError(
      `ENVI header ${hdrPath}: data type ${dataType} is not supported; supported are ` +
        `${SUPPORTED_TYPES}. Convert the image to one of them`,
    );
  }
  const interleave = (fields["interleave"] ?? "bsq").toLowerCase();
  if (interleave !== "bsq" && interleave !== "bil" && interleave !== "bip") {
    throw bad(`interleave '${interleave}' is unknown; use bsq, bil or bip`);
  }
  const byteOrder = whole("byte order", 0);
  if (byteOrder !== 0 && byteOrder !== 1) {
    throw bad(`byte order ${byteOrder} is unknown; use 0 (little-endian) or 1 (big-endian)`);
  }
  let wavelengths: number[] | undefined;
  if (fields["wavelength"] !== undefined) {
    wavelengths = listValues(fields["wavelength"]).map(Number);
    if (wavelengths.length !== bands || wavelengths.some((w) => !Number.isFinite(w))) {
      throw bad(
        `'wavelength' must list ${bands} numbers (one per band), got ` +
          `${JSON.stringify(fields["wavelength"]).slice(0, 120)}`,
      );
    }
  }
  const extras = pixelFields(fields, { bands, bad });
  return {
    samples,
    lines,
    bands,
    headerOffset,
    dataType,
    sampleType,
    interleave,
    byteOrder,
    ...(wavelengths === undefined ? {} : { wavelengths }),
    ...extras,
    fields,
  };
}

/**
 * Opens an ENVI image for reading lines on demand, so cubes larger than memory stream. Only the
 * header is read here; the data file's size must equal what the header declares (a larger file
 * is refused too: it means a wrong `lines`, `samples`, `bands`, `data type` or `header offset`,
 * and reading it would return shifted values). Each read is checked against the memory budget
 * (`PRISM_MEMORY_BUDGET`, see `core/budget.ts`) before it allocates.
 *
 * @param hdrPath The `.hdr` file.
 * @param options `allowExternal` (see {@linkcode readEnviHeader}).
 * @returns A reader; close it when done.
 * @throws {InvalidDataError} On a bad header (see {@linkcode readEnviHeader}) or a data file
 * smaller or larger than the header declares (the message gives expected and actual bytes).
 * @throws {OutOfMemoryError} From `readRows`, when the lines asked for are over the budget.
 * @throws {Deno.errors.NotFound} When the header or data file does not exist.
 * @example
 * ```ts
 * import { openEnvi } from "./envi.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.hdr`,
 *   "ENVI\nsamples = 2\nlines = 2\nbands = 1\ndata type = 4\ninterleave = bsq\n");
 * await Deno.writeFile(`${dir}/a.img`, new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer));
 * const reader = await openEnvi(`${dir}/a.hdr`);
 * const line1 = await reader.readRows(1, 1);
 * reader.close();
 * assert(line1[0] === 3 && line1[1] === 4);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openEnvi(
  hdrPath: string,
  options: EnviOptions = {},
): Promise<EnviReader> {
  requireDeno("openEnvi()");
  const header = await readEnviHeader(hdrPath, options);
  const { samples: width, lines: height, bands, sampleType } = header;
  const size = SAMPLE_BYTES[sampleType];
  const file = await Deno.open(header.dataFile, { read: true });
  try {
    const actual = (await file.stat()).size;
    const expected = header.headerOffset + height * width * bands * size;
    const declared = `${height} lines x ${width} samples x ${bands} bands of ${size}-byte ` +
      `values after a ${header.headerOffset}-byte offset`;
    if (actual < expected) {
      throw new InvalidDataError(
        `ENVI data file ${header.dataFile} is truncated: the header ${hdrPath} promises ` +
          `${declared}: expected ${expected} bytes, got ${actual}`,
      );
    }
    if (actual > expected) {
      throw new InvalidDataError(
        `ENVI data file ${header.dataFile} is larger than its header ${hdrPath} declares ` +
          `(${declared}): expected ${expected} bytes, got ${actual} (${actual - expected} more); ` +
          `one of 'lines', 'samples', 'bands', 'data type' or 'header offset' is wrong, and ` +
          `reading it would return shifted values: correct the header`,
      );
    }
  } catch (error) {
    file.close();
    throw error;
  }
  const queue = serialQueue();
  let closed = false;
  const close = () => {
    if (!closed) file.close();
    closed = true;
  };
  const read = (offset: number, length: number) =>
    readExactly(file, { position: header.headerOffset + offset, length, name: header.dataFile });

  const readRows = (lineStart: number, lineCount: number): Promise<Float32Array> => {
    checkRowRange({ start: lineStart, count: lineCount }, height);
    if (closed) return Promise.reject(new TypeError(`ENVI reader for ${hdrPath} is closed`));
    // The float32 result plus the raw bytes behind it, decided before anything is read.
    checkBudget(
      lineCount * width * bands * (4 + size),
      `reading ${lineCount} lines of ENVI image ${hdrPath} (${width} samples x ${bands} bands)`,
      "read fewer lines at a time (openEnvi().readRows or openCubeSource().chunks)",
    );
    return queue(() => linesAsBip(read, header, { start: lineStart, count: lineCount }));
  };
  return { height, width, bands, header, readRows, close, [Symbol.dispose]: close };
}

/**
 * Reads a whole ENVI image as a BIP float32 cube.
 *
 * @param hdrPath The `.hdr` file.
 * @param options `allowExternal` (see {@linkcode readEnviHeader}).
 * @returns The cube (`data[(y * width + x) * bands + b]`).
 * @throws {InvalidDataError} On a bad header or a data file of another size than declared.
 * @throws {OutOfMemoryError} When the image is over the memory budget: stream it with
 *   {@linkcode openEnvi}.
 * @throws {Deno.errors.NotFound} When the header or data file does not exist.
 * @example
 * ```ts
 * import { readEnvi } from "./envi.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.hdr`,
 *   "ENVI\nsamples = 1\nlines = 1\nbands = 2\ndata type = 2\ninterleave = bil\nbyte order = 1\n");
 * await Deno.writeFile(`${dir}/a`, new Uint8Array([0, 7, 255, 254]));
 * const cube = await readEnvi(`${dir}/a.hdr`);
 * assert(cube.data[0] === 7 && cube.data[1] === -2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readEnvi(hdrPath: string, options: EnviOptions = {}): Promise<Cube> {
  requireDeno("readEnvi()");
  using reader = await openEnvi(hdrPath, options);
  const data = await reader.readRows(0, reader.height);
  return { data, height: reader.height, width: reader.width, bands: reader.bands };
}

/** The raw bytes of an ENVI image from `offset` (after the header offset), `length` long. */
type ReadBytes = (offset: number, length: number) => Uint8Array | Promise<Uint8Array>;

/**
 * Reads lines of an ENVI image as BIP float32 (pixel by pixel, bands adjacent), whatever its
 * interleave: the one conversion, for files ({@linkcode openEnvi}) and bytes
 * ({@linkcode openEnviBlob}).
 */
async function linesAsBip(
  read: ReadBytes,
  header: Omit<EnviHeader, "dataFile">,
  lines: RowSlice,
): Promise<Float32Array> {
  const { samples: width, lines: height, bands, sampleType, interleave } = header;
  const { start: lineStart, count: lineCount } = lines;
  const size = SAMPLE_BYTES[sampleType];
  const lineBytes = width * bands * size;
  const layout = { type: sampleType, littleEndian: header.byteOrder === 0 };
  if (interleave === "bip") {
    return decodeToFloat32(await read(lineStart * lineBytes, lineCount * lineBytes), layout);
  }
  const out = new Float32Array(lineCount * width * bands);
  if (interleave === "bil") {
    // Each line holds band 0's samples, then band 1's, ...
    const v = decodeToFloat32(await read(lineStart * lineBytes, lineCount * lineBytes), layout);
    for (let l = 0; l < lineCount; l++) {
      for (let b = 0; b < bands; b++) {
        const src = (l * bands + b) * width;
        const dst = l * width * bands + b;
        for (let x = 0; x < width; x++) out[dst + x * bands] = v[src + x];
      }
    }
    return out;
  }
  // bsq: one contiguous run of the wanted lines per band.
  const bandBytes = height * width * size;
  for (let b = 0; b < bands; b++) {
    const v = decodeToFloat32(
      await read(b * bandBytes + lineStart * width * size, lineCount * width * size),
      layout,
    );
    for (let p = 0; p < v.length; p++) out[p * bands + b] = v[p];
  }
  return out;
}

/** An ENVI image in memory or in a `Blob` (a file dropped on a web page), read by lines. */
export interface EnviBlobReader extends RowReader {
  /** Lines (image height). */
  readonly height: number;
  /** Samples per line (image width). */
  readonly width: number;
  /** Bands. */
  readonly bands: number;
  /** The header, without `dataFile` (there is no path). */
  readonly header: Omit<EnviHeader, "dataFile">;
}

/**
 * Opens an ENVI image from its header's text and its data as a `Blob` (a web page's dropped
 * `File`, or `new Blob([bytes])`), for reading lines as BIP float32, whatever the interleave:
 * the path-free twin of {@linkcode openEnvi}, which runs in a browser. Only the lines asked for
 * are read, so a crop of an image larger than memory loads.
 *
 * @param headerText The `.hdr` file's text.
 * @param data The data file.
 * @param name The header's name, for messages.
 * @returns A reader (`close()` does nothing: a `Blob` holds no handle).
 * @throws {InvalidDataError} On a bad header (see {@linkcode readEnviHeader}) or data of another
 * size than the header declares (the message gives both).
 * @throws {OutOfMemoryError} From `readRows`, when the lines asked for are over the budget.
 * @example
 * ```ts
 * import { openEnviBlob } from "./envi.ts";
 * import assert from "node:assert";
 * const header = "ENVI\nsamples = 2\nlines = 1\nbands = 2\ndata type = 4\ninterleave = bsq\n";
 * const data = new Blob([new Float32Array([1, 2, 3, 4])]); // band 0, then band 1
 * const reader = openEnviBlob(header, data, "a.hdr");
 * assert.deepStrictEqual([...await reader.readRows(0, 1)], [1, 3, 2, 4]);
 * ```
 */
export function openEnviBlob(headerText: string, data: Blob, name: string): EnviBlobReader {
  if (!(data instanceof Blob)) throw new TypeError("data must be a Blob (a File, say)");
  const header = parseEnviHeader(headerText, name);
  const { samples: width, lines: height, bands, headerOffset } = header;
  const size = SAMPLE_BYTES[header.sampleType];
  const expected = headerOffset + height * width * bands * size;
  if (data.size !== expected) {
    throw new InvalidDataError(
      `ENVI data for header ${name} has ${data.size} bytes, but the header declares ` +
        `${height} lines x ${width} samples x ${bands} bands of ${size}-byte values after a ` +
        `${headerOffset}-byte offset (${expected} bytes): pick the data file that belongs to ` +
        `this header, or correct the header`,
    );
  }
  const read = async (offset: number, length: number) =>
    new Uint8Array(
      await data.slice(headerOffset + offset, headerOffset + offset + length).arrayBuffer(),
    );
  const readRows = (start: number, count: number): Promise<Float32Array> => {
    checkRowRange({ start, count }, height);
    checkBudget(
      count * width * bands * (4 + size),
      `reading ${count} lines of ENVI image ${name} (${width} samples x ${bands} bands)`,
      "read fewer lines at a time",
    );
    return linesAsBip(read, header, { start, count });
  };
  const close = () => {};
  return { height, width, bands, header, readRows, close, [Symbol.dispose]: close };
}

/** Reads the header's text, refusing more than {@linkcode ENVI_HEADER_LIMIT} bytes. */
async function readHeaderText(hdrPath: string): Promise<string> {
  using file = await Deno.open(hdrPath, { read: true });
  // Sized from the file (one byte more to see it end), grown only if it is longer than it said.
  let buffer = new Uint8Array(Math.min((await file.stat()).size, ENVI_HEADER_LIMIT) + 1);
  let got = 0;
  for (;;) {
    if (got === buffer.length) {
      if (buffer.length > ENVI_HEADER_LIMIT) break;
      const grown = new Uint8Array(Math.min(buffer.length * 2, ENVI_HEADER_LIMIT + 1));
      grown.set(buffer);
      buffer = grown;
    }
    const n = await file.read(buffer.subarray(got));
    if (n === null) break;
    got += n;
  }
  if (got > ENVI_HEADER_LIMIT) {
    throw new InvalidDataError(
      `ENVI header ${hdrPath} is over the ${formatBytes(ENVI_HEADER_LIMIT)} limit of an ENVI ` +
        `header (ENVI_HEADER_LIMIT); real headers are a few KiB: check that this is the .hdr ` +
        `file and not the image data`,
    );
  }
  return new TextDecoder().decode(buffer.subarray(0, got));
}

/**
 * Splits the header into `key = value` fields; `{...}` values may span lines. One pass: a brace
 * value's end is found with one search from where it starts, so the time is linear in the text.
 */
function parseFields(text: string, hdrPath: string): Record<string, string> {
  const body = text.replace(/^\uFEFF/, "");
  const firstBreak = body.search(/\r?\n|$/);
  if (body.slice(0, firstBreak).trim() !== "ENVI") {
    throw new InvalidDataError(
      `${hdrPath} is not an ENVI header: its first line must be 'ENVI', got ` +
        `${JSON.stringify(body.slice(0, Math.min(firstBreak, 40)))}`,
    );
  }
  // A Map, so keys such as `__proto__` stay plain fields.
  const fields = new Map<string, string>();
  const rest = body.slice(firstBreak);
  let i = 0;
  let line = 1;
  while (i < rest.length) {
    const eol = rest.indexOf("\n", i);
    const end = eol < 0 ? rest.length : eol;
    const raw = rest.slice(i, end);
    i = end + 1;
    line++;
    const eq = raw.indexOf("=");
    if (eq < 0) {
      if (raw.trim() === "" || raw.trim().startsWith(";")) continue;
      throw new InvalidDataError(
        `ENVI header ${hdrPath}, line ${line}: expected 'key = value', got ` +
          `${JSON.stringify(raw.trim().slice(0, 80))}`,
        { position: { line } },
      );
    }
    const key = raw.slice(0, eq).trim().toLowerCase().replace(/\s+/g, " ");
    let value = raw.slice(eq + 1).trim();
    if (value.startsWith("{") && !value.includes("}")) {
      // The value runs on to the line holding the next '}'.
      const close = i < rest.length ? rest.indexOf("}", i) : -1;
      if (close < 0) {
        throw new InvalidDataError(
          `ENVI header ${hdrPath}: the '{' of '${key}' on line ${line} is never closed`,
          { position: { line } },
        );
      }
      const next = rest.indexOf("\n", close);
      const stop = next < 0 ? rest.length : next;
      const more = rest.slice(i, stop).split("\n").map((l) => l.trim());
      value += "\n" + more.join("\n");
      i = stop + 1;
      line += more.length;
    }
    if (value.startsWith("{")) value = value.slice(0, value.lastIndexOf("}") + 1);
    fields.set(key, value);
  }
  return Object.fromEntries(fields);
}

/** The header fields that say which pixels and bands to read, and how to scale them. */
function pixelFields(
  fields: Record<string, string>,
  context: { bands: number; bad: (what: string) => InvalidDataError },
): Pick<EnviHeader, "dataIgnoreValue" | "bbl" | "reflectanceScaleFactor"> {
  const { bands, bad } = context;
  const out: Pick<EnviHeader, "dataIgnoreValue" | "bbl" | "reflectanceScaleFactor"> = {};
  const ignore = fields["data ignore value"];
  if (ignore !== undefined) {
    const v = ignore.trim() === "" ? NaN : Number(ignore);
    if (Number.isNaN(v)) {
      throw bad(
        `'data ignore value' must be a number, got '${ignore.slice(0, 80)}' (NaN equals ` +
          `nothing, so it cannot mark no-data: remove the line and skip NaN pixels with ` +
          `--skip-invalid)`,
      );
    }
    out.dataIgnoreValue = v;
  }
  if (fields["bbl"] !== undefined) {
    const list = listValues(fields["bbl"]).map(Number);
    if (list.length !== bands || list.some((b) => b !== 0 && b !== 1)) {
      throw bad(
        `'bbl' must list ${bands} values of 1 (good band) or 0 (bad band), got ` +
          `${JSON.stringify(fields["bbl"]).slice(0, 120)}`,
      );
    }
    out.bbl = list;
  }
  const scale = fields["reflectance scale factor"];
  if (scale !== undefined) {
    const v = Number(scale);
    if (scale.trim() === "" || !Number.isFinite(v) || v <= 0) {
      throw bad(`'reflectance scale factor' must be a number > 0, got '${scale.slice(0, 80)}'`);
    }
    out.reflectanceScaleFactor = v;
  }
  return out;
}

/** The comma-separated items of a `{...}` value. */
function listValues(value: string): string[] {
  return value.replace(/^\{|\}$/g, "").split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** Where to look for the data file, and whether it may lie outside the header's folder. */
interface DataFileQuery {
  /** The header's `data file` field, when present. */
  named: string | undefined;
  /** Allow a data file outside the header's folder. */
  allowExternal: boolean;
}

async function findDataFile(hdrPath: string, query: DataFileQuery): Promise<string> {
  const { named, allowExternal } = query;
  const slash = Math.max(hdrPath.lastIndexOf("/"), hdrPath.lastIndexOf("\\"));
  const folder = hdrPath.slice(0, slash + 1);
  let tried: string[];
  if (named !== undefined && named.trim() !== "") {
    const n = named.trim();
    const candidate = isAbsolute(n) ? n : folder + n;
    if (!allowExternal && !within(pathSegments(candidate), pathSegments(folder || "."))) {
      throw external(hdrPath, n);
    }
    tried = [candidate];
  } else {
    const stem = hdrPath.replace(/\.hdr$/i, "");
    tried = DATA_EXTENSIONS.flatMap((
      e,
    ) => (e === "" ? [stem] : [stem + e, stem + e.toUpperCase()]));
    if (stem === hdrPath) tried = tried.filter((p) => p !== hdrPath);
  }
  for (const candidate of tried) {
    try {
      if ((await Deno.stat(candidate)).isFile) {
        // A link in the folder that leads out of it is a reference outside too.
        if (!allowExternal) {
          const real = await Deno.realPath(candidate);
          if (!within(pathSegments(real), pathSegments(await Deno.realPath(folder || ".")))) {
            throw external(hdrPath, named?.trim() || candidate, real);
          }
        }
        return candidate;
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  throw new Deno.errors.NotFound(
    `The data file of ENVI header ${hdrPath} was not found; tried ${tried.join(", ")}. ` +
      `Put it beside the header or name it with 'data file = <path>'`,
  );
}

/** The refusal of a data file outside the header's folder. */
function external(hdrPath: string, reference: string, target?: string): InvalidDataError {
  return new InvalidDataError(
    `ENVI header ${hdrPath} reads its data from '${reference}'` +
      (target === undefined ? "" : ` (a link to ${target})`) +
      `, outside the header's folder; prism reads only files in that folder by default, since ` +
      `a header from elsewhere could otherwise read any file on this machine. Put the data ` +
      `file beside the header, or if you trust this header pass { allowExternal: true } ` +
      `(--allow-external in the CLI)`,
  );
}

/** Whether `path` is `folder` or below it (both as segments from the root). */
function within(path: readonly string[], folder: readonly string[]): boolean {
  return path.length > folder.length && folder.every((part, k) => path[k] === part);
}
