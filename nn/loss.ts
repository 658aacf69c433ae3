/**
 * Softmax cross-entropy, the loss of a classifier's logits.
 *
 * @module
 */

import type { Matrix } from "../core/types.ts";
import { checkMatrix } from "../core/validate.ts";

/** Options of {@linkcode softmaxCrossEntropy}. */
export interface SoftmaxCrossEntropyOptions {
  /** When given (`rows * cols` values), receives dL/dlogits = `(softmax − onehot) / rows`. */
  grad?: Float32Array;
}

/**
 * The mean cross-entropy of `softmax(logits)` against integer labels, computed in float64
 * with the max-shift (`log Σ exp(z − max z)`), so logits of ±1e4 neither overflow nor lose the
 * answer.
 *
 * @param logits `rows x classes` scores.
 * @param labels One class index per row, each in `[0, classes)`.
 * @param options `grad` to fill with the gradient.
 * @returns The mean loss over rows (0 for zero rows).
 * @throws {TypeError} When `logits` is malformed, or `labels` / `grad` have the wrong length.
 * @throws {RangeError} When a label is not a class index.
 * @example
 * ```ts
 * import { softmaxCrossEntropy } from "./loss.ts";
 * import assert from "node:assert";
 * const loss = softmaxCrossEntropy({ data: new Float32Array([0, 0]), rows: 1, cols: 2 }, [1]);
 * assert(Math.abs(loss - Math.LN2) < 1e-12);
 * ```
 */
export function softmaxCrossEntropy(
  logits: Matrix,
  labels: ArrayLike<number>,
  options: SoftmaxCrossEntropyOptions = {},
): number {
  checkMatrix(logits, "logits");
  const { data, rows, cols } = logits;
  if (labels.length !== rows) {
    throw new TypeError(`labels has ${labels.length} entries, need one per row (${rows})`);
  }
  const grad = options.grad;
  if (grad !== undefined && grad.length !== rows * cols) {
    throw new TypeError(`grad has ${grad.length} values, need rows * cols = ${rows * cols}`);
  }
  if (rows === 0) return 0;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const label = labels[r];
    if (!Number.isInteger(label) || label < 0 || label >= cols) {
      throw new RangeError(`labels[${r}] = ${label} is not a class index in [0, ${cols})`);
    }
    const o = r * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) max = Math.max(max, data[o + j]);
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(data[o + j] - max);
    const logSum = Math.log(sum) + max;
    total += logSum - data[o + label];
    if (grad !== undefined) {
      for (let j = 0; j < cols; j++) {
        const p = Math.exp(data[o + j] - logSum);
        grad[o + j] = (p - (j === label ? 1 : 0)) / rows;
      }
    }
  }
  return total / rows;
}
