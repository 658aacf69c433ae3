/**
 * Views layer activations as the batch × features matrix whose singular values the tracker
 * measures. Every view shares the input's `Float32Array`: nothing is copied.
 *
 * @module
 */

import type { Matrix, Tensor } from "../core/types.ts";
import { checkInteger, checkMatrix } from "../core/validate.ts";

/** A matrix view of activations plus the per-sample feature shape it came from. */
export interface FlatActivations {
  /** The activations as a row-major matrix, sharing the input's data. */
  readonly matrix: Matrix;
  /**
   * The shape of one row before flattening: `[cols]` for a matrix, `[H, W, C]` for NHWC
   * conv output, `[D]` for a sequence. The tracker compares it between steps.
   */
  readonly featureShape: readonly number[];
}

const EXPECTED =
  "expected a Matrix { data, rows, cols }, or a Tensor { data, shape } of shape [rows, cols], " +
  "[N, H, W, C] (NHWC conv output) or [B, T, D] (sequence)";

/**
 * Views a NHWC conv output `[N, H, W, C]` as an `N × (H·W·C)` matrix (no copy).
 *
 * @param t The tensor, shape `[N, H, W, C]`.
 * @returns The `N × (H·W·C)` matrix view.
 * @throws {TypeError} When `t` is not a rank-4 tensor whose data length matches its shape.
 * @example
 * ```ts
 * import { convAsMatrix } from "./flatten.ts";
 * import assert from "node:assert";
 * const m = convAsMatrix({ data: new Float32Array(2 * 3 * 4 * 5), shape: [2, 3, 4, 5] });
 * assert(m.rows === 2 && m.cols === 60);
 * ```
 */
export function convAsMatrix(t: Tensor): Matrix {
  const [n, h, w, c] = tensorShape(t, 4, "[N, H, W, C] (NHWC conv output)");
  return checkMatrix({ data: t.data, rows: n, cols: h * w * c }, "conv activations");
}

/**
 * Views a sequence tensor `[B, T, D]` as a `(B·T) × D` matrix (no copy): every time step of
 * every sequence is one sample.
 *
 * @param t The tensor, shape `[B, T, D]`.
 * @returns The `(B·T) × D` matrix view.
 * @throws {TypeError} When `t` is not a rank-3 tensor whose data length matches its shape.
 * @example
 * ```ts
 * import { sequenceAsMatrix } from "./flatten.ts";
 * import assert from "node:assert";
 * const m = sequenceAsMatrix({ data: new Float32Array(2 * 7 * 16), shape: [2, 7, 16] });
 * assert(m.rows === 14 && m.cols === 16);
 * ```
 */
export function sequenceAsMatrix(t: Tensor): Matrix {
  const [b, steps, d] = tensorShape(t, 3, "[B, T, D] (sequence)");
  return checkMatrix({ data: t.data, rows: b * steps, cols: d }, "sequence activations");
}

/**
 * Views any supported activations as a batch × features matrix (no copy): a {@linkcode Matrix}
 * or rank-2 tensor as is, `[N, H, W, C]` as `N × (H·W·C)`, `[B, T, D]` as `(B·T) × D`.
 *
 * @param activations A matrix, or a tensor of rank 2, 3 or 4.
 * @returns The matrix view and the per-row feature shape.
 * @throws {TypeError} When it is neither a matrix nor a tensor of a supported rank, or its data
 *   is not a `Float32Array` of the right length; the message names the accepted shapes.
 * @example
 * ```ts
 * import { flattenActivations } from "./flatten.ts";
 * import assert from "node:assert";
 * const { matrix, featureShape } = flattenActivations({
 *   data: new Float32Array(4 * 2 * 2 * 3),
 *   shape: [4, 2, 2, 3],
 * });
 * assert(matrix.rows === 4 && matrix.cols === 12);
 * assert(featureShape.join("x") === "2x2x3");
 * ```
 */
export function flattenActivations(activations: Matrix | Tensor): FlatActivations {
  if (activations === null || typeof activations !== "object") {
    throw new TypeError(`activations: ${EXPECTED}; got ${String(activations)}`);
  }
  if ("shape" in activations && activations.shape !== undefined) {
    const rank = Array.isArray(activations.shape) ? activations.shape.length : -1;
    if (rank === 2) {
      const [rows, cols] = tensorShape(activations, 2, "[rows, cols]");
      return {
        matrix: checkMatrix({ data: activations.data, rows, cols }, "activations"),
        featureShape: [cols],
      };
    }
    if (rank === 3) {
      return { matrix: sequenceAsMatrix(activations), featureShape: [activations.shape[2]] };
    }
    if (rank === 4) {
      return { matrix: convAsMatrix(activations), featureShape: activations.shape.slice(1) };
    }
    throw new TypeError(
      `activations: ${EXPECTED}; got a tensor of shape [${String(activations.shape)}]`,
    );
  }
  if ("rows" in activations && "cols" in activations) {
    const matrix = checkMatrix(activations, "activations");
    return { matrix, featureShape: [matrix.cols] };
  }
  throw new TypeError(`activations: ${EXPECTED}; got an object with neither shape nor rows/cols`);
}

function tensorShape(t: Tensor, rank: number, expected: string): number[] {
  if (t === null || typeof t !== "object" || !Array.isArray(t.shape)) {
    throw new TypeError(`expected a Tensor { data, shape } of shape ${expected}`);
  }
  if (t.shape.length !== rank) {
    throw new TypeError(
      `expected a tensor of shape ${expected}, got rank ${t.shape.length} shape [${t.shape}]`,
    );
  }
  return t.shape.map((d, i) => checkInteger(`shape[${i}]`, d));
}
