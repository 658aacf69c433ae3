/**
 * The tour's convolution step: the `small` network's layers (6 → 32 → 32 → 6, 3×3, same padding,
 * ReLU between) over one synthetic image, as device tensors that stay on the backend from input
 * to output, on every backend the tour runs, with the agreement between them.
 *
 * @module
 */

import { writeNpy } from "../io/npy.ts";
import { conv2d } from "../ops/conv2d.ts";
import { Rng } from "../synth/rng.ts";
import { toDevice } from "../tensor/device_tensor.ts";
import type { TourContext, TourLine } from "./_tour_types.ts";

const SIDE = 128;
const CHANNELS = [6, 32, 32, 6] as const;

/** Seeded weights for the three layers, scaled so activations stay of order one. */
function smallNetWeights(seed: number) {
  const rng = new Rng(seed);
  return CHANNELS.slice(1).map((out, i) => {
    const inC = CHANNELS[i];
    const scale = Math.sqrt(2 / (9 * inC));
    return {
      weights: {
        data: Float32Array.from({ length: 9 * inC * out }, () => rng.normal() * scale),
        shape: [3, 3, inC, out],
      },
      bias: Float32Array.from({ length: out }, () => 0.01 * rng.normal()),
    };
  });
}

/**
 * Runs the `small` network forward on a 128 × 128 × 6 image on each backend of the tour.
 *
 * @param ctx The tour's context.
 * @returns One line per backend.
 */
export async function convStep(ctx: TourContext): Promise<TourLine[]> {
  const rng = new Rng(11);
  const image = Float32Array.from({ length: SIDE * SIDE * CHANNELS[0] }, () => rng.normal());
  const layers = smallNetWeights(5);
  const lines: TourLine[] = [];
  let first: Float32Array | undefined;
  for (const backend of ctx.backends) {
    const t0 = performance.now();
    using x = await toDevice(image, { shape: [1, SIDE, SIDE, CHANNELS[0]], backend });
    using h1 = await conv2d(x, layers[0].weights, {
      padding: "same",
      bias: layers[0].bias,
      activation: "relu",
    });
    using h2 = await conv2d(h1, layers[1].weights, {
      padding: "same",
      bias: layers[1].bias,
      activation: "relu",
    });
    using y = await conv2d(h2, layers[2].weights, { padding: "same", bias: layers[2].bias });
    const out = await y.read(); // the only read-back: the layers stayed on the device
    const ms = performance.now() - t0;
    const file = `${ctx.outDir}/small_net_${backend}.npy`;
    await writeNpy(file, { data: out, shape: [1, SIDE, SIDE, CHANNELS[3]] });
    first ??= out;
    const agreement = first === out
      ? ""
      : `; max |Δ| vs wasm ${maxDiff(out, first).toExponential(1)}`;
    lines.push({
      title: `conv2d small net ${SIDE}² (3 layers)`,
      backend,
      ms,
      detail: `${(2 * flops() / ms / 1e6).toFixed(2)} GFLOP/s; output mean ` +
        `${(out.reduce((s, v) => s + v, 0) / out.length).toFixed(4)}${agreement}`,
      files: [file],
    });
  }
  return lines;
}

/** Multiply-adds of one forward pass. */
function flops(): number {
  let n = 0;
  for (let i = 1; i < CHANNELS.length; i++) n += SIDE * SIDE * 9 * CHANNELS[i - 1] * CHANNELS[i];
  return n;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
