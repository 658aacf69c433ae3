/**
 * The work the stress suite times on each sample: §1's pipeline, min-max normalise the cube, fit
 * global RX statistics in one streaming pass, score every pixel (squared Mahalanobis distance).
 *
 * @module
 */

import type { Backend, Cube } from "../core/types.ts";
import { RxDetector } from "../ops/rx.ts";

/** Where and how the pipeline runs. */
export interface PipelineOptions {
  /** The backend of the fit and the scoring (default `"auto"`). */
  readonly backend?: Backend;
  /** Stops the work between chunks. */
  readonly signal?: AbortSignal;
  /** Fit the background robustly (see `RxDetector.fit`), for the detection table. */
  readonly robust?: boolean;
}

/**
 * Min-max normalises a cube in place over all its values, to [0, 1] (a constant cube becomes 0),
 * as the reference pipeline does before fitting.
 *
 * @param data The values, changed in place.
 * @returns `data`.
 * @throws Never; NaN values stay NaN (the fit then names the pixel).
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { normaliseMinMax } from "./stress_pipeline.ts";
 * assert.deepStrictEqual([...normaliseMinMax(new Float32Array([2, 4, 6]))], [0, 0.5, 1]);
 * ```
 */
export function normaliseMinMax(data: Float32Array): Float32Array {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo;
  const scale = span > 0 ? 1 / span : 0;
  for (let i = 0; i < data.length; i++) data[i] = (data[i] - lo) * scale;
  return data;
}

/**
 * Runs the pipeline on one cube: normalise (in place), fit, score.
 *
 * @param cube The sample; its values are normalised in place.
 * @param options Backend, stop signal, robust fit.
 * @returns The RX score of every pixel, row-major H×W.
 * @throws {RangeError} When the cube has no more pixels than bands (RX needs more).
 * @throws {AbortedError} When `signal` aborts.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { rxPipeline } from "./stress_pipeline.ts";
 * import { synthCube } from "../synth/cube.ts";
 * const { cube } = synthCube({ height: 8, width: 8, bands: 3, seed: 1 });
 * const scores = await rxPipeline(cube, { backend: "wasm" });
 * assert(scores.length === 64 && scores.every((s) => s >= 0));
 * ```
 */
export async function rxPipeline(cube: Cube, options: PipelineOptions = {}): Promise<Float32Array> {
  normaliseMinMax(cube.data);
  const { backend, signal } = options;
  const rx = await new RxDetector().fit(cube, { backend, signal, robust: options.robust });
  return await rx.score(cube, { backend, signal });
}
