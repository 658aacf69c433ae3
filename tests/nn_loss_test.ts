import { ok as assert, throws } from "node:assert";
import { softmaxCrossEntropy } from "../nn/loss.ts";

Deno.test("softmaxCrossEntropy() stays finite and exact on logits of ±1e4", () => {
  const logits = { data: new Float32Array([1e4, -1e4, 0, 1e4, 1e4, -1e4]), rows: 2, cols: 3 };
  const loss = softmaxCrossEntropy(logits, [0, 2]);
  // Row 0: p(0) = 1, loss 0. Row 1: p(2) = e^-2e4 / 2, loss = 2e4 + ln 2.
  assert(Math.abs(loss - (2e4 + Math.LN2) / 2) < 1e-9, `loss ${loss}`);
});

Deno.test("softmaxCrossEntropy() gradient matches float64 finite differences", () => {
  const data = Float32Array.from([0.3, -1.2, 2.0, 0.5, 0.5, -0.25, 1.0, 0.0]);
  const labels = [2, 1];
  const grad = new Float32Array(8);
  softmaxCrossEntropy({ data, rows: 2, cols: 4 }, labels, { grad });
  for (let i = 0; i < 8; i++) {
    const f = (d: number) => {
      const copy = Float32Array.from(data);
      copy[i] += d;
      return softmaxCrossEntropy({ data: copy, rows: 2, cols: 4 }, labels);
    };
    // float32 storage of the perturbed logit limits the step to ~1e-3.
    const h = 2 ** -10;
    const numeric = (f(h) - f(-h)) / (2 * h);
    assert(Math.abs(grad[i] - numeric) < 1e-5, `grad[${i}] = ${grad[i]}, numeric ${numeric}`);
  }
});

Deno.test("softmaxCrossEntropy() rejects labels out of range and mismatched lengths", () => {
  const logits = { data: new Float32Array(4), rows: 2, cols: 2 };
  throws(() => softmaxCrossEntropy(logits, [0, 2]), RangeError);
  throws(() => softmaxCrossEntropy(logits, [0, 0.5]), RangeError);
  throws(() => softmaxCrossEntropy(logits, [0]), TypeError);
  throws(() => softmaxCrossEntropy(logits, [0, 1], { grad: new Float32Array(3) }), TypeError);
});
