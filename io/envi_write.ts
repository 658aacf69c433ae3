/**
 * Writing ENVI images: a float32 BIP raw file (`.img`) and its text header (`.hdr`), both
 * atomically, readable by `openEnvi` and by any tool that reads ENVI (numpy: `np.fromfile` with
 * the header's sizes).
 *
 * @module
 */

import { requireDeno } from "../core/runtime.ts";
import { extensionOf } from "./_path.ts";
import type { Cube } from "../core/types.ts";
import { checkInteger } from "../core/validate.ts";
import { withAtomicPath, writeFileAtomic } from "./atomic.ts";

/** A header field value: text as is (a `{...}` list kept whole), a number, or a list. */
export type EnviFieldValue = string | number | readonly (string | number)[];

/** Options of {@linkcode writeEnvi}. */
export interface EnviWriteOptions {
  /**
   * Extra header fields by name, e.g. `{ "map info": "{UTM, 1, 1, ...}", "band names": ["rx"] }`
   * (copied from an input header, they keep its georeferencing). Lists are written `{a, b}`.
   * The fields that describe the layout (samples, lines, bands, header offset, file type, data
   * type, interleave, byte order, data file) are written by the writer and refused here.
   */
  fields?: Readonly<Record<string, EnviFieldValue>>;
}

/** The files an ENVI image was written to. */
export interface EnviFiles {
  /** The `.hdr` header. */
  header: string;
  /** The `.img` raw data. */
  data: string;
}

/** Fields the writer sets itself from the image. */
const LAYOUT_FIELDS = new Set([
  "samples",
  "lines",
  "bands",
  "header offset",
  "file type",
  "data type",
  "interleave",
  "byte order",
  "data file",
]);

/**
 * Writes a BIP float32 cube as an ENVI image: `<stem>.img` (raw float32, band-interleaved by
 * pixel, the host's byte order, which the header records) and `<stem>.hdr`. `path` may name
 * either file (`scores.hdr` or `scores.img`). Both are written to temporary names and renamed
 * into place, the data first, so a header never points at missing or partial data, and a failure
 * leaves neither target changed (if renaming the header fails after the data was renamed, the new
 * data file stays beside the old header).
 *
 * @param path The `.hdr` or `.img` path.
 * @param cube The image: `data[(y * width + x) * bands + b]`, `height` lines, `width` samples.
 * @param options `fields`: extra header fields (see {@linkcode EnviWriteOptions}).
 * @returns The two paths written.
 * @throws {TypeError} When `data` is not a Float32Array of `height * width * bands` values, a
 *   size is not a whole number ≥ 1, `path` does not end in `.hdr` or `.img`, or a field is a
 *   layout field or its name or value would break the header (`=`, line breaks, a stray `}`).
 * @throws {Deno.errors.NotFound} When the folder does not exist.
 * @example
 * ```ts
 * import { writeEnvi } from "./envi_write.ts";
 * import { readEnvi } from "./envi.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * const data = new Float32Array([1, 2, 3, 4, 5, 6]);
 * const files = await writeEnvi(`${dir}/s.hdr`, { data, height: 1, width: 3, bands: 2 }, {
 *   fields: { description: "{two bands}", wavelength: [450.5, 600] },
 * });
 * assert(files.data.endsWith("s.img"));
 * const back = await readEnvi(files.header);
 * assert(back.width === 3 && back.bands === 2 && back.data[5] === 6);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeEnvi(
  path: string,
  cube: Cube,
  options: EnviWriteOptions = {},
): Promise<EnviFiles> {
  requireDeno("writeEnvi()");
  const ext = typeof path === "string" ? extensionOf(path).toLowerCase() : "";
  if (ext !== ".hdr" && ext !== ".img") {
    throw new TypeError(`ENVI output ${String(path)} must end in .hdr or .img`);
  }
  const { data, height, width, bands } = cube;
  checkInteger("height", height, 1);
  checkInteger("width", width, 1);
  checkInteger("bands", bands, 1);
  if (!(data instanceof Float32Array) || data.length !== height * width * bands) {
    throw new TypeError(
      `ENVI data must be a Float32Array of height x width x bands = ${height * width * bands} ` +
        `values, got ${data instanceof Float32Array ? data.length : typeof data}`,
    );
  }
  const stem = path.slice(0, path.length - ext.length);
  const files = { header: `${stem}.hdr`, data: `${stem}.img` };
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  const lines = [
    "ENVI",
    `samples = ${width}`,
    `lines = ${height}`,
    `bands = ${bands}`,
    "header offset = 0",
    "file type = ENVI Standard",
    "data type = 4",
    "interleave = bip",
    `byte order = ${littleEndian ? 0 : 1}`,
    ...Object.entries(options.fields ?? {}).map(([name, value]) => fieldLine(name, value)),
  ];
  const header = new TextEncoder().encode(lines.join("\n") + "\n");
  await withAtomicPath(files.header, async (tmpHeader) => {
    await writeFileAtomic(
      files.data,
      new Uint8Array(data.buffer, data.byteOffset, data.length * 4),
    );
    await Deno.writeFile(tmpHeader, header);
  }, { operation: "writeEnvi()" });
  return files;
}

function fieldLine(name: string, value: EnviFieldValue): string {
  const key = name.trim().toLowerCase().replace(/\s+/g, " ");
  if (key === "" || /[=\r\n{}]/.test(key)) {
    throw new TypeError(
      `ENVI field name ${JSON.stringify(name)} must be words without = or braces`,
    );
  }
  if (LAYOUT_FIELDS.has(key)) {
    throw new TypeError(
      `ENVI field "${key}" describes the data layout, which writeEnvi sets itself; drop it`,
    );
  }
  let text: string;
  if (Array.isArray(value)) {
    text = `{${value.map((v) => String(v)).join(", ")}}`;
  } else if (typeof value === "number" || typeof value === "string") text = String(value);
  else throw new TypeError(`ENVI field "${key}" must be a string, a number or a list of them`);
  const braced = text.startsWith("{") && text.endsWith("}");
  const closes = text.split("}").length - 1;
  if ((braced ? closes !== 1 || text.indexOf("{", 1) >= 0 : /[{}\r\n]/.test(text))) {
    throw new TypeError(
      `ENVI field "${key}" = ${JSON.stringify(text.slice(0, 80))} would break the header: ` +
        `a value is one line, or one {...} group without inner braces`,
    );
  }
  return `${key} = ${text}`;
}
