/**
 * Device tensors (`tensor/device_tensor.ts`) on WASM: creation, moves, disposal, bad input, and
 * every operation that takes a matrix taking a kernel-memory tensor instead, read in place, with
 * results equal to the plain-array call (the same kernels over the same values).
 */

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { columnSums } from "../ops/column_sums.ts";
import { covariance } from "../ops/covariance.ts";
import { gram } from "../ops/gram.ts";
import { matmul } from "../ops/matmul.ts";
import { RxDetector } from "../ops/rx.ts";
import { singularValues } from "../ops/spectrum.ts";
import { randomMatrix } from "../synth/uniform.ts";
import { DeviceTensor, toDevice } from "../tensor/device_tensor.ts";
import { loadKernels } from "../wasm/loader.ts";

Deno.test("toDevice() puts values in kernel memory; read, using and dispose free them", async () => {
  const kernels = await loadKernels();
  const before = kernels.memory().inUseBytes;
  {
    using t = await toDevice(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
    equal(t.backend, "wasm");
    deepEqual(t.shape, [2, 3]);
    deepEqual(t.matrixShape(), { rows: 2, cols: 3 });
    deepEqual([...await t.read()], [1, 2, 3, 4, 5, 6]);
    ok(kernels.memory().inUseBytes > before);
    equal(await t.toWasm(), t, "a move to where it lives is the tensor itself");
  }
  equal(kernels.memory().inUseBytes, before, "using freed it");
  const t = await toDevice(new Float32Array(3));
  t.dispose();
  t.dispose(); // a second dispose does nothing
  ok(t.disposed);
  throws(() => t.storage, /disposed/);
  await rejects(() => columnSums(t), /disposed/);
});

Deno.test("toDevice() refuses what it cannot hold, saying what to change", async () => {
  await rejects(() => toDevice([1, 2] as unknown as Float32Array), /Float32Array/);
  await rejects(() => toDevice(new Float32Array(6), { shape: [4, 2] }), /holds 8 values/);
  await rejects(() => toDevice(new Float32Array(2), { shape: [2, 1.5] }), TypeError);
  await rejects(
    () => toDevice(new Float32Array(2), { backend: "cuda" as "wasm" }),
    /"wasm" or "webgpu"/,
  );
  using four = await toDevice(new Float32Array(4));
  throws(() => new DeviceTensor(four.storage, [5]), /storage of 4 words/);
});

Deno.test("operations read a WASM tensor in place and give the plain-array results", async () => {
  const m = randomMatrix(1031, 13, { seed: 5, lo: 990, hi: 1010 });
  using t = await toDevice(m.data, { shape: [1031, 13] });
  const wasm = { backend: "wasm" as const };
  deepEqual((await columnSums(t)).sums, (await columnSums(m, wasm)).sums);
  deepEqual((await gram(t)).gram, (await gram(m, wasm)).gram);
  deepEqual((await covariance(t)).covariance, (await covariance(m, wasm)).covariance);
  deepEqual(await singularValues(t), await singularValues(m, wasm));
  const rx = await new RxDetector().fit(t);
  deepEqual(rx.stats.mean, (await new RxDetector().fit(m, wasm)).stats.mean);
  const scores = await rx.score(m, wasm);
  deepEqual(await rx.score(t), scores);
  using onDevice = await rx.score(t, { output: "tensor" });
  equal(onDevice.backend, "wasm");
  deepEqual(await onDevice.read(), scores);
});

Deno.test("matmul() chains products in kernel memory and matches float64", async () => {
  const a = randomMatrix(7, 13, { seed: 1 });
  const b = randomMatrix(13, 5, { seed: 2 });
  using ab = await matmul(a, b);
  using abT = await matmul(ab, ab, { transposeB: true }); // (AB)(AB)ᵀ, 7 × 7
  deepEqual(abT.shape, [7, 7]);
  const ref = new Float64Array(7 * 5);
  for (let i = 0; i < 7; i++) {
    for (let p = 0; p < 13; p++) {
      for (let j = 0; j < 5; j++) ref[i * 5 + j] += a.data[i * 13 + p] * b.data[p * 5 + j];
    }
  }
  const got = await ab.read();
  for (let i = 0; i < ref.length; i++) ok(Math.abs(got[i] - ref[i]) < 1e-5, `entry ${i}`);
  const g = await abT.read();
  let want = 0;
  for (let j = 0; j < 5; j++) want += ref[j] * ref[5 + j];
  ok(Math.abs(g[1] - want) < 1e-4 && g[1] === g[7], "symmetric (AB)(AB)ᵀ");
  await rejects(() => matmul(a, a), /inner dimensions/);
  using empty = await matmul(randomMatrix(0, 3, { seed: 1 }), randomMatrix(3, 4, { seed: 2 }));
  deepEqual(empty.shape, [0, 4]);
});
