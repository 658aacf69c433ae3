/**
 * The seeded synthetic hyperspectral cube of the RX stress suite (the RX stress suite's reference generator): a smooth
 * background with a spatial modulation and Gaussian noise, and disc-shaped anomaly clusters.
 *
 * @module
 */

import type { Cube } from "../core/types.ts";
import { checkInteger } from "../core/validate.ts";
import { type Cluster, nextLines, planSample, type SampleParams } from "./_sample.ts";

export type { Cluster } from "./_sample.ts";

/** Parameters of {@linkcode synthCube}. */
export interface SynthCubeOptions {
  /** Image lines H (>= 1). */
  height: number;
  /** Pixels per line W (>= 1). */
  width: number;
  /** Spectral bands C (>= 1). */
  bands: number;
  /** Sets the number of clusters `max(1, floor(floor(H*W*ratio) / 20))`; in [0, 1]; default 0.05. */
  anomalyRatio?: number;
  /** Noise standard deviation as a fraction of 100 (std = `noiseStd * 100`); >= 0; default 0.1. */
  noiseStd?: number;
  /** Anomaly signature scale `mag`; finite; default 3. */
  anomalyMagnitude?: number;
  /** Seed, a whole number in [0, 2^53); default 0. */
  seed?: number;
  /** Which sample of the seed's dataset: selects the random stream; default 0. */
  sampleIndex?: number;
}

/** A synthetic sample. */
export interface SynthSample {
  /** The cube, BIP float32. */
  cube: Cube;
  /**
   * Per pixel (row-major, `height * width`): the 1-based index into `clusters` of the last disc
   * that covers it (later discs overwrite earlier ones), 0 for background. Int32 because large
   * images have more than 255 clusters.
   */
  labels: Int32Array;
  /** Per pixel: 1 where anomalous (`labels > 0`), else 0. */
  mask: Uint8Array;
  /** The anomaly discs, in drawing order. */
  clusters: Cluster[];
}

/**
 * Generates one synthetic cube following the RX stress suite's reference generator: `w = linspace(0, 1, C)`; background
 * signature `100 exp(-(w-0.5)^2/0.1)`; pixel (i, j) is that times `(1 + 0.2 sin(2 pi i/H)) *
 * (1 + 0.2 cos(2 pi j/W))` plus Gaussian noise of std `noiseStd * 100`; then
 * `max(1, floor(H W ratio) // 20)` discs with centre uniform over the pixels and whole radius
 * uniform in 2..5 (inclusive) are overwritten with the noise-free anomaly signature
 * `100 mag (0.5 exp(-(w-0.3)^2/0.05) + 0.5 exp(-(w-0.7)^2/0.05))`.
 *
 * The same options give the same bytes; `(seed, sampleIndex)` selects an independent stream.
 * Note: with the original's cluster formula a disc covers 43 pixels on average, so the anomalous
 * fraction is about 2.15 x `anomalyRatio` (less where discs overlap or are clipped), not the ratio.
 *
 * @param options Sizes and generator parameters.
 * @returns The cube, per-pixel cluster labels, the anomaly mask and the clusters.
 * @throws {TypeError} When a size, seed or index is not a whole number, or a parameter not a
 * number.
 * @throws {RangeError} When a size is below 1, the ratio outside [0, 1], the noise negative, or a
 * parameter not finite.
 * @example
 * ```ts
 * import { synthCube } from "./cube.ts";
 * import assert from "node:assert";
 * const { cube, mask } = synthCube({ height: 16, width: 16, bands: 5, seed: 1 });
 * assert(cube.data.length === 16 * 16 * 5 && mask.some((m) => m === 1));
 * ```
 */
export function synthCube(options: SynthCubeOptions): SynthSample {
  const params = checkSynthOptions(options);
  const { height, width, bands } = params;
  const plan = planSample(params);
  const data = new Float32Array(height * width * bands);
  const labels = new Int32Array(height * width);
  nextLines(plan, { lineCount: height, cube: data, labels });
  const mask = new Uint8Array(height * width);
  for (let p = 0; p < labels.length; p++) mask[p] = labels[p] > 0 ? 1 : 0;
  return { cube: { data, height, width, bands }, labels, mask, clusters: plan.clusters };
}

/**
 * Validates generator options and fills in the defaults.
 *
 * @param options The options.
 * @returns Complete parameters.
 * @throws {TypeError} When a value has the wrong type.
 * @throws {RangeError} When a value is out of range.
 * @example
 * ```ts
 * import { checkSynthOptions } from "./cube.ts";
 * import assert from "node:assert";
 * assert(checkSynthOptions({ height: 2, width: 2, bands: 1 }).noiseStd === 0.1);
 * ```
 */
export function checkSynthOptions(options: SynthCubeOptions): SampleParams {
  if (options === null || typeof options !== "object") {
    throw new TypeError("options must be an object { height, width, bands, ... }");
  }
  const finite = (what: string, v: number, min: number, max: number): number => {
    if (typeof v !== "number" || Number.isNaN(v)) {
      throw new TypeError(`${what} must be a number, got ${String(v)}`);
    }
    if (!Number.isFinite(v) || v < min || v > max) {
      throw new RangeError(`${what} must be finite and between ${min} and ${max}, got ${v}`);
    }
    return v;
  };
  return {
    height: checkInteger("height", options.height, 1),
    width: checkInteger("width", options.width, 1),
    bands: checkInteger("bands", options.bands, 1),
    anomalyRatio: finite("anomalyRatio", options.anomalyRatio ?? 0.05, 0, 1),
    noiseStd: finite("noiseStd", options.noiseStd ?? 0.1, 0, Number.MAX_VALUE),
    anomalyMagnitude: finite(
      "anomalyMagnitude",
      options.anomalyMagnitude ?? 3,
      -Number.MAX_VALUE,
      Number.MAX_VALUE,
    ),
    seed: checkInteger("seed", options.seed ?? 0, 0),
    sampleIndex: checkInteger("sampleIndex", options.sampleIndex ?? 0, 0),
  };
}
