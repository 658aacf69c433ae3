/**
 * The row the tracker records per layer and measured step, the names of its columns, and the
 * layers and run an export holds (shared by `export.ts` and its format files).
 *
 * @module
 */

/**
 * One measurement of one layer: the reference tracker's row plus four more spectrum metrics.
 * Every value but the integers is float32-rounded (the tracker stores float32).
 */
export interface TrackRow {
  /** The training step (an integer in `0 .. 2³² − 1`). */
  readonly step: number;
  /** The training loss passed to `observe`, or `null` when none was. */
  readonly loss: number | null;
  /** The gradient norm passed to `observe`, or `null` when none was. */
  readonly grad_norm: number | null;
  /** `Σs² / (s₁² + eps)`. */
  readonly stable_rank: number;
  /** `1 / (Σ(s / (Σs + eps))² + eps)`. */
  readonly participation_ratio: number;
  /** Smallest `k` with `Σ_{i≤k} s_i² ≥ 0.9 Σs²`. */
  readonly cumulative_90: number;
  /** `Σs / (s₁ + eps)`. */
  readonly nuclear_norm_ratio: number;
  /** `−Σ p log p`, `p = s / Σs`. */
  readonly spectral_entropy: number;
  /** `exp(spectral_entropy)` (derived, not stored). */
  readonly effective_rank: number;
  /** `s₁ / (s_min + eps)` (saturated at float32's largest value, 3.4028235e38). */
  readonly condition_number: number;
  /** Count of singular values above numpy's `matrix_rank` tolerance. */
  readonly numerical_rank: number;
}

/** A row together with the layer it belongs to. */
export interface LayerRow extends TrackRow {
  /** The layer name given to `observe`. */
  readonly layer: string;
}

/** The columns of a {@linkcode TrackRow}, in file order. */
export const TRACK_COLUMNS = [
  "step",
  "loss",
  "grad_norm",
  "stable_rank",
  "participation_ratio",
  "cumulative_90",
  "nuclear_norm_ratio",
  "spectral_entropy",
  "effective_rank",
  "condition_number",
  "numerical_rank",
] as const;

/** The name of a column of a {@linkcode TrackRow}. */
export type TrackColumn = typeof TRACK_COLUMNS[number];

/** The spectrum metrics a jump search can run on (every column but step, loss and grad_norm). */
export const JUMP_METRICS = [
  "stable_rank",
  "participation_ratio",
  "cumulative_90",
  "nuclear_norm_ratio",
  "spectral_entropy",
  "effective_rank",
  "condition_number",
  "numerical_rank",
] as const;

/** A metric {@linkcode JUMP_METRICS} lists. */
export type JumpMetric = typeof JUMP_METRICS[number];

/** One layer's rows. */
export interface TrackLayer {
  /** The layer name. */
  readonly name: string;
  /** Its rows in step order. */
  readonly rows: readonly TrackRow[];
}

/** What an export holds. */
export interface TrackData {
  /** The tracker's sampling frequency (HDF5 only; `undefined` when read from CSV/JSON). */
  readonly samplingFrequency: number | undefined;
  /** Run metadata (HDF5 only; `undefined` when read from CSV/JSON). */
  readonly metadata: Readonly<Record<string, string | number>> | undefined;
  /** The layers with at least one row, in first-seen order. */
  readonly layers: readonly TrackLayer[];
}
