/**
 * `checkGradients` (nn/gradient_check.ts): a tiny net with every layer type (convolution dense,
 * depthwise and strided with asymmetric padding, transposed convolution, batch norm, layer norm,
 * ReLU, GELU, a residual block, bilinear upsampling) passes float64 central differences on WASM
 * and, when an adapter exists, WebGPU; a wrong gradient is caught.
 */

import { equal, ok } from "node:assert/strict";
import { gpuStatus, releaseGpu } from "../gpu/device.ts";
import { ConvNet } from "../nn/convnet.ts";
import { checkGradients } from "../nn/gradient_check.ts";
import type { ConvNetSpec } from "../nn/spec.ts";
import { randomF32 } from "../synth/uniform.ts";
import { convSpec } from "./_nn_specs.ts";

const status = await gpuStatus();
await releaseGpu();
const backends = status.available ? ["wasm", "webgpu"] as const : ["wasm"] as const;
if (!status.available) console.log(`gradient check WebGPU cases skipped: ${status.reason}`);

const conv = convSpec;

const EVERY_LAYER: ConvNetSpec = {
  format: "prism-convnet",
  version: 1,
  name: "every-layer-tiny",
  input: { channels: 3 },
  output: { channels: 2, scale: 1 },
  layers: [
    conv("down", 3, 5, {
      stride: 2,
      kernel: [3, 3],
      padding: [1, 2, 0, 1],
      norm: { type: "batch", eps: 1e-5, momentum: 0.1 },
      activation: "relu",
    }),
    {
      type: "residual",
      name: "block",
      layers: [
        conv("depthwise", 5, 5, { groups: 5, norm: { type: "layer", eps: 1e-6 } }),
        conv("expand", 5, 7, { kernel: [1, 1], padding: [0, 0, 0, 0], activation: "gelu" }),
        conv("project", 7, 5, { kernel: [1, 1], padding: [0, 0, 0, 0], bias: false }),
      ],
    },
    conv("up", 5, 4, {
      type: "conv_transpose2d",
      kernel: [4, 4],
      stride: 2,
      padding: [1, 1, 1, 1],
      norm: { type: "batch", eps: 1e-5, momentum: 0.1 },
      activation: "gelu",
    }),
    { type: "upsample", name: "resize", scale: 2, mode: "bilinear", alignCorners: false },
    conv("out", 4, 2, { stride: 2, activation: "relu" }),
  ],
};

for (const backend of backends) {
  Deno.test(`checkGradients() passes a net with every layer type on ${backend}`, async () => {
    try {
      using net = await ConvNet.fromSpec(EVERY_LAYER, { seed: 3 });
      const input = { data: randomF32(2 * 5 * 6 * 3, 9), shape: [2, 5, 6, 3] };
      const r = await checkGradients(net, { input, backend, samples: 8 });
      equal(r.parameters.size, 17);
      for (const [name, err] of r.parameters) ok(err < 1e-3, `${name}: ${err}`);
      ok(r.input < 1e-3, `input: ${r.input}`);
      ok(r.maxRelativeError < 1e-3);
    } finally {
      await releaseGpu();
    }
  });
}

Deno.test("checkGradients() catches a wrong gradient", async () => {
  using net = await ConvNet.fromSpec(EVERY_LAYER, { seed: 3 });
  const input = { data: randomF32(2 * 5 * 6 * 3, 9), shape: [2, 5, 6, 3] };
  // Checking against other values than the network ran with: the gradients no longer agree.
  const original = net.backward.bind(net);
  net.backward = async (dy) => {
    const g = await original(dy);
    g.parameters.get("block.expand.conv.weight")!.forEach((_, i, a) => a[i] *= 1.01);
    return g;
  };
  const r = await checkGradients(net, { input, samples: 4 });
  ok(r.parameters.get("block.expand.conv.weight")! > 5e-3);
  ok(r.parameters.get("out.conv.weight")! < 1e-3);
});
