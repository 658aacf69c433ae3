/**
 * The `small` network (6 → 32 → 32 → 6, 3×3 same, bias + ReLU between) on WebGPU against
 * TensorFlow.js's WASM backend (fused conv + bias + ReLU, the issue's peer), forward at tile ×
 * batch sizes, and a training step's convolution gradients on WebGPU. Weights are uploaded once;
 * every prism iteration records three layers and reads back once (which synchronises the GPU).
 * The forward also runs in f16, on packed `u32` words and (where the adapter has `shader-f16`)
 * natively, against prism's own f32 in the same run.
 * WebGPU cases run as `bench/_config.ts`'s `GPU_BENCH` says: with a hardware adapter at full
 * size, on a software adapter in quick mode only (`PRISM_BENCH_QUICK=1`: 32² tiles).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import { convGeometry } from "../core/conv_geometry.ts";
import {
  type ConvTensorInput,
  gpuConv2d,
  gpuConv2dInputGrad,
  gpuConv2dWeightGrad,
  type GpuConvTensor,
  readConvTensor,
  uploadConvTensor,
} from "../gpu/conv.ts";
import { getGpu } from "../gpu/device.ts";
import { randomF32 } from "../synth/uniform.ts";
import { tfjsReady } from "./_covariance_baselines.ts";
import { GPU_BENCH, QUICK } from "./_config.ts";

/** The `small` net's layers: channels in and out. */
const LAYERS = [[6, 32], [32, 32], [32, 6]] as const;
const TILES = QUICK ? [32] : [256, 384];
const BATCHES = QUICK ? [1, 2] : [1, 4];
const operation = "conv_gpu_bench";

const weights = LAYERS.map(([c, oc], i) => ({
  data: randomF32(9 * c * oc, 10 + i, { lo: -0.2, hi: 0.2 }),
  shape: [3, 3, c, oc] as [number, number, number, number],
}));
const biases = LAYERS.map(([, oc], i) => randomF32(oc, 20 + i, { lo: -0.1, hi: 0.1 }));

await tfjsReady();
const tfWeights = weights.map((w) => tf.tensor4d(w.data, w.shape));
const tfBiases = biases.map((b) => tf.tensor1d(b));

const gpuWeights: GpuConvTensor[] = [];
const halfWeights: GpuConvTensor[] = [];
/** The f16 storages to compare: packed always, native where the adapter offers it. */
const F16_STORAGES: ("packed" | "native")[] = ["packed"];
if (GPU_BENCH) {
  for (const w of weights) gpuWeights.push(await uploadConvTensor(w));
  for (const w of weights) halfWeights.push(await uploadConvTensor(w, { precision: "f16" }));
  if ((await getGpu()).status.f16) F16_STORAGES.push("native");
}

/** How a forward runs: f32, or f16 with the given storage. */
type ForwardMode = { precision: "f32" } | { precision: "f16"; f16Storage: "packed" | "native" };

/** The forward pass on WebGPU: three recorded layers, one submit and read-back. */
async function prismForward(
  x: ConvTensorInput,
  mode: ForwardMode = { precision: "f32" },
): Promise<void> {
  let current = x;
  const made: GpuConvTensor[] = [];
  const w = mode.precision === "f16" ? halfWeights : gpuWeights;
  for (const [i] of LAYERS.entries()) {
    const y = await gpuConv2d(current, w[i], {
      ...mode,
      operation,
      padding: "same",
      bias: biases[i],
      activation: i < LAYERS.length - 1 ? "relu" : "none",
    });
    made.push(y);
    current = y;
  }
  await readConvTensor(made[made.length - 1]);
  for (const t of made) t.storage.free();
}

/**
 * The convolution gradients of a training step on WebGPU, for given activations and output
 * gradients of every layer: each layer's weight/bias gradient and (but for the first) its
 * input gradient, one submit, read back the first layer's weight gradient.
 */
async function prismGradients(tile: number, batch: number): Promise<() => Promise<void>> {
  const acts = LAYERS.map(([c], i) => ({
    data: randomF32(batch * tile * tile * c, 30 + i),
    shape: [batch, tile, tile, c] as [number, number, number, number],
  }));
  const dys = LAYERS.map(([, oc], i) => ({
    data: randomF32(batch * tile * tile * oc, 40 + i),
    shape: [batch, tile, tile, oc] as [number, number, number, number],
  }));
  const resident = [];
  for (const t of [...acts, ...dys]) resident.push(await uploadConvTensor(t));
  const [a, d] = [resident.slice(0, 3), resident.slice(3)];
  return async () => {
    const made = [];
    for (let i = LAYERS.length - 1; i >= 0; i--) {
      const shared = { operation, padding: "same" as const };
      const g = await gpuConv2dWeightGrad(d[i], a[i], { ...shared, kernel: [3, 3] });
      made.push(g.dWeights.storage, g.dBias);
      if (i > 0) {
        const dx = await gpuConv2dInputGrad(d[i], gpuWeights[i], {
          ...shared,
          inputShape: acts[i].shape,
        });
        made.push(dx.storage);
      }
    }
    await made[made.length - 2].read();
    for (const s of made) s.free();
  };
}

for (const tile of TILES) {
  for (const batch of BATCHES) {
    const group = `small net forward ${tile}x${tile} batch ${batch}`;
    const shape = [batch, tile, tile, 6] as [number, number, number, number];
    const input = { data: randomF32(batch * tile * tile * 6, tile + batch), shape };
    const tfInput = tf.tensor4d(input.data, shape);
    Deno.bench({
      name: `tfjs wasm fused conv ${group}`,
      group,
      baseline: true,
      fn: () => {
        const y = tf.tidy(() => {
          let h = tfInput;
          for (const [i] of LAYERS.entries()) {
            h = tf.fused.conv2d({
              x: h,
              filter: tfWeights[i],
              strides: 1,
              pad: "same",
              bias: tfBiases[i],
              activation: i < LAYERS.length - 1 ? "relu" : "linear",
            });
          }
          return h;
        });
        // dataSync: the WASM backend computes synchronously, and awaiting data() per
        // iteration grew memory by ~100 MB/s in Deno.bench's loop.
        y.dataSync();
        y.dispose();
      },
    });
    Deno.bench({
      name: `prism webgpu ${group}`,
      group,
      ignore: !GPU_BENCH,
      // Few iterations: a software adapter takes a few hundred ms each.
      n: QUICK ? 5 : 30,
      warmup: 2,
      // An async function, not an arrow returning a promise: Deno.bench awaits only those.
      fn: async () => await prismForward(input),
    });
    for (const f16Storage of F16_STORAGES) {
      Deno.bench({
        name: `prism webgpu f16 ${f16Storage} ${group}`,
        group,
        n: QUICK ? 5 : 30,
        warmup: 2,
        fn: async () => await prismForward(input, { precision: "f16", f16Storage }),
      });
    }
    if (GPU_BENCH) {
      const g = convGeometry({ input: shape, kernel: [3, 3], outChannels: 32, padding: "same" });
      const step = await prismGradients(g.h, batch);
      Deno.bench({
        name: `prism webgpu gradients (dW, dBias, dX) small net ${tile}x${tile} batch ${batch}`,
        group: `small net gradients ${tile}x${tile} batch ${batch}`,
        n: QUICK ? 5 : 30,
        warmup: 2,
        fn: step,
      });
    }
  }
}
