/**
 * Device tensors on WebGPU (the software adapter in CI): a tensor stays on the GPU across
 * operations, chained operations submit once and read back once, and moves between the backends
 * keep the values. Skipped, with the reason printed, when there is no adapter.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { getGpu, gpuStatus, releaseGpu } from "../gpu/device.ts";
import { columnSums } from "../ops/column_sums.ts";
import { matmul } from "../ops/matmul.ts";
import { RxDetector } from "../ops/rx.ts";
import { randomMatrix } from "../synth/uniform.ts";
import { toDevice } from "../tensor/device_tensor.ts";

const status = await gpuStatus();
await releaseGpu();
const ignore = !status.available;
if (!status.available) console.log(`device tensor GPU tests skipped: ${status.reason}`);

/** The largest |a - b| relative to the largest |b|. */
function relative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / scale;
}

Deno.test({
  name: "a GPU tensor stays on the GPU across RX fit and score: uploaded once, scored in place",
  ignore,
  async fn() {
    try {
      const gpu = await getGpu();
      const m = randomMatrix(3000, 9, { seed: 3, lo: 95, hi: 105 });
      const plain = await new RxDetector().fit(m, { backend: "webgpu" });
      const expected = await plain.score(m, { backend: "webgpu" });
      gpu.stats.reset();
      using x = await toDevice(m.data, { shape: [3000, 9], backend: "webgpu" });
      equal(gpu.stats.uploads, 1);
      const rx = await new RxDetector().fit(x); // auto: runs where x lives
      using scores = await rx.score(x, { output: "tensor" });
      equal(scores.backend, "webgpu");
      const fitAndScore = { ...gpu.stats };
      const values = await scores.read();
      equal(gpu.stats.uploads, 1, "neither fit nor score uploaded the pixels again");
      deepEqual(rx.stats.mean, plain.stats.mean);
      ok(relative(values, expected) < 1e-6, `scores within 1e-6 of the plain-array scores`);
      // fit reads its shift sample and its Gram back (CPU float64 merge and pseudo-inverse);
      // the scores stay on the device until read.
      equal(fitAndScore.readBacks, 2);
      equal(gpu.stats.readBacks, 3);
    } finally {
      await releaseGpu();
    }
  },
});

Deno.test({
  name: "three chained GPU operations submit once and read back once",
  ignore,
  async fn() {
    try {
      const gpu = await getGpu();
      const x = randomMatrix(257, 13, { seed: 1 });
      const w1 = randomMatrix(13, 31, { seed: 2 });
      const w2 = randomMatrix(31, 7, { seed: 3 });
      using t = await toDevice(x.data, { shape: [257, 13], backend: "webgpu" });
      gpu.stats.reset();
      using h = await matmul(t, w1);
      using y = await matmul(h, w2);
      using z = await matmul(y, y, { transposeA: true }); // yᵀy, 7 × 7
      equal(gpu.stats.submits, 0, "nothing submitted before the read");
      const got = await z.read();
      equal(gpu.stats.submits, 1);
      equal(gpu.stats.readBacks, 1);
      using hw = await matmul(x, w1, { backend: "wasm" });
      using yw = await matmul(hw, w2);
      using zw = await matmul(yw, yw, { transposeA: true });
      ok(relative(got, await zw.read()) < 1e-5, "WebGPU chain within 1e-5 of the WASM chain");
    } finally {
      await releaseGpu();
    }
  },
});

Deno.test({
  name: "tensors move between WASM and WebGPU with their values; ops follow them",
  ignore,
  async fn() {
    try {
      const m = randomMatrix(100, 6, { seed: 9 });
      using w = await toDevice(m.data, { shape: [100, 6] });
      using g = await w.toGpu();
      equal(g.backend, "webgpu");
      using back = await g.toWasm();
      deepEqual(await back.read(), m.data);
      const onGpu = await columnSums(g);
      equal(onGpu.backend, "webgpu");
      const onWasm = await columnSums(w);
      equal(onWasm.backend, "wasm");
      ok(relative(onGpu.sums, onWasm.sums) < 1e-6);
      const crossed = await columnSums(g, { backend: "wasm" }); // read back for this call
      deepEqual(crossed.sums, onWasm.sums);
    } finally {
      await releaseGpu();
    }
  },
});
