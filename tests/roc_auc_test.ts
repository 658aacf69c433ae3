import { equal, ok, throws } from "node:assert/strict";
import { rocAuc } from "../ops/roc_auc.ts";
import { InvalidDataError } from "../core/errors.ts";
import { uniform } from "../synth/uniform.ts";

/** The definition itself, O(P·N): the share of (positive, negative) pairs ranked right. */
function pairwiseAuc(scores: Float32Array, labels: Uint8Array): number {
  let good = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!labels[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j]) continue;
      pairs++;
      good += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return good / pairs;
}

Deno.test("rocAuc() equals the pairwise definition on random scores with ties", () => {
  for (const n of [2, 7, 257]) {
    const next = uniform(n, { lo: 0, hi: 1 });
    // Rounded scores make ties, which the rank sum must share out as the definition does.
    const scores = Float32Array.from({ length: n }, () => Math.round(next() * 10));
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 3 === 0 ? 1 : 0);
    ok(Math.abs(rocAuc(scores, labels) - pairwiseAuc(scores, labels)) < 1e-12, `n=${n}`);
  }
});

Deno.test("rocAuc() is 1 for a perfect detector, 0 for an inverted one, 0.5 for ties", () => {
  equal(rocAuc([1, 2, 3, 4], [0, 0, 1, 1]), 1);
  equal(rocAuc([4, 3, 2, 1], [0, 0, 1, 1]), 0);
  equal(rocAuc([5, 5, 5, 5], [0, 1, 0, 1]), 0.5);
});

Deno.test("rocAuc() rejects mismatched lengths, one class only, and NaN scores", () => {
  throws(() => rocAuc([1, 2], [1]), TypeError);
  throws(() => rocAuc([1, 2], [1, 1]), RangeError);
  throws(() => rocAuc([1, NaN], [0, 1]), InvalidDataError);
});
