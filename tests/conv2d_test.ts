/**
 * `conv2d()` and `conv2dBackward()` (ops/conv2d.ts) on WASM and, when an adapter exists, WebGPU,
 * against the float64 reference (tests/_conv_reference.ts, itself checked against PyTorch's
 * fixtures in conv_fixtures_test.ts): f32 within 1e-4 relative, f16 within 2e-2; layers chained
 * on the GPU submit once; bad input is named.
 */

import { equal, ok, rejects } from "node:assert/strict";
import { convGeometry, type Padding } from "../core/conv_geometry.ts";
import { InvalidDataError } from "../core/errors.ts";
import { getGpu, gpuStatus, releaseGpu } from "../gpu/device.ts";
import { conv2d, conv2dBackward } from "../ops/conv2d.ts";
import { singularValues } from "../ops/spectrum.ts";
import { randomF32 } from "../synth/uniform.ts";
import { toDevice } from "../tensor/device_tensor.ts";
import { convBackwardF64, convForwardF64, relativeError } from "./_conv_reference.ts";

const status = await gpuStatus();
await releaseGpu();
const backends = status.available ? ["wasm", "webgpu"] as const : ["wasm"] as const;
if (!status.available) console.log(`conv2d WebGPU cases skipped: ${status.reason}`);

interface Case {
  name: string;
  input: [number, number, number, number];
  kernel: [number, number];
  out: number;
  stride?: number;
  padding?: Padding;
  depthwise?: boolean;
}

const CASES: Case[] = [
  {
    name: "3x3 same, 13 -> 7, batch 2",
    input: [2, 9, 8, 13],
    kernel: [3, 3],
    out: 7,
    padding: "same",
  },
  {
    name: "7x7 on 5x5, 1 channel",
    input: [1, 5, 5, 1],
    kernel: [7, 7],
    out: 3,
    padding: [3, 3, 3, 3],
  },
  {
    name: "stride 2 on 11x13, asymmetric",
    input: [1, 11, 13, 3],
    kernel: [3, 3],
    out: 5,
    stride: 2,
    padding: [0, 2, 1, 0],
  },
  { name: "1x1 image, 1x1 kernel", input: [3, 1, 1, 5], kernel: [1, 1], out: 4 },
  {
    name: "depthwise 3x3 stride 2",
    input: [2, 7, 9, 6],
    kernel: [3, 3],
    out: 6,
    stride: 2,
    padding: "same",
    depthwise: true,
  },
];

function operands(c: Case, seed: number) {
  const g = convGeometry({
    input: c.input,
    kernel: c.kernel,
    outChannels: c.out,
    stride: c.stride,
    padding: c.padding,
    groups: c.depthwise ? c.input[3] : 1,
  });
  const wShape = [c.kernel[0], c.kernel[1], c.input[3], c.depthwise ? 1 : c.out];
  const input = { data: randomF32(c.input.reduce((a, b) => a * b), seed), shape: c.input };
  const weights = { data: randomF32(wShape.reduce((a, b) => a * b), seed + 1), shape: wShape };
  const bias = randomF32(g.oc, seed + 2);
  const dy = {
    data: randomF32(g.n * g.oh * g.ow * g.oc, seed + 3),
    shape: [g.n, g.oh, g.ow, g.oc],
  };
  return { g, input, weights, bias, dy, groups: c.depthwise ? c.input[3] : 1 };
}

for (const backend of backends) {
  Deno.test(`conv2d() and conv2dBackward() on ${backend} match float64 within 1e-4`, async () => {
    try {
      for (const [i, c] of CASES.entries()) {
        const o = operands(c, 10 * i + 1);
        const opts = { stride: c.stride, padding: c.padding, groups: o.groups, backend };
        using y = await conv2d(o.input, o.weights, { ...opts, bias: o.bias, activation: "relu" });
        equal(y.backend, backend);
        const ref = convForwardF64(o.g, {
          input: o.input.data,
          weights: o.weights.data,
          bias: o.bias,
        })
          .map((v) => Math.max(0, v));
        ok(relativeError(await y.read(), ref) < 1e-4, `${c.name}: forward`);
        const grads = await conv2dBackward(o.input, o.weights, { ...opts, dy: o.dy });
        const r = convBackwardF64(o.g, { input: o.input.data, weights: o.weights.data }, o.dy.data);
        ok(relativeError(await grads.dInput.read(), r.dInput) < 1e-4, `${c.name}: dInput`);
        ok(relativeError(grads.dWeights, r.dWeights) < 1e-4, `${c.name}: dWeights`);
        ok(relativeError(grads.dBias, r.dBias) < 1e-4, `${c.name}: dBias`);
        grads.dInput.dispose();
      }
    } finally {
      await releaseGpu();
    }
  });
}

Deno.test({
  name: "three conv2d layers on a GPU tensor submit once, read back once; f16 within 2e-2",
  ignore: !status.available,
  async fn() {
    try {
      const gpu = await getGpu();
      const c1 = operands({
        name: "",
        input: [1, 12, 12, 4],
        kernel: [3, 3],
        out: 8,
        padding: "same",
      }, 5);
      const w2 = { data: randomF32(3 * 3 * 8 * 8, 7), shape: [3, 3, 8, 8] };
      const w3 = { data: randomF32(8 * 2, 8), shape: [1, 1, 8, 2] };
      using x = await toDevice(c1.input.data, { shape: c1.input.shape, backend: "webgpu" });
      gpu.stats.reset();
      using h1 = await conv2d(x, c1.weights, { padding: "same", activation: "relu" });
      using h2 = await conv2d(h1, w2, { padding: "same", activation: "gelu" });
      using y = await conv2d(h2, w3);
      equal(gpu.stats.submits, 0);
      const got = await y.read();
      equal(gpu.stats.submits, 1);
      equal(gpu.stats.readBacks, 1);
      using hw1 = await conv2d(c1.input, c1.weights, {
        padding: "same",
        activation: "relu",
        backend: "wasm",
      });
      using hw2 = await conv2d(hw1, w2, { padding: "same", activation: "gelu" });
      using yw = await conv2d(hw2, w3);
      ok(relativeError(got, await yw.read()) < 1e-4, "GPU chain within 1e-4 of the WASM chain");
      using half = await conv2d(c1.input, c1.weights, {
        padding: "same",
        precision: "f16",
        backend: "webgpu",
      });
      equal(half.dtype, "f16");
      await rejects(() => singularValues(half), /f16 tensor/); // matrix ops take float32 only
      const ref = convForwardF64(c1.g, { input: c1.input.data, weights: c1.weights.data });
      ok(relativeError(await half.read(), ref) < 2e-2, "f16 within 2e-2");
    } finally {
      await releaseGpu();
    }
  },
});

Deno.test({
  name: "conv2d() layers recorded on the GPU keep their own weights and biases until submitted",
  ignore: !status.available,
  async fn() {
    try {
      // Each layer's bias and weights are uploaded to pooled buffers; reading the first layer
      // only after the next two are recorded catches a buffer handed out again too early.
      const o = operands({
        name: "",
        input: [1, 16, 16, 6],
        kernel: [3, 3],
        out: 32,
        padding: "same",
      }, 3);
      const w2 = { data: randomF32(9 * 32 * 32, 4, { lo: -0.3, hi: 0.3 }), shape: [3, 3, 32, 32] };
      const w3 = { data: randomF32(9 * 32 * 6, 5, { lo: -0.3, hi: 0.3 }), shape: [3, 3, 32, 6] };
      const b2 = randomF32(32, 6);
      const run = async (backend: "wasm" | "webgpu") => {
        using x = await toDevice(o.input.data, { shape: o.input.shape, backend });
        using h1 = await conv2d(x, o.weights, {
          padding: "same",
          bias: o.bias,
          activation: "relu",
        });
        using h2 = await conv2d(h1, w2, { padding: "same", bias: b2, activation: "relu" });
        using y = await conv2d(h2, w3, { padding: "same" });
        return [await h1.read(), await h2.read(), await y.read()];
      };
      const gpu = await run("webgpu");
      const cpu = await run("wasm");
      gpu.forEach((v, i) => ok(relativeError(v, cpu[i]) < 1e-4, `layer ${i + 1}`));
    } finally {
      await releaseGpu();
    }
  },
});

Deno.test("conv2d() names what is wrong and refuses NaN", async () => {
  const o = operands(CASES[0], 1);
  await rejects(
    () => conv2d(o.input, { data: new Float32Array(3 * 3 * 12 * 7), shape: [3, 3, 12, 7] }),
    /weights take 12 input channels but the input has 13/,
  );
  await rejects(
    () => conv2d(o.input, o.weights, { bias: new Float32Array(3) }),
    /bias has 3 values/,
  );
  await rejects(
    () => conv2d({ data: o.input.data, shape: [2, 9, 8] }, o.weights),
    /NHWC/,
  );
  await rejects(
    () => conv2d(o.input, o.weights, { precision: "f16", backend: "wasm" }),
    /WebGPU only/,
  );
  const bad = o.input.data.slice();
  bad[17] = NaN;
  await rejects(() => conv2d({ data: bad, shape: o.input.shape }, o.weights), InvalidDataError);
  await rejects(
    () =>
      conv2dBackward(o.input, o.weights, {
        dy: { data: new Float32Array(4), shape: [1, 1, 1, 4] },
      }),
    /dy has shape/,
  );
});
