/**
 * The option and result types of the dimensionality tracker (`./tracker.ts`).
 *
 * @module
 */

import type { Matrix, Tensor } from "../core/types.ts";
import type { JumpOptions } from "./jumps.ts";
import type { JumpMetric } from "./row.ts";

/** Computes the singular values of a matrix, largest first. */
export type MeasureFunction = (matrix: Matrix) => Promise<Float64Array>;

/** Options of {@linkcode DimensionalityTracker}. */
export interface TrackerOptions {
  /** Measure the steps with `step % samplingFrequency === 0` (default 1: every step). */
  samplingFrequency?: number;
  /** Jump detection settings used by `jumps()`; `metric` defaults to `"stable_rank"`. */
  jump?: JumpOptions & { metric?: JumpMetric };
  /**
   * The singular-value solver (default: `singularValues` from `ops/spectrum.ts`, the Gram route
   * with backend `"auto"`).
   */
  measure?: MeasureFunction;
  /** Run metadata (model, seed, …), written to HDF5 exports as attributes. */
  metadata?: Record<string, string | number>;
}

/** Extra per-step values recorded with a measurement. */
export interface ObserveExtras {
  /** The training loss at this step; must be finite. */
  loss?: number;
  /** The gradient norm at this step; must be finite. */
  gradNorm?: number;
}

/** What {@linkcode DimensionalityTracker.observe} records for one layer at one step. */
export interface Observation extends ObserveExtras {
  /** The layer's name (any non-empty string). */
  layer: string;
  /**
   * A batch × features matrix, or a tensor `[rows, cols]`, `[N, H, W, C]` or `[B, T, D]`. Do
   * not change its data until `observe`'s promise settles.
   */
  activations: Matrix | Tensor;
}

/** A flagged point of a layer's metric series. */
export interface TrackJump {
  /** The layer. */
  readonly layer: string;
  /** The metric searched. */
  readonly metric: JumpMetric;
  /** The training step of the flagged measurement. */
  readonly step: number;
  /** Its index in the layer's series of measurements. */
  readonly index: number;
  /** The metric's value there. */
  readonly value: number;
  /** Mean of the window before it. */
  readonly mean: number;
  /** Population standard deviation of that window. */
  readonly std: number;
  /** `(value − mean) / std`. */
  readonly z: number;
}
