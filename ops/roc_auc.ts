/**
 * ROC AUC of detection scores against binary labels: how to judge an anomaly detector.
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";

/**
 * The area under the ROC curve: the probability that a random positive scores higher than a
 * random negative (ties count one half), by the Mann–Whitney rank sum in O(n log n).
 *
 * @param scores One score per sample; higher means more anomalous.
 * @param labels One label per sample: non-zero for positive (anomalous).
 * @returns The AUC in [0, 1]; 0.5 is chance.
 * @throws {TypeError} When the lengths differ.
 * @throws {RangeError} When all labels are the same (the AUC is undefined).
 * @throws {InvalidDataError} When a score is NaN.
 * @example
 * ```ts
 * import { rocAuc } from "./roc_auc.ts";
 * import assert from "node:assert";
 * assert(rocAuc(new Float32Array([0.1, 0.9, 0.8, 0.2]), new Uint8Array([0, 1, 1, 0])) === 1);
 * assert(rocAuc([1, 1, 1, 1], [0, 1, 0, 1]) === 0.5);
 * ```
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (scores.length !== labels.length) {
    throw new TypeError(`scores has ${scores.length} values but labels has ${labels.length}`);
  }
  const order = Array.from({ length: scores.length }, (_, i) => i);
  for (const i of order) {
    if (Number.isNaN(scores[i])) {
      throw new InvalidDataError(`score ${i} is NaN: every score must be a number`, {
        position: { index: i },
      });
    }
  }
  order.sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < order.length;) {
    // A run of tied scores shares the mean of its ranks (1-based).
    let end = start + 1;
    while (end < order.length && scores[order[end]] === scores[order[start]]) end++;
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) {
      if (labels[order[k]] !== 0) {
        positives++;
        rankSum += rank;
      }
    }
    start = end;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) {
    throw new RangeError(
      `ROC AUC needs both classes; got ${positives} positive and ${negatives} negative labels`,
    );
  }
  return (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
}
