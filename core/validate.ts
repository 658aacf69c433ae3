/**
 * Input checks shared by every operation, so each error is worded once.
 *
 * @module
 */

import type { Cube, Matrix } from "./types.ts";
import { InvalidDataError } from "./errors.ts";

/**
 * Checks that `value` is a whole number in `[min, max]`.
 *
 * @param what The name to use in the message, e.g. `"bands"`.
 * @param value The value to check.
 * @param min Smallest allowed value (default 0).
 * @param max Largest allowed value (default `Number.MAX_SAFE_INTEGER`).
 * @returns The value, for chaining.
 * @throws {TypeError} When it is not a finite integer.
 * @throws {RangeError} When it is outside `[min, max]`.
 * @example
 * ```ts
 * import { checkInteger } from "./validate.ts";
 * import assert from "node:assert";
 * assert(checkInteger("bands", 50, 1) === 50);
 * ```
 */
export function checkInteger(
  what: string,
  value: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${what} must be a whole number, got ${String(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`${what} must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

/**
 * Checks that `m` is a well-formed {@linkcode Matrix}: a `Float32Array` of exactly `rows * cols`.
 *
 * @param m The candidate matrix.
 * @param what The name to use in messages (default `"matrix"`).
 * @returns The same matrix, typed.
 * @throws {TypeError} When the data is not a `Float32Array` or its length does not match.
 * @example
 * ```ts
 * import { checkMatrix } from "./validate.ts";
 * import assert from "node:assert";
 * const m = checkMatrix({ data: new Float32Array(6), rows: 2, cols: 3 });
 * assert(m.cols === 3);
 * ```
 */
export function checkMatrix(m: Matrix, what = "matrix"): Matrix {
  if (m === null || typeof m !== "object") {
    throw new TypeError(`${what} must be an object { data, rows, cols }, got ${String(m)}`);
  }
  if (!(m.data instanceof Float32Array)) {
    throw new TypeError(
      `${what}.data must be a Float32Array, got ${
        describe(m.data)
      }; convert with Float32Array.from()`,
    );
  }
  checkInteger(`${what}.rows`, m.rows);
  checkInteger(`${what}.cols`, m.cols);
  if (m.data.length !== m.rows * m.cols) {
    throw new TypeError(
      `${what}.data has ${m.data.length} values but rows * cols = ${m.rows} * ${m.cols} = ${
        m.rows * m.cols
      }`,
    );
  }
  return m;
}

/**
 * Checks that `c` is a well-formed BIP {@linkcode Cube} and views it as a pixels × bands matrix
 * (no copy).
 *
 * @param c The candidate cube.
 * @param what The name to use in messages (default `"cube"`).
 * @returns The cube as a matrix with `height * width` rows and `bands` columns.
 * @throws {TypeError} When the data is not a `Float32Array` or its length does not match.
 * @example
 * ```ts
 * import { cubeAsMatrix } from "./validate.ts";
 * import assert from "node:assert";
 * const m = cubeAsMatrix({ data: new Float32Array(24), height: 2, width: 3, bands: 4 });
 * assert(m.rows === 6 && m.cols === 4);
 * ```
 */
export function cubeAsMatrix(c: Cube, what = "cube"): Matrix {
  if (c === null || typeof c !== "object") {
    throw new TypeError(`${what} must be an object { data, height, width, bands }`);
  }
  checkInteger(`${what}.height`, c.height);
  checkInteger(`${what}.width`, c.width);
  checkInteger(`${what}.bands`, c.bands);
  return checkMatrix({ data: c.data, rows: c.height * c.width, cols: c.bands }, what);
}

/**
 * Finds the first NaN or infinity in a row-major block.
 *
 * @param data The values.
 * @param cols Values per row.
 * @returns `{ row, col, value }` of the first non-finite value, or `undefined` when all are finite.
 * @example
 * ```ts
 * import { firstNonFinite } from "./validate.ts";
 * import assert from "node:assert";
 * const bad = firstNonFinite(new Float32Array([1, 2, NaN, 4]), 2);
 * assert(bad?.row === 1 && bad?.col === 0);
 * ```
 */
export function firstNonFinite(
  data: Float32Array | Float64Array,
  cols: number,
): { row: number; col: number; value: number } | undefined {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    // v - v is NaN exactly for NaN and ±Infinity, and is cheaper than Number.isFinite in a loop.
    if (v - v !== 0) return { row: Math.floor(i / cols), col: i % cols, value: v };
  }
  return undefined;
}

/**
 * Throws {@linkcode InvalidDataError} naming the first non-finite value, if there is one.
 *
 * @param data The values, row-major.
 * @param cols Values per row.
 * @param rowLabel What a row is called in the message (default `"row"`; `"pixel"` for cubes).
 * @param colLabel What a column is called (default `"column"`; `"band"` for cubes).
 * @param rowOffset Added to the row index, for chunks of a larger stream.
 * @throws {InvalidDataError} With `position` `{ [rowLabel]: r, [colLabel]: c }`.
 * @example
 * ```ts
 * import { assertFinite } from "./validate.ts";
 * assertFinite(new Float32Array([1, 2, 3]), 3);
 * ```
 */
export function assertFinite(
  data: Float32Array | Float64Array,
  cols: number,
  rowLabel = "row",
  colLabel = "column",
  rowOffset = 0,
): void {
  const bad = firstNonFinite(data, cols);
  if (bad === undefined) return;
  const row = bad.row + rowOffset;
  throw new InvalidDataError(
    `${bad.value} at ${rowLabel} ${row}, ${colLabel} ${bad.col}: the data must be finite; ` +
      `clean it or pass { skipInvalid: true } to skip such ${rowLabel}s`,
    { position: { [rowLabel]: row, [colLabel]: bad.col } },
  );
}

/**
 * Throws {@linkcode InvalidDataError} naming the first non-finite value of a parameter array
 * (weights, statistics): unlike data rows there is nothing to skip, so the advice is where such
 * values come from.
 *
 * @param data The values.
 * @param what What they are, e.g. `"conv2d() weights"`.
 * @throws {InvalidDataError} With `position` `{ index }`.
 * @example
 * ```ts
 * import { assertFiniteParameters } from "./validate.ts";
 * import assert from "node:assert";
 * assert.throws(() => assertFiniteParameters(new Float32Array([1, NaN]), "w"), /w hold NaN at index 1/);
 * ```
 */
export function assertFiniteParameters(data: Float32Array | Float64Array, what: string): void {
  const bad = firstNonFinite(data, Math.max(1, data.length));
  if (bad === undefined) return;
  throw new InvalidDataError(
    `${what} hold ${bad.value} at index ${bad.col}: parameters must be finite; NaN or infinity ` +
      `comes from a diverged training step (lower the learning rate), a damaged weights file, or ` +
      `batch-norm statistics with a negative variance`,
    { position: { index: bad.col } },
  );
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  return (v as object).constructor?.name ?? typeof v;
}
