/**
 * The shapes the tour's steps share (`./_tour_steps.ts`, `./_tour_conv.ts`): what a step gets,
 * and the rows it returns.
 *
 * @module
 */

import type { GpuAvailable } from "../gpu/types.ts";

/** What every step gets. */
export interface TourContext {
  /** The run's folder, where results go (it exists). */
  readonly outDir: string;
  /** The GPU, when there is one and it is not skipped. */
  readonly gpu?: GpuAvailable;
  /** The backends to run each operation on. */
  readonly backends: readonly ("wasm" | "webgpu")[];
}

/** One row of the tour's table. */
export interface TourLine {
  /** The operation and its problem size. */
  readonly title: string;
  readonly backend?: string;
  /** Milliseconds of the timed work. */
  readonly ms?: number;
  /** What the result says (a score, a rank, a loss). */
  readonly detail: string;
  readonly files?: readonly string[];
  /** The work done in `ms`, for the throughput column: `amount` `unit`s (`px`, `FLOP`, ...). */
  readonly work?: { readonly amount: number; readonly unit: string };
  /** The process's peak resident bytes during the timed work (absent where unknown). */
  readonly peakRssBytes?: number;
  /**
   * The numeric result, for the agreement column: the tour compares it with the first backend's
   * result of the same title.
   */
  readonly result?: Float32Array | Float64Array;
}

/** A step: runs one operation and returns its rows. */
export type TourStep = (ctx: TourContext) => Promise<TourLine[]>;
