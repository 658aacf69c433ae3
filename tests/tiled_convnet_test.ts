/**
 * runTiled with the real ConvNet (norms, GELU, depthwise and transposed convolutions, bilinear
 * upsampling, residual blocks; the refiner itself): the stitched tiles equal one whole-image
 * forward pass. The stand-in nets of `tiled_test.ts` cover the tiling logic in more shapes.
 */

import assert from "node:assert";
import { ConvNet } from "../nn/convnet.ts";
import type { ConvNetSpec } from "../nn/spec.ts";
import { runTiled, type TiledNet } from "../nn/tiled.ts";
import { tilingOf } from "../nn/tiling.ts";
import { randomF32 } from "../synth/uniform.ts";
import { runWhole } from "./_tiny_nets.ts";

const conv = (
  name: string,
  io: [number, number],
  more: Partial<ConvNetSpec["layers"][number]> = {},
) => ({
  type: "conv2d",
  name,
  inChannels: io[0],
  outChannels: io[1],
  kernel: [3, 3],
  stride: 1,
  padding: [1, 1, 1, 1],
  groups: 1,
  bias: true,
  norm: null,
  activation: "relu",
  ...more,
});

/** Every layer kind the spec format has, down by 4 and back up. */
const DOWN_UP = {
  format: "prism-convnet",
  version: 1,
  name: "down-up-full",
  input: { channels: 3 },
  layers: [
    conv("down1", [3, 8], { stride: 2, norm: { type: "batch", eps: 1e-5, momentum: 0.1 } }),
    conv("down2", [8, 8], {
      stride: 2,
      norm: { type: "layer", eps: 1e-6 },
      activation: "gelu",
    }),
    {
      type: "residual",
      name: "block",
      layers: [
        conv("dw", [8, 8], { groups: 8 }),
        conv("mix", [8, 8], { kernel: [1, 1], padding: [0, 0, 0, 0], activation: "none" }),
      ],
    },
    {
      ...conv("up1", [8, 8], { kernel: [4, 4], stride: 2 }),
      type: "conv_transpose2d",
      norm: { type: "batch", eps: 1e-5, momentum: 0.1 },
    },
    { type: "upsample", name: "up2", scale: 2, mode: "bilinear", alignCorners: false },
    conv("out", [8, 5], { activation: "none" }),
  ],
};

function assertSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string) {
  assert.strictEqual(got.length, want.length, `${what}: length`);
  let mean = 0;
  for (let i = 0; i < want.length; i++) mean += Math.abs(want[i]) / want.length;
  for (let i = 0; i < want.length; i++) {
    const tol = 1e-5 * Math.max(Math.abs(want[i]), mean);
    assert(Math.abs(got[i] - want[i]) <= tol, `${what}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

async function check(net: ConvNet, size: [number, number], tiles: [number, number][]) {
  const asTiled: TiledNet = net; // ConvNet is a TiledNet
  const c = net.inputChannels;
  const image = { data: randomF32(size[0] * size[1] * c, 4), shape: [...size, c] };
  const whole = await runWhole(asTiled, image);
  for (const [tileSize, batchSize] of tiles) {
    const got = await runTiled(net, image, { tileSize, batchSize });
    assert.deepStrictEqual(got?.shape, whole.shape);
    assertSame(got!.data, whole.data, `${net.spec.name} tile ${tileSize} batch ${batchSize}`);
  }
}

Deno.test("runTiled(ConvNet small) equals the whole run on 97x131", async () => {
  using net = await ConvNet.fromSpec("small", { seed: 2 });
  await check(net, [97, 131], [[16, 1], [40, 3]]);
});

Deno.test("runTiled(ConvNet): stride 2, norms, depthwise, transposed, upsample, residual", async () => {
  using net = await ConvNet.fromSpec(DOWN_UP, { seed: 5 });
  assert.deepStrictEqual(tilingOf(net.spec).alignment, 4);
  await check(net, [97, 131], [[24, 1], [36, 4]]);
});

Deno.test("runTiled(ConvNet refiner): 4 tiles of 224 over 300x260, output at 1/4", async () => {
  using net = await ConvNet.fromSpec("refiner", { seed: 1 });
  await check(net, [300, 260], [[224, 2]]);
});
