/**
 * The row the tracker records per layer and measured step, the names of its columns, and the
 * layers and run an export holds (shared by `export.ts` and its format files).
 *
 * @module
 */

import type { SpectrumMetrics } from "../ops/spectrum_metrics.ts";

/** The spectrum metrics a tracker row carries (see `SpectrumMetrics` for each formula). */
export type TrackedMetrics = Pick<
  SpectrumMetrics,
  | "stable_rank"
  | "participation_ratio"
  | "cumulative_90"
  | "nuclear_norm_ratio"
  | "spectral_entropy"
  | "effective_rank"
  | "condition_number"
  | "numerical_rank"
>;

/**
 * One measurement of one layer: the reference tracker's row plus four more spectrum metrics.
 * Every value but the integers is float32-rounded (the tracker stores float32; a condition
 * number beyond float32 saturates at 3.4028235e38); `effective_rank` is derived from the stored
 * entropy, not stored.
 */
export interface TrackRow extends TrackedMetrics {
  /** The training step (an integer in `0 .. 2³² − 1`). */
  readonly step: number;
  /** The training loss passed to `observe`, or `null` when none was. */
  readonly loss: number | null;
  /** The gradient norm passed to `observe`, or `null` when none was. */
  readonly grad_norm: number | null;
}

/** A row together with the layer it belongs to. */
export interface LayerRow extends TrackRow {
  /** The layer name given to `observe`. */
  readonly layer: string;
}

/**
 * Every column of a {@linkcode TrackRow}, in file order, with how the tracker keeps it: `u32` or
 * `f32` storage (`"derived"`: computed from another column when read, never stored), whether it
 * may be missing (loss and gradient norm are optional), and whether jump detection can run on it.
 * The one list the CSV, JSON, HDF5 layouts, the in-memory store and the jump search derive theirs
 * from.
 */
export const COLUMN_SPECS = [
  { name: "step", storage: "u32", nullable: false, metric: false },
  { name: "loss", storage: "f32", nullable: true, metric: false },
  { name: "grad_norm", storage: "f32", nullable: true, metric: false },
  { name: "stable_rank", storage: "f32", nullable: false, metric: true },
  { name: "participation_ratio", storage: "f32", nullable: false, metric: true },
  { name: "cumulative_90", storage: "u32", nullable: false, metric: true },
  { name: "nuclear_norm_ratio", storage: "f32", nullable: false, metric: true },
  { name: "spectral_entropy", storage: "f32", nullable: false, metric: true },
  // exp(spectral_entropy): recomputed from the stored entropy, so it costs no storage.
  { name: "effective_rank", storage: "derived", nullable: false, metric: true },
  { name: "condition_number", storage: "f32", nullable: false, metric: true },
  { name: "numerical_rank", storage: "u32", nullable: false, metric: true },
] as const;

type ColumnSpec = typeof COLUMN_SPECS[number];

/** The name of a column of a {@linkcode TrackRow}. */
export type TrackColumn = ColumnSpec["name"];

/** The columns of a {@linkcode TrackRow}, in file order. */
export const TRACK_COLUMNS: readonly TrackColumn[] = COLUMN_SPECS.map((c) => c.name);

/** The spectrum metrics a jump search can run on (every column but step, loss and grad_norm). */
export const JUMP_METRICS: readonly (keyof TrackedMetrics)[] = COLUMN_SPECS
  .filter((c): c is Extract<ColumnSpec, { metric: true }> => c.metric).map((c) => c.name);

/**
 * The stored columns of one storage kind, in file order.
 *
 * @param storage `"u32"` or `"f32"`.
 * @returns Their names.
 */
export function columnsStoredAs(storage: "u32" | "f32"): readonly TrackColumn[] {
  return COLUMN_SPECS.filter((c) => c.storage === storage).map((c) => c.name);
}

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
