/**
 * Prepared convolution weights (`prepareConv2dWeights`, ops/conv2d_weights.ts): `conv2d()` and
 * `conv2dBackward()` with a handle match the float64 reference within 1e-4 relative on every
 * case of `_conv_cases.ts` (odd sizes: 1×1 images, 7×7 on 5×5, channels 1, 3, 13, stride 2 on
 * odd sizes, depthwise), one handle serving several image sizes and both directions; `update()`
 * after an in-place change; bad use named.
 */

import { equal, ok, rejects, throws } from "node:assert/strict";
import { convGeometry } from "../core/conv_geometry.ts";
import { InvalidDataError } from "../core/errors.ts";
import { conv2d, conv2dBackward, prepareConv2dWeights } from "../ops/conv2d.ts";
import { randomF32 } from "../synth/uniform.ts";
import { convBackwardF64, convForwardF64, relativeError } from "./_conv_reference.ts";
import { DENSE_CASES, DEPTHWISE_CASES, operands } from "./_conv_cases.ts";

const TOL = 1e-4;

Deno.test("prepared weights give the float64 reference's forward and gradients on WASM", async () => {
  for (const [i, c] of [...DENSE_CASES, ...DEPTHWISE_CASES].entries()) {
    const g = c.g;
    const x = operands(g, 100 + 10 * i);
    const groups = g.depthwise ? g.c : 1;
    const wShape = [g.kh, g.kw, g.c, g.depthwise ? 1 : g.oc];
    using w = await prepareConv2dWeights({ data: x.weights, shape: wShape }, {
      groups,
      backend: "wasm",
    });
    const input = { data: x.input, shape: [g.n, g.h, g.w, g.c] };
    const padding: [number, number, number, number] = [
      g.padTop,
      g.padBottom,
      g.padLeft,
      g.padRight,
    ];
    const opts = { stride: g.stride, padding, backend: "wasm" as const };
    using y = await conv2d(input, w, { ...opts, bias: x.bias });
    ok(relativeError(await y.read(), convForwardF64(g, x)) < TOL, `${c.name}: forward`);
    const dy = { data: x.dy, shape: [g.n, g.oh, g.ow, g.oc] };
    const grads = await conv2dBackward(input, w, { ...opts, dy });
    const r = convBackwardF64(g, x, x.dy);
    ok(relativeError(await grads.dInput.read(), r.dInput) < TOL, `${c.name}: dInput`);
    ok(relativeError(grads.dWeights, r.dWeights) < TOL, `${c.name}: dWeights`);
    ok(relativeError(grads.dBias, r.dBias) < TOL, `${c.name}: dBias`);
    grads.dInput.dispose();
  }
});

Deno.test("one prepared handle serves other image sizes, strides and paddings", async () => {
  const data = randomF32(3 * 3 * 5 * 4, 3, { lo: -0.5, hi: 0.5 });
  using w = await prepareConv2dWeights({ data, shape: [3, 3, 5, 4] });
  for (const [n, h, wd, stride] of [[1, 7, 9, 1], [2, 5, 3, 2], [1, 1, 1, 1]]) {
    const g = convGeometry({
      input: [n, h, wd, 5],
      kernel: [3, 3],
      outChannels: 4,
      stride,
      padding: "same",
    });
    const input = randomF32(n * h * wd * 5, 4 + h);
    using y = await conv2d({ data: input, shape: [n, h, wd, 5] }, w, {
      stride,
      padding: "same",
      backend: "wasm",
    });
    const ref = convForwardF64(g, { input, weights: data });
    ok(relativeError(await y.read(), ref) < TOL, `${n}x${h}x${wd} stride ${stride}`);
  }
});

Deno.test("update() repacks after an in-place change; the values are the caller's array", async () => {
  const data = randomF32(2 * 2 * 3 * 2, 9);
  using w = await prepareConv2dWeights({ data, shape: [2, 2, 3, 2] });
  equal(w.data, data);
  const input = { data: randomF32(1 * 4 * 4 * 3, 10), shape: [1, 4, 4, 3] };
  const dy = { data: randomF32(1 * 3 * 3 * 2, 11), shape: [1, 3, 3, 2] };
  // Pack both directions, then change every weight (as an optimiser step does) and update.
  (await conv2dBackward(input, w, { dy, backend: "wasm" })).dInput.dispose();
  for (let i = 0; i < data.length; i++) data[i] = 0.5 - data[i] * 2;
  w.update();
  const g = convGeometry({ input: [1, 4, 4, 3], kernel: [2, 2], outChannels: 2 });
  using y = await conv2d(input, w, { backend: "wasm" });
  ok(relativeError(await y.read(), convForwardF64(g, { input: input.data, weights: data })) < TOL);
  const grads = await conv2dBackward(input, w, { dy, backend: "wasm" });
  const r = convBackwardF64(g, { input: input.data, weights: data }, dy.data);
  ok(relativeError(await grads.dInput.read(), r.dInput) < TOL, "dInput after update");
  grads.dInput.dispose();
});

Deno.test("prepared weights refuse bad input and use after dispose, naming what is wrong", async () => {
  const shape = [1, 1, 2, 2];
  await rejects(
    prepareConv2dWeights({ data: new Float32Array([1, NaN, 0, 0]), shape }),
    InvalidDataError,
  );
  await rejects(prepareConv2dWeights({ data: new Float32Array(3), shape }), /need 4 values/);
  await rejects(
    prepareConv2dWeights({ data: new Float32Array(4), shape }, { groups: 2 }),
    /groups must be 1.*depthwise/,
  );
  await rejects(
    prepareConv2dWeights({ data: new Float32Array(4), shape }, { backend: "cuda" as "wasm" }),
    /backend must be/,
  );
  const w = await prepareConv2dWeights({ data: new Float32Array(4), shape });
  const input = { data: new Float32Array(2), shape: [1, 1, 1, 2] };
  await rejects(conv2d(input, w, { groups: 2, backend: "wasm" }), /prepared with groups 1/);
  w.data[0] = Infinity;
  throws(() => w.update(), InvalidDataError);
  w.data[0] = 0;
  w.dispose();
  ok(w.disposed);
  await rejects(conv2d(input, w, { backend: "wasm" }), /disposed; prepare them again/);
  throws(() => w.update(), /disposed/);
  w.dispose(); // idempotent
});
