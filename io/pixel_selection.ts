/**
 * Pixel and band selection, the one place where no-data values, masks, band subsets and scale
 * factors are applied before any statistics: `openCubeSource` applies it to every chunk it
 * reads, the CLI's `spectrum` to its matrix, and users to matrices of their own.
 *
 * Order of work on each pixel: keep the selected bands (`bands`, else the ENVI `bbl`), then
 * leave the pixel out when the mask is 0/false there or when ANY selected band equals the
 * no-data value (ENVI and GDAL practice: one no-data band makes the pixel no-data), then divide
 * what is kept by the scale factor (ENVI's `reflectance scale factor` convention).
 *
 * @module
 */

import type { Matrix } from "../core/types.ts";
import { checkMatrix } from "../core/validate.ts";
import { keptBands } from "./_band_list.ts";
import { maskFlags, type PixelMask, readMaskFile } from "./_pixel_mask.ts";

export type { PixelMask } from "./_pixel_mask.ts";

/** What to leave out of a cube's pixels and bands (`openCubeSource` options, CLI flags). */
export interface PixelSelectionOptions {
  /**
   * The no-data value: a pixel is left out when ANY of its selected bands equals it (compared
   * as float32, the values' type, before scaling). Replaces the ENVI `data ignore value`. NaN is
   * refused: it equals nothing; skip NaN pixels with `skipInvalid` instead.
   */
  nodata?: number;
  /**
   * One value per pixel, 0/false leaves the pixel out: `{ data, shape }` with `shape` equal to
   * the cube's pixel shape (`[H, W]`, `[N, H, W]` or `[pixels]`), or a `.npy`/`.h5` file path.
   */
  mask?: string | PixelMask;
  /** The dataset of an HDF5 mask file (default: the file's only dataset). */
  maskDataset?: string;
  /**
   * Bands to keep, counted from 0: text such as `"0-9,12,20-29"` (kept ascending) or
   * `"exclude:3,7"`, or an array of indices (kept in its order). When given, it replaces the
   * ENVI bad band list (`bbl`) entirely.
   */
  bands?: string | readonly number[];
  /**
   * Kept values are divided by it (after the no-data test); default the ENVI `reflectance scale
   * factor`, else 1. Must be finite and non-zero.
   */
  scaleFactor?: number;
}

/** What a file's own metadata says (an ENVI header); the options above win over it. */
export interface PixelDefaults {
  /** The header's `data ignore value`. */
  nodata?: number;
  /** The header's `bbl`: 1 good, 0 bad, one per band. */
  bbl?: readonly number[];
  /** The header's `reflectance scale factor`. */
  scaleFactor?: number;
}

/** The cube a selection applies to. */
export interface PixelSelectionTarget {
  /** Bands per pixel in the data, before selection. */
  bands: number;
  /** Its shape without the bands axis (`[H, W]`, `[N, H, W]`, `[pixels]`): the mask's shape. */
  pixelShape: readonly number[];
  /** The file or object, for messages (default `"the cube"`). */
  name?: string;
  /** Metadata defaults, e.g. from an ENVI header. */
  defaults?: PixelDefaults;
  /** Let an HDF5 mask file read other files (as `allowExternal` of the cube). */
  allowExternal?: boolean;
}

/** A chunk of pixels after selection: a matrix of the kept pixels and bands, and where it lies. */
export interface PixelChunk extends Matrix {
  /** The index of the chunk's first pixel among all pixels of the source. */
  readonly start: number;
  /** Pixels the chunk covers, kept or not (`rows` of them were kept). */
  readonly pixels: number;
  /**
   * 1 for each of the `pixels` that was kept (its row is in `data`, in order), 0 for each left
   * out; absent when every pixel was kept.
   */
  readonly kept?: Uint8Array;
}

/**
 * A pixel and band selection over a cube of known shape (see the module's order of work).
 *
 * @example
 * ```ts
 * import { PixelSelection } from "./pixel_selection.ts";
 * import assert from "node:assert";
 * // 3 pixels x 3 bands; pixel 1 holds the no-data value in band 2.
 * const m = { data: new Float32Array([1, 2, 3, 4, 5, -9999, 7, 8, 9]), rows: 3, cols: 3 };
 * const sel = new PixelSelection({ nodata: -9999, bands: "exclude:1" }, { bands: 3, pixelShape: [3] });
 * const chunk = sel.apply(m);
 * assert(chunk.rows === 2 && chunk.cols === 2 && chunk.pixels === 3);
 * assert.deepEqual([...chunk.data], [1, 3, 7, 9]);
 * assert.deepEqual([...chunk.kept!], [1, 0, 1]);
 * ```
 */
export class PixelSelection {
  /** The kept bands' indices in the data, or `null` for all. */
  readonly bandIndices: readonly number[] | null;
  /** Bands after selection. */
  readonly bands: number;
  /** The no-data value in effect (option, else the file's), if any. */
  readonly nodata?: number;
  /** The divisor of kept values (1: none). */
  readonly scaleFactor: number;
  /** Whether a mask is in effect. */
  readonly masked: boolean;
  readonly #sourceBands: number;
  readonly #name: string;
  readonly #mask?: Uint8Array;
  readonly #nodata32: number;

  /**
   * Builds a selection whose mask, if any, is in memory (use {@linkcode PixelSelection.open}
   * for a mask file).
   *
   * @param options `nodata`, `mask` (`{ data, shape }`), `bands`, `scaleFactor`.
   * @param target The cube: `bands`, `pixelShape`, `name`, `defaults` (e.g. ENVI header).
   * @throws {RangeError} When `nodata` is NaN or not a number, `scaleFactor` is not finite and
   *   non-zero, or the band selection is malformed, out of range or empty.
   * @throws {TypeError} When `mask` is a path here, or its shape differs from `pixelShape`.
   * @throws {InvalidDataError} When a mask value is NaN.
   */
  constructor(options: PixelSelectionOptions, target: PixelSelectionTarget) {
    const name = target.name ?? "the cube";
    const defaults = target.defaults ?? {};
    this.#name = name;
    this.#sourceBands = target.bands;
    const nodata = options.nodata ?? defaults.nodata;
    if (nodata !== undefined && (typeof nodata !== "number" || Number.isNaN(nodata))) {
      throw new RangeError(
        `the no-data value must be a number, got ${String(nodata)}: NaN equals nothing, so it ` +
          `cannot mark no-data; skip pixels holding NaN with skipInvalid (--skip-invalid)`,
      );
    }
    this.nodata = nodata;
    this.#nodata32 = nodata === undefined ? NaN : Math.fround(nodata);
    const scale = options.scaleFactor ?? defaults.scaleFactor ?? 1;
    if (typeof scale !== "number" || !Number.isFinite(scale) || scale === 0) {
      throw new RangeError(`scaleFactor must be a finite non-zero number, got ${String(scale)}`);
    }
    this.scaleFactor = scale;
    this.bandIndices = keptBands(options.bands, {
      total: target.bands,
      bbl: defaults.bbl,
      name,
    });
    this.bands = this.bandIndices?.length ?? target.bands;
    if (typeof options.mask === "string") {
      throw new TypeError("a mask file is read by PixelSelection.open(), not the constructor");
    }
    this.#mask = options.mask === undefined
      ? undefined
      : maskFlags(options.mask, { pixelShape: target.pixelShape, name });
    this.masked = this.#mask !== undefined;
  }

  /**
   * Builds a selection, reading the mask first when `options.mask` is a file path.
   *
   * @param options As for the constructor; `mask` may be a `.npy`/`.h5` path (`maskDataset`
   *   names the HDF5 dataset).
   * @param target As for the constructor; `allowExternal` applies to an HDF5 mask file.
   * @returns The selection.
   * @throws As the constructor, and as reading the mask file (NotFound, InvalidDataError).
   * @example
   * ```ts
   * import { PixelSelection } from "./pixel_selection.ts";
   * import { writeNpy } from "./npy.ts";
   * import assert from "node:assert";
   * const dir = await Deno.makeTempDir();
   * await writeNpy(`${dir}/mask.npy`, { data: new Uint8Array([1, 0, 1, 1]), shape: [2, 2] });
   * const sel = await PixelSelection.open({ mask: `${dir}/mask.npy` }, { bands: 1, pixelShape: [2, 2] });
   * const chunk = sel.apply({ data: new Float32Array([5, 6, 7, 8]), rows: 4, cols: 1 });
   * assert.deepEqual([...chunk.data], [5, 7, 8]);
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  static async open(
    options: PixelSelectionOptions,
    target: PixelSelectionTarget,
  ): Promise<PixelSelection> {
    if (typeof options.mask !== "string") return new PixelSelection(options, target);
    let mask: PixelMask;
    try {
      mask = await readMaskFile(options.mask, {
        dataset: options.maskDataset,
        allowExternal: target.allowExternal,
      });
    } catch (error) {
      if (error instanceof Error) error.message = `mask ${options.mask}: ${error.message}`;
      throw error;
    }
    return new PixelSelection({ ...options, mask }, target);
  }

  /** Whether the selection changes anything (bands, no-data, mask or scale). */
  get active(): boolean {
    return this.bandIndices !== null || this.nodata !== undefined || this.masked ||
      this.scaleFactor !== 1;
  }

  /**
   * Applies the selection to a chunk of pixels (rows) of the data's bands.
   *
   * @param chunk `rows × bands` of the data, before selection.
   * @param start The index of its first pixel among all pixels (where the mask is read;
   *   default 0).
   * @returns The kept pixels' kept bands, scaled, and which pixels were kept.
   * @throws {TypeError} When the chunk is malformed, has another band count, or runs past the
   *   mask's end.
   */
  apply(chunk: Matrix, start = 0): PixelChunk {
    checkMatrix(chunk, "chunk");
    if (chunk.cols !== this.#sourceBands) {
      throw new TypeError(
        `the chunk has ${chunk.cols} bands but ${this.#name} was selected from ` +
          `${this.#sourceBands}`,
      );
    }
    const pixels = chunk.rows;
    if (this.#mask !== undefined && start + pixels > this.#mask.length) {
      throw new TypeError(
        `pixels ${start}-${start + pixels - 1} run past the mask's ${this.#mask.length} pixels`,
      );
    }
    if (!this.active) return { data: chunk.data, rows: pixels, cols: chunk.cols, start, pixels };
    const c = this.#sourceBands;
    const idx = this.bandIndices ?? [...Array(c).keys()];
    const k = idx.length;
    const out = new Float32Array(pixels * k);
    const kept = new Uint8Array(pixels);
    const src = chunk.data;
    const nd = this.#nodata32;
    const scale = this.scaleFactor;
    let rows = 0;
    for (let p = 0; p < pixels; p++) {
      if (this.#mask !== undefined && this.#mask[start + p] === 0) continue;
      const base = p * c;
      let ok = true;
      // nd is NaN without a no-data value: the comparison is then never true.
      for (let j = 0; j < k && ok; j++) ok = src[base + idx[j]] !== nd;
      if (!ok) continue;
      const at = rows * k;
      for (let j = 0; j < k; j++) out[at + j] = src[base + idx[j]] / scale;
      kept[p] = 1;
      rows++;
    }
    return {
      data: rows === pixels ? out : out.slice(0, rows * k),
      rows,
      cols: k,
      start,
      pixels,
      ...(rows === pixels ? {} : { kept }),
    };
  }
}

/**
 * Spreads one value per kept pixel back over all the chunk's pixels, NaN where a pixel was left
 * out (so RX score maps keep their shape, with NaN at no-data and masked pixels).
 *
 * @param values `chunk.rows` values, in the kept pixels' order.
 * @param chunk The chunk they came from.
 * @returns `chunk.pixels` values.
 * @throws {TypeError} When `values` does not hold one value per kept pixel.
 * @example
 * ```ts
 * import { spreadOverPixels } from "./pixel_selection.ts";
 * import assert from "node:assert";
 * const chunk = { data: new Float32Array(2), rows: 2, cols: 1, start: 0, pixels: 3, kept: new Uint8Array([1, 0, 1]) };
 * const all = spreadOverPixels(new Float32Array([4, 6]), chunk);
 * assert(all[0] === 4 && Number.isNaN(all[1]) && all[2] === 6);
 * ```
 */
export function spreadOverPixels(values: Float32Array, chunk: PixelChunk): Float32Array {
  if (values.length !== chunk.rows) {
    throw new TypeError(`${values.length} values for a chunk of ${chunk.rows} kept pixels`);
  }
  if (chunk.kept === undefined) return values;
  const out = new Float32Array(chunk.pixels).fill(NaN);
  for (let p = 0, r = 0; p < chunk.pixels; p++) if (chunk.kept[p]) out[p] = values[r++];
  return out;
}
