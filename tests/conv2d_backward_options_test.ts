/**
 * `conv2dBackward`'s `inputGradient: false` (no input gradient computed, none returned) and
 * `into` (the parameter gradients written into the caller's arrays), on WASM and, when an
 * adapter exists, WebGPU: the gradients against the float64 reference within 1e-4 relative and
 * equal to those of a plain call.
 */

import { deepEqual, ok, rejects } from "node:assert/strict";
import { convGeometry } from "../core/conv_geometry.ts";
import { gpuStatus, releaseGpu } from "../gpu/device.ts";
import { conv2dBackward } from "../ops/conv2d.ts";
import { randomF32 } from "../synth/uniform.ts";
import { convBackwardF64, relativeError } from "./_conv_reference.ts";

const status = await gpuStatus();
await releaseGpu();
const backends = status.available ? ["wasm", "webgpu"] as const : ["wasm"] as const;
if (!status.available) console.log(`conv2dBackward WebGPU cases skipped: ${status.reason}`);

/** Odd sizes: a dense layer as 1×1 conv, 3×3 stride 2 "same" on 5×5, depthwise 13 channels. */
const CASES = [
  { input: [3, 1, 1, 13], kernel: [1, 1], oc: 7, stride: 1, groups: 1 },
  { input: [2, 5, 5, 3], kernel: [3, 3], oc: 13, stride: 2, groups: 1 },
  { input: [1, 5, 7, 13], kernel: [3, 3], oc: 13, stride: 1, groups: 13 },
] as const;

for (const backend of backends) {
  Deno.test(`conv2dBackward() on ${backend}: inputGradient false and into`, async () => {
    try {
      for (const [i, c] of CASES.entries()) {
        const [n, h, w, ch] = c.input;
        const depthwise = c.groups !== 1;
        const wShape = [c.kernel[0], c.kernel[1], ch, depthwise ? 1 : c.oc];
        const g = convGeometry({
          input: [n, h, w, ch],
          kernel: [c.kernel[0], c.kernel[1]],
          outChannels: c.oc,
          stride: c.stride,
          padding: "same",
          groups: c.groups,
        });
        const x = { data: randomF32(n * h * w * ch, 10 + i), shape: [...c.input] };
        const weights = {
          data: randomF32(wShape.reduce((a, b) => a * b, 1), 20 + i),
          shape: wShape,
        };
        const dy = {
          data: randomF32(n * g.oh * g.ow * c.oc, 30 + i),
          shape: [n, g.oh, g.ow, c.oc],
        };
        const o = { dy, stride: c.stride, padding: "same" as const, groups: c.groups, backend };
        const ref = convBackwardF64(g, { input: x.data, weights: weights.data }, dy.data);

        const full = await conv2dBackward(x, weights, o);
        full.dInput.dispose();
        const into = {
          dWeights: new Float32Array(weights.data.length).fill(NaN),
          dBias: new Float32Array(c.oc).fill(NaN),
        };
        const part = await conv2dBackward(x, weights, { ...o, inputGradient: false, into });
        ok(!("dInput" in part), "no input gradient is returned");
        ok(part.dWeights === into.dWeights && part.dBias === into.dBias, "into arrays returned");
        const errW = relativeError(part.dWeights, ref.dWeights);
        const errB = relativeError(part.dBias, ref.dBias);
        ok(errW < 1e-4 && errB < 1e-4, `case ${i}: dWeights ${errW}, dBias ${errB}`);
        deepEqual(part.dWeights, full.dWeights);
        deepEqual(part.dBias, full.dBias);
      }
    } finally {
      await releaseGpu();
    }
  });
}

Deno.test("conv2dBackward() names wrong into arrays", async () => {
  const x = { data: new Float32Array(4), shape: [1, 2, 2, 1] };
  const weights = { data: new Float32Array(2), shape: [1, 1, 1, 2] };
  const dy = { data: new Float32Array(8), shape: [1, 2, 2, 2] };
  await rejects(
    conv2dBackward(x, weights, {
      dy,
      into: { dWeights: new Float32Array(3), dBias: new Float32Array(2) },
    }),
    /into must hold a Float32Array dWeights of 2 values and dBias of 2, got 3 and 2/,
  );
});
