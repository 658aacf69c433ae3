/**
 * Losses: softmax cross-entropy (of a classifier's logits, or over the channels of each pixel of
 * an NHWC image) and the mean squared error. Each returns the mean loss and can fill the gradient.
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";
import type { Matrix, Tensor } from "../core/types.ts";
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

/** Options of the losses over tensors. */
export interface LossOptions {
  /** When given (as many values as the output), receives dL/doutput. */
  grad?: Float32Array;
}

/**
 * The softmax cross-entropy over the channels of each pixel of NHWC logits, averaged over the
 * pixels (PyTorch's `cross_entropy` on NCHW logits with class-index targets).
 *
 * @param logits `[n, h, w, classes]` scores (any rank: the last axis is the classes).
 * @param labels One class index per pixel, `n·h·w` of them.
 * @param options `grad` to fill with dL/dlogits.
 * @returns The mean loss over pixels.
 * @throws {TypeError} When `labels` or `grad` has the wrong length.
 * @throws {RangeError} When a label is not a class index.
 * @example
 * ```ts
 * import { pixelSoftmaxCrossEntropy } from "./loss.ts";
 * import assert from "node:assert";
 * const logits = { data: new Float32Array([0, 0, 5, -5]), shape: [1, 1, 2, 2] };
 * const loss = pixelSoftmaxCrossEntropy(logits, new Int32Array([1, 0]));
 * assert(Math.abs(loss - (Math.LN2 + Math.log1p(Math.exp(-10))) / 2) < 1e-9);
 * ```
 */
export function pixelSoftmaxCrossEntropy(
  logits: Tensor,
  labels: ArrayLike<number>,
  options: LossOptions = {},
): number {
  const shape = logits.shape;
  const cols = shape.length === 0 ? 1 : shape[shape.length - 1];
  const rows = cols === 0 ? 0 : logits.data.length / cols;
  if (labels.length !== rows) {
    throw new TypeError(
      `labels has ${labels.length} entries but the logits [${shape.join(", ")}] have ${rows} ` +
        `pixels; give one class index per pixel`,
    );
  }
  return softmaxCrossEntropy({ data: logits.data, rows, cols }, labels, options);
}

/**
 * The mean squared error `mean((output − target)²)` over every value, in float64.
 *
 * @param output The network's output.
 * @param target The wanted values, the same shape.
 * @param options `grad` to fill with dL/doutput = `2(output − target)/N`.
 * @returns The mean (0 for no values).
 * @throws {TypeError} When the shapes or `grad`'s length differ.
 * @throws {InvalidDataError} When the target holds NaN or infinity.
 * @example
 * ```ts
 * import { meanSquaredError } from "./loss.ts";
 * import assert from "node:assert";
 * const y = { data: new Float32Array([1, 2]), shape: [1, 1, 1, 2] };
 * const t = { data: new Float32Array([0, 0]), shape: [1, 1, 1, 2] };
 * assert(meanSquaredError(y, t) === 2.5);
 * ```
 */
export function meanSquaredError(
  output: Tensor,
  target: Tensor,
  options: LossOptions = {},
): number {
  const a = output.data, b = target.data;
  if (
    a.length !== b.length || output.shape.length !== target.shape.length ||
    output.shape.some((d, i) => d !== target.shape[i])
  ) {
    throw new TypeError(
      `the target has shape [${target.shape.join(", ")}] but the output has ` +
        `[${output.shape.join(", ")}]; they must match`,
    );
  }
  const grad = options.grad;
  if (grad !== undefined && grad.length !== a.length) {
    throw new TypeError(`grad has ${grad.length} values, need ${a.length}`);
  }
  if (a.length === 0) return 0;
  let total = 0;
  const scale = 2 / a.length;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    if (d - d !== 0 && b[i] - b[i] !== 0) {
      throw new InvalidDataError(`the target holds ${b[i]} at index ${i}; it must be finite`);
    }
    total += d * d;
    if (grad !== undefined) grad[i] = scale * d;
  }
  return total / a.length;
}

/** The losses `ConvNet.trainStep` takes, by name. */
export const losses: Readonly<{
  mse: typeof meanSquaredError;
  "softmax-ce": typeof pixelSoftmaxCrossEntropy;
}> = Object.freeze({ mse: meanSquaredError, "softmax-ce": pixelSoftmaxCrossEntropy });
