/**
 * Counters of what the convolution hosts record: passes by f16 storage (native or packed), and
 * the pieces passes were split into. Kept beside each context in a `WeakMap`, so the context's
 * own run counters (`GpuRunStats`) stay as they are.
 *
 * @module
 */

import type { GpuContext } from "./context.ts";
import type { PassSetup } from "./_conv_runs.ts";

/**
 * What the convolution hosts have recorded on a context since the last `reset()`: passes by f16
 * storage, and the pieces passes were split into. Kept beside the context (see
 * {@linkcode convStats}), so the context's own run counters stay as they are.
 *
 * @example
 * ```ts
 * import { ConvRunStats } from "./_conv_stats.ts";
 * import assert from "node:assert";
 * const stats = new ConvRunStats();
 * stats.pieces += 3;
 * stats.reset();
 * assert(stats.pieces === 0 && stats.f16Native === 0 && stats.f16Packed === 0);
 * ```
 */
export class ConvRunStats {
  /** Passes recorded in f16 with native `f16` shaders (`shader-f16`). */
  f16Native = 0;
  /** Passes recorded in f16 on packed `u32` words. */
  f16Packed = 0;
  /** Pieces the passes were recorded in: one per pass unless split to fit the limits. */
  pieces = 0;

  /** Sets every count to zero. */
  reset(): void {
    this.f16Native = 0;
    this.f16Packed = 0;
    this.pieces = 0;
  }
}

const STATS = new WeakMap<object, ConvRunStats>();

/**
 * The convolution counters of a context (made on first use).
 *
 * @param gpu The context.
 * @returns Its {@linkcode ConvRunStats}.
 * @example
 * ```ts
 * import { convStats } from "./_conv_stats.ts";
 * import assert from "node:assert";
 * const gpu = {};
 * // deno-lint-ignore no-explicit-any
 * assert(convStats(gpu as any) === convStats(gpu as any));
 * ```
 */
export function convStats(gpu: GpuContext): ConvRunStats {
  let stats = STATS.get(gpu);
  if (stats === undefined) {
    stats = new ConvRunStats();
    STATS.set(gpu, stats);
  }
  return stats;
}

/**
 * Counts a recorded pass: its pieces, and its f16 storage.
 *
 * @param gpu The context.
 * @param setup The pass.
 * @param pieces Its pieces (0 for an empty batch: not counted).
 * @example
 * ```ts
 * import { convStats, countPass } from "./_conv_stats.ts";
 * import assert from "node:assert";
 * const gpu = {};
 * // deno-lint-ignore no-explicit-any
 * countPass(gpu as any, { mode: "forward", precision: "f16", f16: "native" }, 2);
 * // deno-lint-ignore no-explicit-any
 * assert(convStats(gpu as any).f16Native === 1 && convStats(gpu as any).pieces === 2);
 * ```
 */
export function countPass(gpu: GpuContext, setup: PassSetup, pieces: number): void {
  const stats = convStats(gpu);
  stats.pieces += pieces;
  if (setup.precision !== "f16" || pieces === 0) return;
  if (setup.f16 === "native") stats.f16Native++;
  else stats.f16Packed++;
}
