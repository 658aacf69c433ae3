/**
 * runTiled with the layers on WebGPU (the software adapter in CI): the stitched tiles equal one
 * whole-image pass on the same backend.
 */

import assert from "node:assert";
import { gpuStatus, releaseGpu } from "../gpu/device.ts";
import { runTiled } from "../nn/tiled.ts";
import { randomF32 } from "../synth/uniform.ts";
import { DOWN_UP_SPEC, SMALL_SPEC, TinyNet } from "./_tiny_nets.ts";

const status = await gpuStatus();
await releaseGpu();
const ignore = !status.available;
if (ignore) console.log(`GPU tiling tests skipped: ${status.reason}`);

Deno.test({
  name: "runTiled on WebGPU equals the whole-image run on WebGPU (small, down-up; 37x29)",
  ignore,
  async fn() {
    try {
      for (const [spec, tileSize] of [[SMALL_SPEC, 16], [DOWN_UP_SPEC, 24]] as const) {
        const net = new TinyNet(spec);
        const c = net.inputChannels;
        const image = { data: randomF32(37 * 29 * c, 9), shape: [37, 29, c] };
        using whole = await net.forward({ data: image.data, shape: [1, 37, 29, c] }, {
          backend: "webgpu",
        });
        const want = await whole.read();
        const got = await runTiled(net, image, { tileSize, batchSize: 2, backend: "webgpu" });
        assert.deepStrictEqual(got?.shape, whole.shape.slice(1));
        let mean = 0;
        for (const v of want) mean += Math.abs(v) / want.length;
        for (let i = 0; i < want.length; i++) {
          const tol = 1e-5 * Math.max(Math.abs(want[i]), mean);
          assert(Math.abs(got!.data[i] - want[i]) <= tol, `${spec.name}[${i}]`);
        }
      }
    } finally {
      await releaseGpu();
    }
  },
});
