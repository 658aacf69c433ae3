/**
 * The synthetic datasets of the RX stress suite (the RX stress suite's reference generator) at its four scales, generated
 * one sample at a time (never held whole), each sample from its own random stream.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import type { Matrix, RunOptions } from "../core/types.ts";
import { checkInteger } from "../core/validate.ts";
import { checkSynthOptions, synthCube, type SynthSample } from "./cube.ts";
import { nextLines, planSample } from "./_sample.ts";

/** The sizes of a synthetic dataset. */
export interface DatasetShape {
  /** Number of samples (cubes). */
  samples: number;
  /** Image lines per cube. */
  height: number;
  /** Pixels per line. */
  width: number;
  /** Spectral bands. */
  bands: number;
}

/** A named scale with its float32 size in bytes. */
export interface ScaleInfo extends DatasetShape {
  /** `samples * height * width * bands * 4`: the cubes alone, as float32. */
  rawBytes: number;
}

/** The names of the stress suite's scales. */
export type ScaleName = "small" | "medium" | "large" | "extra-large";

const scale = (samples: number, side: number, bands: number): ScaleInfo =>
  Object.freeze({
    samples,
    height: side,
    width: side,
    bands,
    rawBytes: samples * side * side * bands * 4,
  });

/**
 * The four scales: small 10 x 64x64x10 (1.6 MB), medium 100 x 128x128x50 (328 MB), large
 * 1,000 x 256x256x100 (26 GB), extra-large 10,000 x 512x512x200 (2.1 TB, stream only).
 * (The original's table gives these float32 sizes; its code estimated 12 bytes per value.)
 *
 * @example
 * ```ts
 * import { SCALES } from "./datasets.ts";
 * import assert from "node:assert";
 * assert(SCALES.medium.rawBytes === 327_680_000);
 * ```
 */
export const SCALES: Readonly<Record<ScaleName, Readonly<ScaleInfo>>> = Object.freeze({
  small: scale(10, 64, 10),
  medium: scale(100, 128, 50),
  large: scale(1000, 256, 100),
  "extra-large": scale(10000, 512, 200),
});

/**
 * Options of {@linkcode synthDataset} and {@linkcode datasetRows}; `signal` stops the generation
 * (the iterator then throws `AbortedError`).
 */
export interface SynthDatasetOptions extends Pick<RunOptions, "signal"> {
  /** Seed of the whole dataset; sample `i` uses stream `i`. Default 0. */
  seed?: number;
  /** First sample to generate (for sharding across workers); default 0. */
  start?: number;
  /** Samples to generate from `start`; default: the rest. */
  count?: number;
  /** See `synthCube`; default 0.05. */
  anomalyRatio?: number;
  /** See `synthCube`; default 0.1. */
  noiseStd?: number;
  /** See `synthCube`; default 3. */
  anomalyMagnitude?: number;
}

/** A sample of a dataset with its index. */
export interface IndexedSample extends SynthSample {
  /** The sample's index in the dataset (its stream). */
  index: number;
}

/**
 * Generates a dataset's samples one at a time. Sample `i` is `synthCube({ ...sizes, seed,
 * sampleIndex: i })`, so it is the same whatever `start` and `count` are.
 *
 * @param shape A scale name or explicit sizes.
 * @param options Seed, range of samples, generator parameters, abort signal.
 * @returns An async generator of samples.
 * @throws {TypeError} On an unknown scale name or malformed sizes.
 * @throws {RangeError} On out-of-range sizes, parameters or sample range.
 * @throws {AbortedError} When `signal` aborts.
 * @example
 * ```ts
 * import { synthDataset } from "./datasets.ts";
 * import assert from "node:assert";
 * let n = 0;
 * for await (const s of synthDataset({ samples: 3, height: 8, width: 8, bands: 4 }, { seed: 1 })) {
 *   assert(s.index === n++ && s.cube.data.length === 256);
 * }
 * assert(n === 3);
 * ```
 */
export async function* synthDataset(
  shape: ScaleName | DatasetShape,
  options: SynthDatasetOptions = {},
): AsyncGenerator<IndexedSample> {
  const { sizes, first, end } = resolveRange(shape, options);
  for (let index = first; index < end; index++) {
    throwIfAborted(options.signal, "synthDataset()");
    const sample = synthCube({ ...sizes, ...generatorOptions(options), sampleIndex: index });
    yield { index, ...sample };
    await Promise.resolve();
  }
}

/**
 * Streams every pixel of a dataset as row chunks of a pixels x bands matrix, for streaming
 * statistics over a whole scale with bounded memory: a sample is generated a block of image lines
 * at a time and never held whole. Chunks hold whole image lines of one sample, at most
 * `maxRows` pixels (but at least one line). Values equal those of {@linkcode synthDataset}.
 *
 * @param shape A scale name or explicit sizes.
 * @param options As for {@linkcode synthDataset}, plus `maxRows` (default 65536 pixels).
 * @returns An async generator of matrices (fresh arrays each time).
 * @throws {TypeError} On an unknown scale name or malformed sizes.
 * @throws {RangeError} On out-of-range sizes, parameters, sample range or `maxRows`.
 * @throws {AbortedError} When `signal` aborts.
 * @example
 * ```ts
 * import { datasetRows } from "./datasets.ts";
 * import assert from "node:assert";
 * let pixels = 0;
 * for await (const m of datasetRows({ samples: 2, height: 5, width: 4, bands: 3 }, { maxRows: 8 })) {
 *   assert(m.cols === 3 && (m.rows === 8 || m.rows === 4));
 *   pixels += m.rows;
 * }
 * assert(pixels === 40);
 * ```
 */
export async function* datasetRows(
  shape: ScaleName | DatasetShape,
  options: SynthDatasetOptions & { maxRows?: number } = {},
): AsyncGenerator<Matrix> {
  const { sizes, first, end } = resolveRange(shape, options);
  const maxRows = checkInteger("maxRows", options.maxRows ?? 65536, 1);
  const { height, width, bands } = sizes;
  const linesPerChunk = Math.max(1, Math.floor(maxRows / width));
  for (let index = first; index < end; index++) {
    const plan = planSample(
      checkSynthOptions({ ...sizes, ...generatorOptions(options), sampleIndex: index }),
    );
    for (let line = 0; line < height; line += linesPerChunk) {
      throwIfAborted(options.signal, "datasetRows()");
      const lines = Math.min(linesPerChunk, height - line);
      const data = new Float32Array(lines * width * bands);
      nextLines(plan, { lineCount: lines, cube: data, labels: new Int32Array(lines * width) });
      yield { data, rows: lines * width, cols: bands };
      await Promise.resolve();
    }
  }
}

function generatorOptions(options: SynthDatasetOptions) {
  return {
    seed: options.seed ?? 0,
    ...(options.anomalyRatio === undefined ? {} : { anomalyRatio: options.anomalyRatio }),
    ...(options.noiseStd === undefined ? {} : { noiseStd: options.noiseStd }),
    ...(options.anomalyMagnitude === undefined
      ? {}
      : { anomalyMagnitude: options.anomalyMagnitude }),
  };
}

function resolveRange(shape: ScaleName | DatasetShape, options: SynthDatasetOptions) {
  let sizes: DatasetShape;
  if (typeof shape === "string") {
    if (!Object.hasOwn(SCALES, shape)) {
      throw new TypeError(
        `unknown scale '${shape}'; use one of ${Object.keys(SCALES).join(", ")} or give ` +
          `{ samples, height, width, bands }`,
      );
    }
    sizes = SCALES[shape];
  } else if (shape !== null && typeof shape === "object") {
    sizes = shape;
  } else {
    throw new TypeError("shape must be a scale name or { samples, height, width, bands }");
  }
  const samples = checkInteger("samples", sizes.samples, 0);
  // Validate the generator parameters once, before the first sample.
  checkSynthOptions({ ...sizes, ...generatorOptions(options) });
  const first = checkInteger("start", options.start ?? 0, 0, samples);
  const count = checkInteger("count", options.count ?? samples - first, 0, samples - first);
  return {
    sizes: { height: sizes.height, width: sizes.width, bands: sizes.bands },
    first,
    end: first + count,
  };
}
