/**
 * Minimum noise fraction (MNF, Green et al. 1988; spectral Python's `mnf`): PCA after whitening
 * the noise, so components come out ordered by signal-to-noise ratio rather than variance.
 *
 * The noise covariance is estimated from differences of neighbouring pixels, as spectral
 * Python's `noise_from_diffs` does: `N = cov(X[y, x] − X[y+dy, x+dx]) / 2` over every pair inside
 * the image (default `"lowerright"`, `(dy, dx) = (1, 1)`; also `"lowerleft"` (1, −1), `"right"`
 * (0, 1), `"lower"` (1, 0)). Neighbours share the signal but not the noise, so half the
 * covariance of their difference estimates the noise covariance when noise is white in space.
 * Then `W` whitens it (`N⁺ = W·Wᵀ`, the pseudo-inverse of `./_pinv.ts`: bands or directions with
 * no noise, e.g. a constant band, are left out and `noiseRank` drops), `Wᵀ·S·W = V·diag(λ)·Vᵀ`
 * with `S` the signal (pixel) covariance, and the transform is `y = (x − μ)·W·V`: component j
 * has variance `λ_j` over the fitted pixels and noise variance about 1, so `λ_j` is about
 * SNR + 1. Signal and noise covariances stream in one pass over whole image lines.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import type { NestedOptions } from "../core/operation.ts";
import type { Cube, Matrix, RunOptions } from "../core/types.ts";
import { checkInteger, checkMatrix, cubeAsMatrix } from "../core/validate.ts";
import { checkBandBudget } from "./_band_budget.ts";
import { componentCount, leadingComponents } from "./_components.ts";
import { whitening } from "./_pinv.ts";
import type { RowSource } from "./_row_passes.ts";
import { type AddOptions, CovarianceAccumulator } from "./covariance_accumulator.ts";
import { Projection } from "./projection.ts";

/** Which neighbour a pixel is differenced with for the noise estimate. */
export type NoiseDirection = "lowerright" | "lowerleft" | "right" | "lower";

/** Options of {@linkcode mnf}. */
export interface MnfOptions extends RunOptions {
  /** Components to keep, 1 to the noise covariance's rank; default all of them. */
  components?: number;
  /** The neighbour for the noise differences; default `"lowerright"` (as spectral Python). */
  direction?: NoiseDirection;
}

/**
 * An image streamed in whole lines (an open `CubeSource` of a 3-D or 4-D file is one): `width`
 * pixels per line; with a `pixelShape` of `[N, H, W]`, lines of different images are not
 * differenced.
 */
export interface LineSource extends RowSource {
  /** Bands per pixel. */
  readonly bands: number;
  /** Pixels per line; absent for a pixel list, which MNF refuses. */
  readonly width?: number;
  /** `[H, W]` or `[N, H, W]` (a stack of N images of H lines). */
  readonly pixelShape?: readonly number[];
}

/** A fitted MNF. */
export interface MnfResult {
  /** Pixels fitted. */
  readonly count: number;
  /** Neighbour pairs the noise covariance came from. */
  readonly noisePairs: number;
  /** Bands C. */
  readonly bands: number;
  /** Components K kept. */
  readonly components: number;
  /** Rank of the noise covariance: the most components there are. */
  readonly noiseRank: number;
  /** The `C` float64 means. */
  readonly mean: Float64Array;
  /** `C × C` noise covariance estimate, row-major. */
  readonly noiseCovariance: Float64Array;
  /** The `noiseRank` eigenvalues of the noise-whitened covariance, descending (≈ SNR + 1). */
  readonly eigenvalues: Float64Array;
  /** `y = (x − mean)·W·V`: the K MNF components of a pixel (`projection.matrix` is `C × K`). */
  readonly projection: Projection;
}

/**
 * Fits MNF to an image (see the module docs for the method and the noise estimate).
 *
 * @param data A BIP cube, or an {@linkcode LineSource} (an open `CubeSource` of an image) whose
 *   chunks are whole lines.
 * @param options `components`, `direction`, `backend`, `signal`, `onProgress`.
 * @returns The noise covariance, eigenvalues and the projection.
 * @throws {TypeError} When the data is not an image (a pixel list has no neighbours), a chunk is
 *   not whole lines, `direction` is unknown, or `components` not a whole number.
 * @throws {RangeError} When the image has no neighbour pairs in that direction (too small) or
 *   fewer than 2 pixels, or `components` is below 1 or above the noise rank.
 * @throws {InvalidDataError} When a value is NaN or infinite.
 * @throws {AbortedError} When `signal` aborts.
 * @example
 * ```ts
 * import { mnf } from "./mnf.ts";
 * import assert from "node:assert";
 * // Band 0 a smooth ramp (signal), band 1 alternating noise: MNF ranks band 0 first.
 * const h = 8, w = 8, data = new Float32Array(h * w * 2);
 * for (let p = 0; p < h * w; p++) data.set([p / 8 + Math.sin(p * 7.1) * 0.01, Math.sin(p * 3.7)], 2 * p);
 * const m = await mnf({ data, height: h, width: w, bands: 2 });
 * assert(m.eigenvalues[0] > 100 * m.eigenvalues[1]);
 * assert(Math.abs(m.projection.matrix[0]) > Math.abs(m.projection.matrix[2]));
 * ```
 */
export async function mnf(data: Cube | LineSource, options: MnfOptions = {}): Promise<MnfResult> {
  if (options.components !== undefined) {
    componentCount(options.components, { available: Infinity, why: "" });
  }
  const direction = options.direction ?? "lowerright";
  const step = STEPS[direction];
  if (step === undefined) {
    throw new TypeError(
      `options.direction must be one of ${Object.keys(STEPS).join(", ")}, got ${String(direction)}`,
    );
  }
  const image = imageOf(data);
  const signal = new CovarianceAccumulator(image.bands, { backend: options.backend });
  const noise = new CovarianceAccumulator(image.bands, { backend: options.backend });
  const add: AddOptions & NestedOptions = { signal: options.signal, operation: "mnf()" };
  let previous: Float32Array | undefined;
  let line = 0;
  for await (const raw of image.chunks()) {
    throwIfAborted(options.signal, "mnf()");
    const chunk = checkLines(raw, image, line);
    await signal.add(chunk, add);
    const diffs = differences(chunk, { image, step, line, previous });
    if (diffs.rows > 0) await noise.add(diffs, add);
    const lines = chunk.rows / image.width;
    if (lines > 0) previous = chunk.data.slice((lines - 1) * image.width * image.bands);
    line += lines;
    options.onProgress?.({ done: line * image.width, unit: "rows" });
  }
  const s = signal.result(1);
  if (noise.count < 2) {
    throw new RangeError(
      `MNF needs at least 2 neighbour pairs ("${direction}") for the noise covariance, the ` +
        `${image.width}-pixel-wide image has ${noise.count}; use a larger image`,
    );
  }
  const n = noise.result(1);
  const bands = image.bands;
  const noiseCov = n.covariance.map((v) => v / 2);
  checkBandBudget(bands, 4, "MNF's eigendecompositions");
  const white = await whitening(noiseCov, bands, { eps: 0 });
  const r = white.rank;
  if (r === 0) {
    throw new RangeError(
      "MNF: the noise covariance is zero (neighbouring pixels are identical), so no component " +
        "can be scaled by its noise; MNF needs noisy data",
    );
  }
  const k = componentCount(options.components, {
    available: r,
    why: `the noise covariance has rank ${r} of ${bands} (bands without noise are left out)`,
  });
  const { values, vectors } = await leadingComponents(congruence(s.covariance, white.w, r), {
    n: r,
    k,
  });
  return {
    count: s.count,
    noisePairs: n.count,
    bands,
    components: k,
    noiseRank: r,
    mean: s.mean,
    noiseCovariance: noiseCov,
    eigenvalues: values,
    projection: new Projection(s.mean, product(white.w, vectors, { n: bands, inner: r, k })),
  };
}

const STEPS: Record<NoiseDirection, { dy: number; dx: number }> = {
  lowerright: { dy: 1, dx: 1 },
  lowerleft: { dy: 1, dx: -1 },
  right: { dy: 0, dx: 1 },
  lower: { dy: 1, dx: 0 },
};

interface Image {
  readonly bands: number;
  readonly width: number;
  /** Lines per image: pairs never cross from one image of a stack into the next. */
  readonly linesPerImage: number;
  chunks(): AsyncIterable<Matrix>;
}

function imageOf(data: Cube | LineSource): Image {
  if (data !== null && typeof data === "object" && "height" in data && "data" in data) {
    const m = cubeAsMatrix(data as Cube);
    return {
      bands: m.cols,
      width: data.width,
      linesPerImage: data.height,
      async *chunks() {
        yield m;
      },
    };
  }
  const src = data as LineSource;
  if (src === null || typeof src !== "object" || typeof src.chunks !== "function") {
    throw new TypeError(
      `mnf() takes a cube { data, height, width, bands } or an image source (an open ` +
        `CubeSource), got ${src === null ? "null" : typeof src}`,
    );
  }
  if (src.width === undefined) {
    throw new TypeError(
      "mnf() needs an image (H x W x C): a pixel list has no neighbours to estimate noise from",
    );
  }
  const shape = src.pixelShape ?? [];
  return {
    bands: checkInteger("source.bands", src.bands, 1),
    width: checkInteger("source.width", src.width, 1),
    linesPerImage: shape.length === 3 ? shape[1] : Infinity,
    chunks: () => src.chunks(),
  };
}

function checkLines(raw: Matrix, image: Image, line: number): Matrix {
  const m = checkMatrix(raw, `the chunk at line ${line}`);
  if (m.cols !== image.bands || m.rows % image.width !== 0) {
    throw new TypeError(
      `the chunk at line ${line} has ${m.rows} pixels x ${m.cols} bands; mnf() needs whole ` +
        `lines of ${image.width} pixels x ${image.bands} bands`,
    );
  }
  return m;
}

/** The differences of every neighbour pair that ends in this chunk's lines. */
function differences(
  chunk: Matrix,
  at: {
    image: Image;
    step: { dy: number; dx: number };
    line: number;
    previous?: Float32Array;
  },
): Matrix {
  const { image, step, previous } = at;
  const { width, bands } = image;
  const lines = chunk.rows / width;
  const pairs = width - Math.abs(step.dx);
  const out = new Float32Array(Math.max(0, lines * pairs * bands));
  let rows = 0;
  for (let l = 0; l < lines; l++) {
    const y = (at.line + l) % image.linesPerImage;
    if (step.dy === 1 && y === 0) continue; // no line above inside this image
    const lower = chunk.data.subarray(l * width * bands, (l + 1) * width * bands);
    const upper = step.dy === 0
      ? lower
      : l > 0
      ? chunk.data.subarray((l - 1) * width * bands, l * width * bands)
      : previous!;
    for (let x = Math.max(0, -step.dx); x < width - Math.max(0, step.dx); x++) {
      const u = x * bands;
      const v = (x + step.dx) * bands;
      for (let b = 0; b < bands; b++) out[rows * bands + b] = upper[u + b] - lower[v + b];
      rows++;
    }
  }
  return { data: out.subarray(0, rows * bands), rows, cols: bands };
}

/** `Wᵀ·S·W` (`r × r`) for `S` `C × C` and `W` `C × r`, in float64. */
function congruence(s: Float64Array, w: Float64Array, r: number): Float64Array {
  const c = s.length === 0 ? 0 : Math.round(Math.sqrt(s.length));
  const sw = product(s, w, { n: c, inner: c, k: r });
  const out = new Float64Array(r * r);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < r; j++) {
      let t = 0;
      for (let p = 0; p < c; p++) t += w[p * r + i] * sw[p * r + j];
      out[i * r + j] = t;
    }
  }
  return out;
}

/** `A·B` for `A` `n × inner`, `B` `inner × k`, row-major float64. */
function product(
  a: Float64Array,
  b: Float64Array,
  size: { n: number; inner: number; k: number },
): Float64Array {
  const { n, inner, k } = size;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < inner; p++) {
      const x = a[i * inner + p];
      if (x === 0) continue;
      for (let j = 0; j < k; j++) out[i * k + j] += x * b[p * k + j];
    }
  }
  return out;
}
