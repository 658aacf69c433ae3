/**
 * Bad input to the layer ops is rejected before any work, with a message that names what is
 * wrong: shape mismatches, NaN (plain operands on both backends, resident WASM tensors too),
 * per-channel vectors of the wrong length, scales other than 2 and 4, asymmetric or negative
 * padding, unknown activations, f16 off the GPU, empty tensors, a bad eps.
 */

import { rejects } from "node:assert/strict";
import { InvalidDataError } from "../core/errors.ts";
import { activation, activationBackward } from "../ops/activation.ts";
import { add } from "../ops/add.ts";
import { batchNorm, batchNormBackward } from "../ops/batch_norm.ts";
import { channelAffine } from "../ops/channel_affine.ts";
import { convTranspose2d, convTranspose2dBackward } from "../ops/conv_transpose2d.ts";
import { layerNorm } from "../ops/layer_norm.ts";
import { upsampleBilinear, upsampleBilinearBackward } from "../ops/upsample.ts";
import { toDevice } from "../tensor/device_tensor.ts";
import { disposePlaced, HAS_GPU } from "./_layer_backends.ts";

const img = (shape: number[], fill = 1) => ({
  data: new Float32Array(shape.reduce((a, b) => a * b)).fill(fill),
  shape,
});
const vec = (n: number, fill = 1) => new Float32Array(n).fill(fill);
const BACKENDS = HAS_GPU ? ["wasm", "webgpu"] as const : ["wasm"] as const;

Deno.test("layer ops: shape mismatches and wrong vector lengths are named", async () => {
  const x = img([1, 2, 2, 3]);
  await rejects(
    add(x, img([1, 2, 2, 4])),
    /add\(\): b has shape \[1, 2, 2, 4\] but a has \[1, 2, 2, 3\]/,
  );
  await rejects(
    activationBackward(x, { kind: "relu", dy: img([1, 2, 3, 3]) }),
    /dy has shape \[1, 2, 3, 3\] but the input has \[1, 2, 2, 3\]/,
  );
  await rejects(
    batchNorm(x, { gamma: vec(2), beta: vec(3), eps: 1e-5 }),
    /batchNorm\(\): gamma has 2 values but the input has 3 channels/,
  );
  await rejects(
    layerNorm(x, { gamma: vec(3), beta: vec(4), eps: 1e-5 }),
    /layerNorm\(\): beta has 4 values but the input has 3 channels/,
  );
  await rejects(
    channelAffine(x, { scale: vec(3), shift: new Float64Array(3) as never }),
    /shift must be a Float32Array of 3 values/,
  );
  await rejects(
    batchNormBackward(x, { dy: x, gamma: vec(3), mean: vec(3), variance: vec(3, -1), eps: 1e-5 }),
    /variance is negative/,
  );
  await rejects(activation(img([2, 2, 3]), { kind: "relu" }), /input must be NHWC/);
  await rejects(activation(img([1, 0, 2, 3]), { kind: "relu" }), /input is empty/);
  await rejects(
    activation({ data: new Float32Array(5), shape: [1, 2, 2, 1] }, { kind: "relu" }),
    /needs a Float32Array of 4 values/,
  );
  await rejects(
    convTranspose2d(x, img([4, 4, 4, 2]), { stride: 2, padding: 1 }),
    /weights take 4 input channels but the input has 3/,
  );
  await rejects(
    convTranspose2d(x, img([4, 4, 3, 2]), { bias: vec(3) }),
    /bias has 3 values but the input has 2 channels/,
  );
  await rejects(
    convTranspose2dBackward(x, img([4, 4, 3, 2]), { stride: 2, padding: 1, dy: img([1, 4, 4, 3]) }),
    /dy has shape \[1, 4, 4, 3\] but the output has \[1, 4, 4, 2\]/,
  );
  await rejects(
    upsampleBilinearBackward(img([1, 4, 4, 3]), { scale: 2, inputShape: [1, 2, 3, 3] }),
    /dy has shape \[1, 4, 4, 3\] but the upsampled input has \[1, 4, 6, 3\]/,
  );
});

Deno.test("layer ops: out-of-range options say what is allowed", async () => {
  const x = img([1, 3, 3, 2]);
  const w = img([4, 4, 2, 1]);
  await rejects(upsampleBilinear(x, { scale: 3 as 2 }), /scale must be 2 or 4, got 3/);
  await rejects(convTranspose2d(x, w, { padding: [1, 1, 0, 0] as never }), /asymmetric padding/);
  await rejects(convTranspose2d(x, w, { padding: -1 }), /padding must be a whole number >= 0/);
  await rejects(convTranspose2d(x, w, { stride: 3 }), /stride must be 1 or 2, got 3/);
  await rejects(
    convTranspose2d(img([1, 1, 1, 2]), img([1, 1, 2, 1]), { padding: 1 }),
    /output would be -1x-1/,
  );
  await rejects(
    convTranspose2d(x, w, { precision: "f16", backend: "wasm" }),
    /"f16" on WebGPU/,
  );
  await rejects(
    convTranspose2d(x, w, { activation: "tanh" as "relu" }),
    /activation must be one of/,
  );
  await rejects(activation(x, { kind: "tanh" as "relu" }), /"relu", "gelu", got "tanh"/);
  await rejects(
    layerNorm(x, { gamma: vec(2), beta: vec(2), eps: 0 }),
    /eps must be a finite number above 0/,
  );
});

for (const backend of BACKENDS) {
  Deno.test(`layer ops on ${backend}: NaN in operands is rejected, naming the operand`, async () => {
    try {
      const bad = img([1, 2, 2, 3]);
      bad.data[7] = NaN;
      const good = img([1, 2, 2, 3]);
      const o = { backend };
      await rejects(
        activation(bad, { ...o, kind: "gelu" }),
        (e) =>
          e instanceof InvalidDataError && /input holds NaN at pixel 2, channel 1/.test(e.message),
      );
      await rejects(
        add(good, bad, o),
        (e) => e instanceof InvalidDataError && /b holds NaN/.test(e.message),
      );
      await rejects(
        batchNorm(good, { ...o, gamma: vec(3, NaN), beta: vec(3), eps: 1e-5 }),
        (e) => e instanceof InvalidDataError && /gamma holds NaN/.test(e.message),
      );
      await rejects(
        convTranspose2d(good, img([2, 2, 3, 1], Infinity), o),
        (e) => e instanceof InvalidDataError && /weights holds Infinity/.test(e.message),
      );
      await rejects(
        upsampleBilinear(bad, { ...o, scale: 2 }),
        (e) => e instanceof InvalidDataError && /input holds NaN/.test(e.message),
      );
    } finally {
      await disposePlaced();
    }
  });
}

Deno.test("layer ops: NaN in a resident WASM tensor is rejected too", async () => {
  const data = new Float32Array([1, NaN, 3, 4]);
  using t = await toDevice(data, { shape: [1, 1, 2, 2] });
  await rejects(layerNorm(t, { gamma: vec(2), beta: vec(2), eps: 1e-5 }), InvalidDataError);
  await rejects(activation(t, { kind: "relu" }), InvalidDataError);
});
