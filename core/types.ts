/**
 * The data shapes prism exchanges. Storage is float32; statistics come back as float64.
 *
 * @module
 */

/** A row-major matrix. For spectral data a row is a pixel and a column a band. */
export interface Matrix {
  /** `rows * cols` values, row-major. */
  readonly data: Float32Array;
  /** Number of rows (pixels, samples). */
  readonly rows: number;
  /** Number of columns (bands, features). */
  readonly cols: number;
}

/** A hyperspectral cube, band-interleaved by pixel (BIP): `data[(y * width + x) * bands + b]`. */
export interface Cube {
  /** `height * width * bands` values. */
  readonly data: Float32Array;
  /** Image rows. */
  readonly height: number;
  /** Image columns. */
  readonly width: number;
  /** Spectral bands per pixel. */
  readonly bands: number;
}

/** A dense tensor, row-major (last axis fastest). Images and activations are NHWC. */
export interface Tensor {
  /** The product of `shape` values. */
  readonly data: Float32Array;
  /** The extent of each axis. */
  readonly shape: readonly number[];
}

/** Which engine runs a kernel. `auto` picks per call; see `capabilities()`. */
export type Backend = "auto" | "wasm" | "webgpu";

/** A progress report from long work. */
export interface Progress {
  /** Units done so far (rows, samples, tiles). */
  readonly done: number;
  /** Units in all, when known. */
  readonly total?: number;
  /** What the units are, e.g. `"rows"`. */
  readonly unit: string;
}

/** Options every long-running operation accepts. */
export interface RunOptions {
  /** The engine to use; default `"auto"`. */
  backend?: Backend;
  /** Cancels the work; the call then rejects with `AbortedError`. */
  signal?: AbortSignal;
  /** Called now and then with how far the work has come. */
  onProgress?: (progress: Progress) => void;
}
