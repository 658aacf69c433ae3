import assert from "node:assert/strict";
import { convAsMatrix, flattenActivations, sequenceAsMatrix } from "../track/flatten.ts";

Deno.test("convAsMatrix() views [N, H, W, C] as N x HWC without copying", () => {
  const data = Float32Array.from({ length: 3 * 5 * 7 * 2 }, (_, i) => i);
  const m = convAsMatrix({ data, shape: [3, 5, 7, 2] });
  assert.equal(m.rows, 3);
  assert.equal(m.cols, 70);
  assert.equal(m.data, data);
  // Element (n, h, w, c) sits at row n, column (h * W + w) * C + c.
  assert.equal(m.data[2 * m.cols + (4 * 7 + 6) * 2 + 1], ((2 * 5 + 4) * 7 + 6) * 2 + 1);
});

Deno.test("sequenceAsMatrix() views [B, T, D] as (B*T) x D without copying", () => {
  const data = new Float32Array(2 * 13 * 3);
  const m = sequenceAsMatrix({ data, shape: [2, 13, 3] });
  assert.deepEqual([m.rows, m.cols], [26, 3]);
  assert.equal(m.data, data);
});

Deno.test("flattenActivations() takes matrices, rank-2 tensors and reports feature shapes", () => {
  const data = new Float32Array(6);
  const a = flattenActivations({ data, rows: 2, cols: 3 });
  assert.equal(a.matrix.data, data);
  assert.deepEqual(a.featureShape, [3]);
  const b = flattenActivations({ data, shape: [3, 2] });
  assert.deepEqual([b.matrix.rows, b.matrix.cols, b.featureShape], [3, 2, [2]]);
  const c = flattenActivations({ data, shape: [1, 2, 3] });
  assert.deepEqual([c.matrix.rows, c.matrix.cols, c.featureShape], [2, 3, [3]]);
  const d = flattenActivations({ data, shape: [1, 1, 2, 3] });
  assert.deepEqual([d.matrix.rows, d.matrix.cols, d.featureShape], [1, 6, [1, 2, 3]]);
  const empty = flattenActivations({ data: new Float32Array(0), shape: [0, 4, 4, 3] });
  assert.deepEqual([empty.matrix.rows, empty.matrix.cols], [0, 48]);
});

Deno.test("flattenActivations() rejects wrong ranks and sizes naming the accepted shapes", () => {
  const expected = /\[N, H, W, C\].*\[B, T, D\]/;
  for (const shape of [[6], [1, 1, 1, 2, 3], []]) {
    assert.throws(
      () => flattenActivations({ data: new Float32Array(6), shape }),
      { name: "TypeError", message: expected },
    );
  }
  assert.throws(
    () => flattenActivations({ data: new Float32Array(5), shape: [2, 3] }),
    { name: "TypeError", message: /5 values/ },
  );
  assert.throws(
    () =>
      flattenActivations({ data: new Float64Array(6) as unknown as Float32Array, shape: [2, 3] }),
    { name: "TypeError", message: /Float32Array/ },
  );
  assert.throws(() => flattenActivations(null as never), { name: "TypeError", message: expected });
  assert.throws(() => convAsMatrix({ data: new Float32Array(6), shape: [2, 3] }), {
    name: "TypeError",
    message: /\[N, H, W, C\]/,
  });
  assert.throws(() => sequenceAsMatrix({ data: new Float32Array(6), shape: [2, 3] }), {
    name: "TypeError",
    message: /\[B, T, D\]/,
  });
});
