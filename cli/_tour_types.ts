/**
 * The shapes the tour's steps share (`./_tour_steps.ts`, `./_tour_conv.ts`): what a step gets,
 * and the lines it returns.
 *
 * @module
 */

import type { GpuAvailable } from "../gpu/types.ts";

/** What every step gets. */
export interface TourContext {
  /** The folder results go to (it exists). */
  readonly outDir: string;
  /** The GPU, when there is one and it is not skipped. */
  readonly gpu?: GpuAvailable;
  /** The backends to run each operation on. */
  readonly backends: readonly ("wasm" | "webgpu")[];
}

/** One printed line of the tour. */
export interface TourLine {
  readonly title: string;
  readonly backend?: string;
  readonly ms?: number;
  readonly detail: string;
  readonly files?: readonly string[];
}

/** A step: runs one operation and returns its lines. */
export type TourStep = (ctx: TourContext) => Promise<TourLine[]>;
