/**
 * Seeded uniform numbers for tests and benchmarks: arrays and matrices drawn from
 * {@linkcode Rng}, so a failing case or a benchmark input reproduces on every machine.
 *
 * @module
 */

import type { Matrix } from "../core/types.ts";
import { Rng } from "./rng.ts";

/** The interval `[lo, hi)` of the numbers drawn; default `[-1, 1)`. */
export interface UniformRange {
  /** Smallest value (default -1). */
  lo?: number;
  /** Bound above every value (default 1). */
  hi?: number;
}

/** Options of {@linkcode randomMatrix}: the seed and the interval. */
export interface RandomMatrixOptions extends UniformRange {
  /** A whole number in `[0, 2^53)`; equal seeds give equal matrices. */
  seed: number;
}

/**
 * A seeded stream of uniform numbers in `[lo, hi)`.
 *
 * @param seed A whole number in `[0, 2^53)`; equal seeds give equal streams.
 * @param range `lo` (default -1) and `hi` (default 1).
 * @returns The next number, each call.
 * @throws {TypeError} When `seed` is not a whole number.
 * @throws {RangeError} When `seed` is negative or not a safe integer.
 * @example
 * ```ts
 * import { uniform } from "./uniform.ts";
 * import assert from "node:assert";
 * const next = uniform(7, { lo: 2, hi: 3 });
 * const x = next();
 * assert(x >= 2 && x < 3 && uniform(7, { lo: 2, hi: 3 })() === x);
 * ```
 */
export function uniform(seed: number, range: UniformRange = {}): () => number {
  const { lo = -1, hi = 1 } = range;
  const rng = new Rng(seed);
  return () => lo + (hi - lo) * rng.uniform();
}

/**
 * Fills `target` in place with seeded uniform numbers in `[lo, hi)`, e.g. a view into wasm
 * memory, so large inputs need no second copy.
 *
 * @param target The array to fill.
 * @param seed A whole number in `[0, 2^53)`.
 * @param range `lo` (default -1) and `hi` (default 1).
 * @returns `target`.
 * @throws {TypeError} When `seed` is not a whole number.
 * @throws {RangeError} When `seed` is negative or not a safe integer.
 * @example
 * ```ts
 * import { fillUniform } from "./uniform.ts";
 * import assert from "node:assert";
 * const a = fillUniform(new Float64Array(4), 1, { lo: 0 });
 * assert(a.every((x) => x >= 0 && x < 1));
 * ```
 */
export function fillUniform<T extends Float32Array | Float64Array>(
  target: T,
  seed: number,
  range: UniformRange = {},
): T {
  const next = uniform(seed, range);
  for (let i = 0; i < target.length; i++) target[i] = next();
  return target;
}

/**
 * `n` seeded uniform float32 numbers in `[lo, hi)`.
 *
 * @param n How many.
 * @param seed A whole number in `[0, 2^53)`.
 * @param range `lo` (default -1) and `hi` (default 1).
 * @returns The numbers.
 * @throws {TypeError} When `seed` is not a whole number.
 * @throws {RangeError} When `n` or `seed` is negative.
 * @example
 * ```ts
 * import { randomF32 } from "./uniform.ts";
 * import assert from "node:assert";
 * assert(randomF32(3, 1).length === 3);
 * ```
 */
export function randomF32(
  n: number,
  seed: number,
  range: UniformRange = {},
): Float32Array<ArrayBuffer> {
  return fillUniform(new Float32Array(n), seed, range);
}

/**
 * `n` seeded uniform float64 numbers in `[lo, hi)`.
 *
 * @param n How many.
 * @param seed A whole number in `[0, 2^53)`.
 * @param range `lo` (default -1) and `hi` (default 1).
 * @returns The numbers.
 * @throws {TypeError} When `seed` is not a whole number.
 * @throws {RangeError} When `n` or `seed` is negative.
 * @example
 * ```ts
 * import { randomF64 } from "./uniform.ts";
 * import assert from "node:assert";
 * assert(randomF64(2, 5, { lo: 10, hi: 11 }).every((x) => x >= 10 && x < 11));
 * ```
 */
export function randomF64(
  n: number,
  seed: number,
  range: UniformRange = {},
): Float64Array<ArrayBuffer> {
  return fillUniform(new Float64Array(n), seed, range);
}

/**
 * A seeded `rows x cols` matrix of uniform numbers in `[lo, hi)`.
 *
 * @param rows Rows.
 * @param cols Columns.
 * @param options `seed` (required), `lo` (default -1), `hi` (default 1).
 * @returns The matrix.
 * @throws {TypeError} When `seed` is not a whole number.
 * @throws {RangeError} When a size or `seed` is negative.
 * @example
 * ```ts
 * import { randomMatrix } from "./uniform.ts";
 * import assert from "node:assert";
 * const m = randomMatrix(2, 3, { seed: 1 });
 * assert(m.rows === 2 && m.cols === 3 && m.data.length === 6);
 * ```
 */
export function randomMatrix(rows: number, cols: number, options: RandomMatrixOptions): Matrix {
  const { seed, ...range } = options;
  return { data: randomF32(rows * cols, seed, range), rows, cols };
}
