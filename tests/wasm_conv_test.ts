/**
 * The WASM convolution kernels (wasm/conv.ts) against the float64 reference of
 * tests/_conv_reference.ts, within 1e-4 relative (largest error over the largest reference
 * value): dense and depthwise forward with bias and every activation, input gradients
 * (transposed convolution, k4 s2 p1 included), weight and bias gradients, on odd sizes.
 */

import assert from "node:assert";
import { convGeometry } from "../core/conv_geometry.ts";
import {
  ConvWeights,
  wasmConvBackwardInput,
  wasmConvBackwardWeights,
  wasmConvForward,
} from "../wasm/conv.ts";
import { convBackwardF64, convForwardF64, relativeError } from "./_conv_reference.ts";
import { activate64, DENSE_CASES, DEPTHWISE_CASES, operands } from "./_conv_cases.ts";
import { randomF32 } from "../synth/uniform.ts";

const operation = "conv2d()";
const TOL = 1e-4;

function assertNear(got: Float32Array, want: Float64Array, label: string): void {
  const err = relativeError(got, want);
  assert(err < TOL, `${label}: relative error ${err.toExponential(2)} >= ${TOL}`);
}

for (const { name, g } of [...DENSE_CASES, ...DEPTHWISE_CASES]) {
  Deno.test(`wasmConvForward() matches float64 on ${name}, with bias and every activation`, async () => {
    const x = operands(g, 10);
    for (const activation of ["none", "relu", "gelu"] as const) {
      using y = await wasmConvForward(g, x, { activation, operation });
      assertNear(y.view(), activate64(convForwardF64(g, x), activation), `${name} ${activation}`);
    }
    using plain = await wasmConvForward(g, { input: x.input, weights: x.weights }, { operation });
    const ref = convForwardF64(g, { input: x.input, weights: x.weights });
    assertNear(plain.view(), ref, `${name} without bias`);
  });

  Deno.test(`wasmConvBackwardInput() and wasmConvBackwardWeights() match float64 on ${name}`, async () => {
    const x = operands(g, 20);
    const ref = convBackwardF64(g, x, x.dy);
    using dx = await wasmConvBackwardInput(g, { dy: x.dy, weights: x.weights }, { operation });
    assertNear(dx.view(), ref.dInput, `${name} dInput`);
    using grads = await wasmConvBackwardWeights(g, x, { operation });
    assertNear(grads.dWeights.view(), ref.dWeights, `${name} dWeights`);
    assertNear(grads.dBias.view(), ref.dBias, `${name} dBias`);
  });
}

Deno.test("wasmConvBackwardWeights() sums many 256-pixel blocks over batch 3 accurately", async () => {
  for (const groups of [1, 13]) {
    const g = convGeometry({
      input: [3, 19, 23, 13],
      kernel: [3, 3],
      outChannels: 13,
      padding: "same",
      groups,
    });
    const x = operands(g, 30);
    const ref = convBackwardF64(g, x, x.dy);
    using grads = await wasmConvBackwardWeights(g, x, { operation });
    assertNear(grads.dWeights.view(), ref.dWeights, `groups ${groups} dWeights`);
    assertNear(grads.dBias.view(), ref.dBias, `groups ${groups} dBias`);
  }
});

Deno.test("a transposed convolution k4 s2 p1 (PyTorch's ConvTranspose2d) with bias and ReLU", async () => {
  // The transposed layer maps [2, 5, 7, 6] to [2, 10, 14, 3]: the input gradient of the
  // convolution k4 s2 p1 from [2, 10, 14, 3] to [2, 5, 7, 6].
  const g = convGeometry({
    input: [2, 10, 14, 3],
    kernel: [4, 4],
    outChannels: 6,
    stride: 2,
    padding: [1, 1, 1, 1],
  });
  assert(g.oh === 5 && g.ow === 7);
  const layerInput = randomF32(g.n * g.oh * g.ow * g.oc, 40);
  const weights = randomF32(4 * 4 * 3 * 6, 41, { lo: -0.5, hi: 0.5 });
  const bias = randomF32(3, 42);
  using packed = await ConvWeights.pack(g, weights, { transposed: true });
  using y = await wasmConvBackwardInput(g, { dy: layerInput, weights: packed, bias }, {
    activation: "relu",
    operation,
  });
  const ref =
    convBackwardF64(g, { input: new Float64Array(g.n * g.h * g.w * g.c), weights }, layerInput)
      .dInput;
  for (let i = 0; i < ref.length; i++) ref[i] += bias[i % 3];
  assertNear(y.view(), activate64(ref, "relu"), "k4 s2 p1 transposed");
});

Deno.test("ConvWeights packs once and serves many calls; layers chain in kernel memory", async () => {
  const g = convGeometry({ input: [2, 9, 9, 5], kernel: [3, 3], outChannels: 5, padding: "same" });
  const x = operands(g, 50);
  using packed = await ConvWeights.pack(g, x.weights);
  using y1 = await wasmConvForward(g, { ...x, weights: packed }, { activation: "gelu", operation });
  // y1 lives in kernel memory and is read in place by the next layer.
  using y2 = await wasmConvForward(g, { input: y1.view(), weights: packed }, { operation });
  const ref1 = activate64(convForwardF64(g, x), "gelu");
  const ref2 = convForwardF64(g, { input: ref1, weights: x.weights });
  assertNear(y2.view(), ref2, "two chained layers");
  await assert.rejects(
    wasmConvBackwardInput(g, { dy: x.dy, weights: packed }, { operation }),
    (e) => e instanceof TypeError && /packed for another geometry or direction/.test(e.message),
  );
});
