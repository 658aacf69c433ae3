/**
 * Jump detection: flags the points of a metric series that sit far outside their recent past.
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";
import { checkInteger } from "../core/validate.ts";

/** Options of {@linkcode detectJumps}. */
export interface JumpOptions {
  /** How many previous values form the reference window (default 50). */
  window?: number;
  /** A point is a jump when `|z| > threshold` (default 3). */
  threshold?: number;
  /** The first index tested (default 20); earlier points only feed the window. */
  minSamples?: number;
}

/** One flagged point of a series. */
export interface Jump {
  /** Its index in the series. */
  readonly index: number;
  /** Its value. */
  readonly value: number;
  /** Mean of the window before it. */
  readonly mean: number;
  /** Population standard deviation of the window before it. */
  readonly std: number;
  /** `(value − mean) / std`; its sign says the direction of the jump. */
  readonly z: number;
}

/** Windows whose spread is below this are skipped: a flat series has no meaningful z-score. */
export const MIN_JUMP_STD = 1e-10;

/**
 * Finds the jumps of a series, the reference tracker's rule: for every `i ≥ minSamples`, take
 * the previous up to `window` values `x[max(0, i − window) .. i − 1]` (the current one
 * excluded), their mean `m` and population standard deviation `σ` (divided by the count, not
 * count − 1); skip `i` when `σ < 1e-10`; flag it when `|x_i − m| / σ > threshold`.
 *
 * @param values The series, finite numbers.
 * @param options `window` (default 50), `threshold` (default 3), `minSamples` (default 20).
 * @returns The flagged points in index order.
 * @throws {RangeError} When `window` or `minSamples` is not an integer `≥ 1`, or `threshold` is
 *   not a finite number `≥ 0`.
 * @throws {InvalidDataError} When a value is NaN or infinite (`position.index` names it).
 * @example
 * ```ts
 * import { detectJumps } from "./jumps.ts";
 * import assert from "node:assert";
 * const series = Array.from({ length: 40 }, (_, i) => (i < 30 ? 1 + 0.01 * (i % 2) : 5));
 * const jumps = detectJumps(series);
 * assert(jumps[0].index === 30 && jumps[0].z > 3);
 * ```
 */
export function detectJumps(values: ArrayLike<number>, options: JumpOptions = {}): Jump[] {
  const { window, threshold, minSamples } = resolveJumpOptions(options);
  if (values === null || typeof values !== "object" || typeof values.length !== "number") {
    throw new TypeError(`values must be an array of numbers, got ${String(values)}`);
  }
  const n = values.length;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== "number" || v - v !== 0) {
      throw new InvalidDataError(
        `value ${i} of the series is ${String(v)}: jump detection needs finite numbers`,
        { position: { index: i } },
      );
    }
  }
  const jumps: Jump[] = [];
  for (let i = minSamples; i < n; i++) {
    const start = Math.max(0, i - window);
    const count = i - start;
    let mean = 0;
    for (let j = start; j < i; j++) mean += values[j];
    mean /= count;
    // Two passes: the one-pass Σx² − n·m² formula cancels badly for large, flat values.
    let ss = 0;
    for (let j = start; j < i; j++) {
      const d = values[j] - mean;
      ss += d * d;
    }
    const std = Math.sqrt(ss / count);
    if (std < MIN_JUMP_STD) continue;
    const z = (values[i] - mean) / std;
    if (Math.abs(z) > threshold) jumps.push({ index: i, value: values[i], mean, std, z });
  }
  return jumps;
}

/**
 * Fills in and checks jump options.
 *
 * @param options The options as given.
 * @returns Every option with its default applied.
 * @throws {RangeError} When an option is out of range.
 * @throws {TypeError} When `window` or `minSamples` is not a whole number.
 * @example
 * ```ts
 * import { resolveJumpOptions } from "./jumps.ts";
 * import assert from "node:assert";
 * assert(resolveJumpOptions({}).window === 50);
 * ```
 */
export function resolveJumpOptions(options: JumpOptions): Required<JumpOptions> {
  const { window = 50, threshold = 3, minSamples = 20 } = options ?? {};
  checkInteger("jump window", window, 1);
  checkInteger("jump minSamples", minSamples, 1);
  if (typeof threshold !== "number" || !(threshold >= 0) || threshold === Infinity) {
    throw new RangeError(`jump threshold must be a finite number >= 0, got ${String(threshold)}`);
  }
  return { window, threshold, minSamples };
}
