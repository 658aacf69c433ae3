import assert from "node:assert";
import { convGeometry } from "../core/conv_geometry.ts";
import { convBackwardF64, convForwardF64, relativeError } from "./_conv_reference.ts";

Deno.test("convGeometry() follows TensorFlow's same rule and explicit PyTorch padding", () => {
  for (const [h, k, s] of [[5, 3, 2], [6, 3, 2], [7, 7, 1], [1, 3, 2], [256, 7, 2]]) {
    const g = convGeometry({
      input: [1, h, h, 1],
      kernel: [k, k],
      outChannels: 1,
      stride: s,
      padding: "same",
    });
    assert.strictEqual(g.oh, Math.ceil(h / s));
    const total = Math.max((g.oh - 1) * s + k - h, 0);
    assert.strictEqual(g.padTop + g.padBottom, total);
    assert.strictEqual(g.padBottom - g.padTop, total % 2);
  }
  const p = convGeometry({
    input: [1, 256, 256, 4],
    kernel: [7, 7],
    outChannels: 64,
    stride: 2,
    padding: [3, 3, 3, 3],
  });
  assert.strictEqual(p.oh, 128); // the refiner's encoder: k7 s2 p3
  assert.throws(
    () => convGeometry({ input: [1, 2, 2, 1], kernel: [3, 3], outChannels: 1 }),
    RangeError,
  );
  assert.throws(
    () => convGeometry({ input: [1, 4, 4, 3], kernel: [3, 3], outChannels: 3, groups: 2 }),
    TypeError,
  );
  assert.throws(
    () => convGeometry({ input: [1, 4, 4, 3], kernel: [3, 3], outChannels: 3, stride: 3 }),
    RangeError,
  );
});

Deno.test("the float64 reference matches a hand-computed convolution and finite differences", () => {
  // 1x3x3x1 input, 2x2 kernel, valid: each output is a 2x2 window sum weighted.
  const g = convGeometry({ input: [1, 3, 3, 1], kernel: [2, 2], outChannels: 1 });
  const input = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const weights = [1, 0, 0, -1];
  assert.deepStrictEqual([...convForwardF64(g, { input, weights, bias: [10] })], [6, 6, 6, 6]);
  // Gradients against central differences of sum(y * dy) on a strided, padded, multi-channel case.
  const g2 = convGeometry({
    input: [2, 5, 4, 3],
    kernel: [3, 3],
    outChannels: 2,
    stride: 2,
    padding: "same",
  });
  const x = Array.from({ length: 2 * 5 * 4 * 3 }, (_, i) => Math.sin(i * 1.3));
  const w = Array.from({ length: 3 * 3 * 3 * 2 }, (_, i) => Math.cos(i * 0.7));
  const dy = Array.from({ length: 2 * g2.oh * g2.ow * 2 }, (_, i) => Math.sin(i * 0.9 + 1));
  const loss = (xi: number[], wi: number[]) =>
    convForwardF64(g2, { input: xi, weights: wi }).reduce((s, v, i) => s + v * dy[i], 0);
  const { dInput, dWeights } = convBackwardF64(g2, { input: x, weights: w }, dy);
  const h = 1e-6;
  const numeric = (v: number[], i: number, f: (p: number[]) => number) => {
    const p = [...v], m = [...v];
    p[i] += h;
    m[i] -= h;
    return (f(p) - f(m)) / (2 * h);
  };
  const nx = x.map((_, i) => numeric(x, i, (p) => loss(p, w)));
  const nw = w.map((_, i) => numeric(w, i, (p) => loss(x, p)));
  assert(relativeError(dInput, nx) < 1e-7);
  assert(relativeError(dWeights, nw) < 1e-7);
  // Depthwise: each channel convolved with its own kernel.
  const gd = convGeometry({
    input: [1, 3, 3, 2],
    kernel: [3, 3],
    outChannels: 2,
    groups: 2,
    padding: "same",
  });
  const xd = Array.from({ length: 18 }, (_, i) => i);
  const wd = Array.from({ length: 18 }, (_, i) => (i % 2 === 0 ? 1 : 0)); // channel 0 sums, 1 zero
  const yd = convForwardF64(gd, { input: xd, weights: wd });
  assert.strictEqual(yd[8], xd.filter((_, i) => i % 2 === 0).reduce((s, v) => s + v, 0));
  assert.strictEqual(yd[9], 0);
});
