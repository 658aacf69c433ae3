/**
 * The `small` net's convolutions (6→32, 32→32, 32→6; 3×3, same padding, bias, ReLU between;
 * seeded weights from `_conv_small_net.ts`) on WASM at 256² (quick mode: 32²), batch 1 and 4,
 * against TensorFlow.js's WASM backend (XNNPACK) measured in the same run:
 *
 * - `forward <layer>` and `small net forward`: tfjs's fused conv2d + bias + ReLU is the
 *   baseline; prism runs `wasmConvForward` with packed weights on inputs already in kernel
 *   memory (layers chain there);
 * - `small net backward`: prism computes every gradient a training step needs (input, weights
 *   and bias of the three layers). tfjs's WASM backend has no weight gradient
 *   (`Conv2DBackpropFilter` is not registered), so its baseline is only the input gradients
 *   (`conv2dTranspose`, i.e. `Conv2DBackpropInput`, of the three layers): less work than
 *   prism's side, so the ratio understates prism.
 *
 * Before Deno's table, each case prints its median time, GFLOP/s (2 flops per multiply-add)
 * and the prism/tfjs time ratio. Name the CPU (`lscpu`) beside any figure quoted.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import { convGeometry } from "../core/conv_geometry.ts";
import {
  ConvWeights,
  wasmConvBackwardInput,
  wasmConvBackwardWeights,
  wasmConvForward,
} from "../wasm/conv.ts";
import { loadKernels } from "../wasm/loader.ts";
import { defaultPool } from "../wasm/pool.ts";
import { WasmStorage } from "../wasm/storage.ts";
import { randomF32 } from "../synth/uniform.ts";
import { QUICK, size } from "./_config.ts";
import { smallNetLayers } from "./_conv_small_net.ts";
import { tfjsReady } from "./_covariance_baselines.ts";
import { measure } from "../harness/timing.ts";

await tfjsReady();
const kernels = await loadKernels();
const pool = defaultPool();
const SIDE = size(256, 32);
const RUNS = QUICK ? 3 : 7;
const operation = "conv_wasm_bench";

/** Median milliseconds of `RUNS` calls after two warm-ups. */
async function medianMs(run: () => Promise<void> | void): Promise<number> {
  return (await measure(run, { warmup: 2, iterations: RUNS })).medianMs;
}

/** Times both sides, prints the line, registers the pair with Deno.bench. */
async function compare(
  group: string,
  flops: number,
  tfjs: { name: string; run: () => void },
  prism: () => Promise<void>,
): Promise<void> {
  const t = await medianMs(tfjs.run);
  const p = await medianMs(prism);
  const gf = (ms: number) => (flops / ms / 1e6).toFixed(1);
  console.log(
    `${group}: prism ${p.toFixed(1)} ms (${gf(p)} GFLOP/s), ${tfjs.name} ${t.toFixed(1)} ms ` +
      `(${gf(t)} GFLOP/s); prism/tfjs time ${(p / t).toFixed(2)}`,
  );
  const n = QUICK ? 3 : 5;
  Deno.bench({ name: tfjs.name, group, baseline: true, n, warmup: 1, fn: tfjs.run });
  Deno.bench({ name: "prism wasm", group, n, warmup: 1, fn: prism });
}

for (const batch of [1, 4]) {
  const layers = await Promise.all(
    smallNetLayers().map(async ({ c, oc, weights: { data: w }, bias: b, activation }, i) => {
      const g = convGeometry({
        input: [batch, SIDE, SIDE, c],
        kernel: [3, 3],
        outChannels: oc,
        padding: "same",
      });
      const x = randomF32(batch * SIDE * SIDE * c, 30 + i);
      return {
        g,
        w,
        b,
        activation,
        x: WasmStorage.from(kernels, x),
        dy: WasmStorage.from(kernels, randomF32(batch * SIDE * SIDE * g.oc, 40 + i)),
        forward: await ConvWeights.pack(g, w),
        transposed: await ConvWeights.pack(g, w, { transposed: true }),
        tf: {
          x: tf.tensor4d(x, [batch, SIDE, SIDE, c]),
          w: tf.tensor4d(w, [3, 3, c, g.oc]),
          b: tf.tensor1d(b),
          dy: tf.randomUniform([batch, SIDE, SIDE, g.oc]) as tf.Tensor4D,
        },
        flops: 2 * batch * SIDE * SIDE * 9 * c * g.oc,
      };
    }),
  );
  const where = `${SIDE}² batch ${batch}`;
  const tfForward = (l: (typeof layers)[number], x: tf.Tensor4D) =>
    tf.fused.conv2d({
      x,
      filter: l.tf.w,
      bias: l.tf.b,
      activation: l.activation === "relu" ? "relu" : "linear",
      strides: 1,
      pad: "same",
    });
  for (const l of layers) {
    await compare(
      `forward ${l.g.c}→${l.g.oc} ${where}`,
      l.flops,
      { name: "tfjs wasm fused conv+bias(+relu)", run: () => tfForward(l, l.tf.x).dispose() },
      async () => {
        const y = await wasmConvForward(l.g, { input: l.x.view(), weights: l.forward, bias: l.b }, {
          activation: l.activation,
          operation,
          pool,
        });
        y.free();
      },
    );
  }
  const netFlops = layers.reduce((s, l) => s + l.flops, 0);
  await compare(
    `small net forward ${where}`,
    netFlops,
    {
      name: "tfjs wasm fused conv+bias+relu ×3",
      run: () => tf.tidy(() => void layers.reduce((x, l) => tfForward(l, x), layers[0].tf.x)),
    },
    async () => {
      let x = layers[0].x;
      for (const l of layers) {
        const y = await wasmConvForward(l.g, { input: x.view(), weights: l.forward, bias: l.b }, {
          activation: l.activation,
          operation,
          pool,
        });
        if (x !== layers[0].x) x.free();
        x = y;
      }
      x.free();
    },
  );
  await compare(
    `small net backward ${where}`,
    2 * netFlops,
    {
      name: "tfjs wasm input gradients only (conv2dTranspose ×3)",
      run: () =>
        tf.tidy(() => {
          for (const l of layers) tf.conv2dTranspose(l.tf.dy, l.tf.w, l.tf.x.shape, 1, "same");
        }),
    },
    async () => {
      for (const l of layers) {
        const dx = await wasmConvBackwardInput(l.g, { dy: l.dy.view(), weights: l.transposed }, {
          operation,
          pool,
        });
        dx.free();
        const grads = await wasmConvBackwardWeights(l.g, { input: l.x.view(), dy: l.dy.view() }, {
          operation,
          pool,
        });
        grads[Symbol.dispose]();
      }
    },
  );
}
