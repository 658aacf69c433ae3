/**
 * A seeded synthetic classification task for training and tracking small networks.
 *
 * @module
 */

import { checkInteger } from "../core/validate.ts";
import { Rng } from "./rng.ts";

/** Options of {@linkcode SyntheticClassification}. */
export interface SyntheticClassificationOptions {
  /** Input features (default 784, an MNIST-sized input). */
  features?: number;
  /** Classes (default 10). */
  classes?: number;
  /** Samples in the fixed training set (default 4096). */
  samples?: number;
  /** Distance of each class centre from the origin (default 4). */
  separation?: number;
  /** Standard deviation of the per-feature noise around a centre (default 1). */
  noise?: number;
  /** Dimension of the subspace the centres span (default 16, at most `features`). */
  latentDims?: number;
  /** Seed, a whole number in `[0, 2^53)`; equal seeds give identical data (default 0). */
  seed?: number;
}

/** Where {@linkcode SyntheticClassification.batch} writes one batch. */
export interface BatchTarget {
  /** Receives `batch x features` inputs, row-major. */
  readonly x: Float32Array;
  /** Receives the `batch` labels; its length is the batch size. */
  readonly labels: Int32Array;
}

/**
 * Gaussian blobs: `classes` centres placed at distance `separation` from the origin inside a
 * random `latentDims`-dimensional subspace of the `features`-dimensional input, and `samples`
 * points each drawn as `centre[label] + noise · N(0, I)` with a uniform random label.
 *
 * With the defaults two centres are about `4·√2 ≈ 5.7` noise deviations apart along the line
 * joining them, so the classes are learnable but overlap a little: a 784-256-128-10 MLP with
 * Adam takes its loss from `ln 10 ≈ 2.3` to well under 1 within a few hundred steps of batch 64.
 * The signal lives in a 16-dimensional subspace, which gives a tracker's stable rank something
 * to find.
 *
 * Everything is drawn from one seeded stream in a fixed order, so a seed fixes the data on
 * every machine.
 *
 * @example
 * ```ts
 * import { SyntheticClassification } from "./classification.ts";
 * import assert from "node:assert";
 * const task = new SyntheticClassification({ samples: 100, features: 20, seed: 1 });
 * const x = new Float32Array(8 * 20), y = new Int32Array(8);
 * task.batch(0, { x, labels: y });
 * assert(y.every((label) => label >= 0 && label < 10));
 * ```
 */
export class SyntheticClassification {
  /** Input features. */
  readonly features: number;
  /** Number of classes. */
  readonly classes: number;
  /** Samples in the set. */
  readonly samples: number;
  /** The inputs, `samples x features`, row-major. */
  readonly x: Float32Array;
  /** The label of each sample. */
  readonly labels: Int32Array;

  /**
   * Draws the data set.
   *
   * @param options Sizes, separation, noise and seed.
   * @throws {TypeError} When a size or the seed is not a whole number.
   * @throws {RangeError} When a size is below 1 (classes below 2), `separation` / `noise` is
   *   negative or not finite, or the seed is negative or not a safe integer.
   */
  constructor(options: SyntheticClassificationOptions = {}) {
    const features = checkInteger("features", options.features ?? 784, 1);
    const classes = checkInteger("classes", options.classes ?? 10, 2);
    const samples = checkInteger("samples", options.samples ?? 4096, 1);
    const latent = checkInteger("latentDims", options.latentDims ?? 16, 1, features);
    const separation = options.separation ?? 4;
    const noise = options.noise ?? 1;
    for (const [name, v] of [["separation", separation], ["noise", noise]] as const) {
      if (!(v >= 0 && Number.isFinite(v))) {
        throw new RangeError(`${name} must be a finite number >= 0, got ${v}`);
      }
    }
    this.features = features;
    this.classes = classes;
    this.samples = samples;
    const rng = new Rng(options.seed ?? 0);
    // A random latent subspace: `latent` Gaussian directions (nearly orthogonal in high
    // dimensions, exactly orthogonal is not needed).
    const basis = new Float64Array(latent * features);
    for (let i = 0; i < basis.length; i++) basis[i] = rng.normal() / Math.sqrt(features);
    const centres = new Float64Array(classes * features);
    for (let c = 0; c < classes; c++) {
      const coef = new Float64Array(latent);
      let norm = 0;
      for (let l = 0; l < latent; l++) norm += (coef[l] = rng.normal()) ** 2;
      const scale = separation / Math.sqrt(norm);
      for (let l = 0; l < latent; l++) {
        for (let f = 0; f < features; f++) {
          centres[c * features + f] += scale * coef[l] * basis[l * features + f];
        }
      }
    }
    this.x = new Float32Array(samples * features);
    this.labels = new Int32Array(samples);
    for (let s = 0; s < samples; s++) {
      const label = rng.int(0, classes - 1);
      this.labels[s] = label;
      for (let f = 0; f < features; f++) {
        this.x[s * features + f] = centres[label * features + f] + noise * rng.normal();
      }
    }
  }

  /**
   * Copies the batch of training step `step` into `into.x` and `into.labels`: rows
   * `step · batch … step · batch + batch − 1` of the set, wrapping around (the set is already in
   * random order, so consecutive batches are independent draws). The batch size is
   * `labels.length`.
   *
   * @param step The training step (0-based).
   * @param into `x` receives `batch x features` inputs, `labels` the `batch` labels.
   * @throws {TypeError} When `x` does not hold `labels.length * features` values, or `step` is
   *   not a whole number.
   * @throws {RangeError} When `step` is negative.
   */
  batch(step: number, into: BatchTarget): void {
    checkInteger("step", step, 0);
    const { x, labels } = into;
    const n = labels.length;
    if (x.length !== n * this.features) {
      throw new TypeError(
        `x has ${x.length} values, need labels.length * features = ${n * this.features}`,
      );
    }
    let row = (step * n) % this.samples;
    for (let i = 0; i < n; i++) {
      x.set(this.x.subarray(row * this.features, (row + 1) * this.features), i * this.features);
      labels[i] = this.labels[row];
      row = row + 1 === this.samples ? 0 : row + 1;
    }
  }
}
