/**
 * A uniform, streaming view of pixel data on disk: `.npy`, HDF5 datasets and ENVI images become
 * sources of pixel-row matrices (row = pixel, column = band), read a slice at a time.
 *
 * Layouts (pixels always come out bands last, BIP):
 * - 2-D `pixels × bands`: no image shape;
 * - 3-D `H × W × C` (`hwc`) or `C × H × W` (`chw`): an image;
 * - 4-D `N × H × W × C` (`nhwc`, e.g. `cli.ts synth` output) or `N × C × H × W` (`nchw`): a
 *   stack, `N·H` lines of `W` pixels.
 *
 * Which one a file holds comes from the `layout` option, the file itself (ENVI `interleave`, an
 * HDF5 `layout`/`axes`/`DIMENSION_LABELS` attribute) or the shape rule of `./layout.ts`, which
 * sets {@linkcode CubeSource.layoutNotice} when it assumed and refuses a coin toss.
 *
 * No-data values, masks, band subsets and scale factors (the options, else an ENVI header's
 * `data ignore value`, `bbl` and `reflectance scale factor`) are applied to every chunk by
 * `./pixel_selection.ts`: a chunk then holds only the kept pixels and bands.
 *
 * @module
 */

import { requireDeno } from "../core/runtime.ts";
import type { Matrix } from "../core/types.ts";
import { checkBudget } from "../core/budget.ts";
import { checkInteger } from "../core/validate.ts";
import { openEnvi } from "./envi.ts";
import { openHdf5Dataset } from "./hdf5.ts";
import { openNpy } from "./npy.ts";
import { formatOfPath } from "./format.ts";
import {
  type PixelChunk,
  type PixelDefaults,
  PixelSelection,
  type PixelSelectionOptions,
} from "./pixel_selection.ts";
import { chooseLayout, type CubeLayout, type LayoutChoice } from "./layout.ts";
import type { ArrayRowReader } from "./row_reader.ts";

/** An open source of pixels. */
export interface CubeSource {
  /** Image lines (`N·H` for a 4-D stack), absent for a 2-D pixel list. */
  readonly height?: number;
  /** Pixels per line, absent for a 2-D pixel list. */
  readonly width?: number;
  /** The shape of one score per pixel: `[H, W]`, `[N, H, W]` or `[pixels]`. */
  readonly pixelShape: readonly number[];
  /** Pixels in all. */
  readonly rows: number;
  /** Bands per pixel, after the band selection (`selection.bandIndices`). */
  readonly bands: number;
  /** The pixel and band selection applied to what is read (`selection.active`: any at all). */
  readonly selection: PixelSelection;
  /** The file's layout as read (`"pixels"` for a 2-D list); ENVI is `hwc` after conversion. */
  readonly layout: CubeLayout | "pixels";
  /**
   * Set when the layout was assumed from the shape: what was assumed and how to change it
   * (`layout` option, `--layout` flag). The CLI prints it on stderr.
   */
  readonly layoutNotice?: string;
  /**
   * Streams the pixels in order, `maxRows` (≥ 1) or fewer read at a time, in whole lines (3-D)
   * or whole samples (4-D), so a chunk covers at least one line or sample; chunks are also kept
   * near {@linkcode CHUNK_BYTES} (so many bands mean fewer rows), and a source with no pixels
   * yields nothing at once. With a selection, a chunk's rows are its kept pixels only (maybe
   * none): `pixels`, `start` and `kept` say which of the source's pixels they are. With `range`,
   * only pixels `range.start` to `range.end - 1` (in the order above) are read and yielded: a
   * shard of the file; the lines around it are read whole and trimmed.
   */
  chunks(maxRows?: number, range?: PixelRange): AsyncIterable<PixelChunk>;
  /** Reads every pixel into one matrix (its kept pixels, with a selection). */
  readAll(): Promise<PixelChunk>;
  /** Closes the file. */
  close(): void;
}

/** Pixels `start` to `end - 1` of a source, counted from 0 in its streaming order. */
export interface PixelRange {
  /** The first pixel. */
  readonly start: number;
  /** One past the last pixel; at most the source's `rows`. */
  readonly end: number;
}

/**
 * Options of {@linkcode openCubeSource}; `nodata`, `mask`, `maskDataset`, `bands` and
 * `scaleFactor` select pixels and bands (see `PixelSelectionOptions`).
 */
export interface CubeSourceOptions extends PixelSelectionOptions {
  /** The dataset path inside an HDF5 file (required for `.h5`/`.hdf5`). */
  dataset?: string;
  /**
   * Let the input read other files: an ENVI `data file` outside the header's folder, HDF5
   * external links, external storage and virtual datasets (see `Hdf5ReadOptions`). Default
   * `false`: an input is untrusted, and such a reference could read any file on the machine.
   */
  allowExternal?: boolean;
  /**
   * Where the bands are: `hwc`/`nhwc` (last) or `chw`/`nchw` (first). Needed when the shape or an
   * integer type leaves it open (see `./layout.ts`); refused for ENVI, whose `interleave` says it.
   */
  layout?: CubeLayout;
}

/**
 * The float32 bytes a chunk of {@linkcode CubeSource.chunks} aims at: 128 MiB, 65,536 pixels of
 * 512 bands (a chunk is never less than one line or sample).
 */
export const CHUNK_BYTES = 128 * 2 ** 20;

/** Reads `count` slices along the first axis from `start`. */
type SliceReader = (start: number, count: number) => Promise<Float32Array>;

/**
 * Opens `.npy`, `.h5`/`.hdf5` (with `dataset`) or ENVI (`.hdr`) pixel data for streaming.
 *
 * @param path The file (for ENVI, the `.hdr` header).
 * @param options `dataset` for HDF5; `allowExternal` to let the input read other files (an
 *   ENVI data file outside the header's folder, HDF5 external links, storage or virtual datasets);
 *   `layout` (`hwc`, `chw`, `nhwc`, `nchw`) where the bands are; `nodata`, `mask`, `maskDataset`,
 *   `bands`, `scaleFactor` (see `PixelSelectionOptions`; an ENVI header's `data ignore value`,
 *   `bbl` and `reflectance scale factor` apply unless these replace them).
 * @returns The source; close it when done.
 * @throws {TypeError} On a missing `dataset` for HDF5, an array with fewer than 2 or more than
 *   4 axes or with 0 bands, a `layout` that does not fit the array (or given for ENVI), a
 *   layout the file leaves open that the shape cannot settle (a 3-D integer array, a coin toss:
 *   see `./layout.ts`), or a mask of another shape than the pixels.
 * @throws {RangeError} On an extension other than `.npy`, `.h5`, `.hdf5` or `.hdr`, a NaN
 *   `nodata`, or a band selection out of range or empty.
 * @throws {Deno.errors.NotFound} When the file (or dataset) does not exist.
 * @throws {InvalidDataError} When the file is corrupt, truncated or of an unsupported type, or
 *   refers to a file outside its folder without `allowExternal`.
 * @throws {OutOfMemoryError} From `readAll` (or a chunk of one huge line), when the read is over
 *   the memory budget (`PRISM_MEMORY_BUDGET`): stream it with `chunks()`.
 * @example
 * ```ts
 * import { openCubeSource } from "./cube_source.ts";
 * import { writeNpy } from "./npy.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * await writeNpy(`${dir}/c.npy`, { data: new Float32Array(2 * 3 * 4).map((_, i) => i), shape: [2, 3, 4] });
 * // [2, 3, 4] could be 4 bands of 2 x 3 or 2 bands of 3 x 4 pixels: say which.
 * const src = await openCubeSource(`${dir}/c.npy`, { layout: "hwc" });
 * let rows = 0;
 * for await (const m of src.chunks(4)) rows += m.rows; // 3-pixel lines, one per chunk
 * src.close();
 * assert(rows === 6 && src.bands === 4 && src.height === 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openCubeSource(
  path: string,
  options: CubeSourceOptions = {},
): Promise<CubeSource> {
  requireDeno("openCubeSource()");
  const format = formatOfPath(path, FORMATS);
  if (format === "npy") {
    const r = await openNpy(path);
    return await selected(arraySource(path, r, options.layout), { path, options });
  }
  if (format === "hdf5") {
    if (typeof options.dataset !== "string" || options.dataset === "") {
      throw new TypeError(`${path} is HDF5: name the dataset to read (e.g. --dataset /cube)`);
    }
    const r = await openHdf5Dataset(path, options.dataset, {
      allowExternal: options.allowExternal ?? false,
    });
    return await selected(arraySource(`${path} ${options.dataset}`, r, options.layout), {
      path,
      options,
    });
  }
  if (options.layout !== undefined) {
    throw new TypeError(
      `${path} is ENVI: its header's 'interleave' field says where the bands are; drop ` +
        `--layout ${options.layout}`,
    );
  }
  // The ENVI header (.hdr) names the raw file beside it; the reader returns BIP lines.
  const r = await openEnvi(path, { allowExternal: options.allowExternal });
  const { dataIgnoreValue: nodata, bbl, reflectanceScaleFactor: scaleFactor } = r.header;
  return await selected(
    fromSlices(
      path,
      [r.height, r.width, r.bands],
      { read: (s, n) => r.readRows(s, n), close: () => r.close() },
      { layout: "hwc", origin: "interleave" },
    ),
    { path, options, defaults: { nodata, bbl, scaleFactor } },
  );
}

/** A source before selection: chunks of every pixel and band. */
type RawSource = Omit<CubeSource, "selection" | "chunks" | "readAll"> & {
  chunks(maxRows?: number, range?: PixelRange): AsyncIterable<Matrix>;
  readAll(): Promise<Matrix>;
};

/** Puts the pixel selection of `options` (over the file's `defaults`) on a raw source. */
async function selected(
  raw: RawSource,
  context: { path: string; options: CubeSourceOptions; defaults?: PixelDefaults },
): Promise<CubeSource> {
  const { path, options, defaults } = context;
  let selection: PixelSelection;
  try {
    selection = await PixelSelection.open(options, {
      bands: raw.bands,
      pixelShape: raw.pixelShape,
      name: path,
      defaults,
      allowExternal: options.allowExternal,
    });
  } catch (error) {
    raw.close();
    throw error;
  }
  return {
    ...raw,
    bands: selection.bands,
    selection,
    async *chunks(maxRows, range) {
      let start = range?.start ?? 0;
      for await (const m of raw.chunks(maxRows, range)) {
        yield selection.apply(m, start);
        start += m.rows;
      }
    },
    async readAll() {
      return selection.apply(await raw.readAll(), 0);
    },
  };
}

/** An array reader as a source: its layout decided, band-first data transposed to BIP. */
function arraySource(name: string, r: ArrayRowReader, layout?: CubeLayout): RawSource {
  const close = () => r.close();
  let choice: LayoutChoice;
  try {
    // Shapes outside 2-4 axes are refused by fromSlices with the full message.
    choice = r.shape.length < 2 || r.shape.length > 4
      ? { layout: "pixels", origin: "shape" }
      : chooseLayout(r.shape, { layout, dtype: r.dtype, attrs: r.attrs, name });
  } catch (error) {
    close();
    throw error;
  }
  const read = (s: number, n: number) => r.readRows(s, n);
  if (choice.layout === "chw") {
    const [c, h, w] = r.shape;
    return fromSlices(name, [h, w, c], { read: bandFirstLines(r, [c, h, w]), close }, choice);
  }
  if (choice.layout === "nchw") {
    const [n, c, h, w] = r.shape;
    const samples = async (s: number, k: number) => chwToHwc(await read(s, k), [k * c, h, w], c);
    return fromSlices(name, [n, h, w, c], { read: samples, close }, choice);
  }
  return fromSlices(name, r.shape, { read, close }, choice);
}

/**
 * Reads lines of a `C × H × W` array as BIP: through the reader's `readInner` when it has one,
 * else from the whole array read once (band-first lines are strided through the file).
 */
function bandFirstLines(r: ArrayRowReader, shape: [number, number, number]): SliceReader {
  const [c, h, w] = shape;
  if (r.readInner !== undefined) {
    const inner = r.readInner.bind(r);
    return async (y, n) => chwToHwc(await inner(y, n), [c, n, w], c);
  }
  let whole: Promise<Float32Array> | undefined;
  return async (y, n) => {
    whole ??= (async () => {
      checkBudget(
        c * h * w * 4,
        `reading band-first (C x H x W) ${c} x ${h} x ${w} whole: its lines are strided`,
        "store it bands last (H x W x C) to stream it",
      );
      return await r.readRows(0, c);
    })();
    const all = await whole;
    const out = new Float32Array(n * w * c);
    for (let b = 0; b < c; b++) {
      for (let p = 0; p < n * w; p++) out[p * c + b] = all[(b * h + y) * w + p];
    }
    return out;
  };
}

/**
 * Reorders `samples·C × H × W` values (band planes, `c` per sample) into `samples·H × W × C`.
 */
function chwToHwc(data: Float32Array, shape: [number, number, number], c: number): Float32Array {
  const [planes, h, w] = shape;
  const out = new Float32Array(data.length);
  const plane = h * w;
  for (let q = 0; q < planes; q++) {
    const sample = Math.floor(q / c), band = q % c;
    const src = q * plane, dst = sample * plane * c + band;
    for (let p = 0; p < plane; p++) out[dst + p * c] = data[src + p];
  }
  return out;
}

const FORMATS = { npy: "npy", h5: "hdf5", hdf5: "hdf5", hdr: "envi" } as const;

/** `range` checked against a source of `rows` pixels; the whole source when absent. */
function checkRange(range: PixelRange | undefined, rows: number, path: string): PixelRange {
  if (range === undefined) return { start: 0, end: rows };
  const start = checkInteger("range.start", range.start, 0);
  const end = checkInteger("range.end", range.end, 0);
  if (start > end || end > rows) {
    throw new RangeError(
      `pixel range ${start}:${end} does not fit ${path}, which holds ${rows} pixels; give ` +
        `0 <= start <= end <= ${rows}`,
    );
  }
  return { start, end };
}

function fromSlices(
  path: string,
  shape: readonly number[],
  io: { read: SliceReader; close: () => void },
  choice: LayoutChoice,
): RawSource {
  const { read, close } = io;
  if (shape.length < 2 || shape.length > 4) {
    close();
    throw new TypeError(
      `${path} holds an array of shape [${shape.join(", ")}]; expected pixels × bands, ` +
        `H × W × C or N × H × W × C`,
    );
  }
  const bands = shape[shape.length - 1];
  if (bands === 0) {
    close();
    throw new TypeError(
      `${path} holds an array of shape [${shape.join(", ")}] with 0 bands (its last axis); ` +
        `a cube needs at least 1 band per pixel: check the file's shape`,
    );
  }
  const slices = shape[0];
  const pixelsPerSlice = shape.slice(1, -1).reduce((a, b) => a * b, 1);
  const rows = slices * pixelsPerSlice;
  const image = shape.length >= 3;
  // Lines of a 4-D stack are N·H slices of the flattened [N·H, W, C] view.
  const width = image ? shape[shape.length - 2] : undefined;
  const linesPerSlice = shape.length === 4 ? shape[1] : 1;
  const readLines = async (line: number, count: number): Promise<Float32Array> => {
    if (shape.length < 4) return await read(line, count);
    // 4-D: whole slices only; chunks() asks for multiples of linesPerSlice.
    return await read(line / linesPerSlice, count / linesPerSlice);
  };
  const unitRows = shape.length === 4 ? linesPerSlice * (width ?? 1) : pixelsPerSlice;
  return {
    height: image ? slices * linesPerSlice : undefined,
    width,
    pixelShape: shape.slice(0, -1),
    rows,
    bands,
    layout: choice.layout,
    ...(choice.notice === undefined ? {} : { layoutNotice: choice.notice }),
    async *chunks(maxRows = 65536, range?: PixelRange) {
      checkInteger("maxRows", maxRows, 1);
      const { start, end } = checkRange(range, rows, path);
      // No pixels (an axis of 0, or an empty range): nothing to read.
      if (start >= end) return;
      const byBytes = Math.max(1, Math.floor(CHUNK_BYTES / (bands * 4)));
      const units = Math.max(1, Math.floor(Math.min(maxRows, byBytes) / Math.max(1, unitRows)));
      const perUnit = shape.length === 4 ? linesPerSlice : 1;
      const step = units * perUnit;
      // Read whole units (pixels, lines or samples) from the one holding `start`; trim the ends.
      const unitPixels = Math.max(1, unitRows);
      const first = Math.floor(start / unitPixels) * perUnit;
      const total = Math.ceil(end / unitPixels) * perUnit;
      for (let s = first; s < total; s += step) {
        const n = Math.min(step, total - s);
        let data = await readLines(s, n);
        const from = (s / perUnit) * unitPixels;
        const lo = Math.max(start - from, 0), hi = Math.min(end - from, data.length / bands);
        if (lo > 0 || hi < data.length / bands) data = data.slice(lo * bands, hi * bands);
        yield { data, rows: data.length / Math.max(1, bands), cols: bands };
      }
    },
    async readAll() {
      checkBudget(
        rows * bands * 4,
        `reading all ${rows} pixels x ${bands} bands of ${path}`,
        "stream it in chunks (openCubeSource().chunks)",
      );
      if (rows === 0) return { data: new Float32Array(0), rows, cols: bands };
      const data = await read(0, slices);
      return { data, rows, cols: bands };
    },
    close,
  };
}
