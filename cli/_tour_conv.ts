/**
 * The tour's convolution steps, on the built-in networks of `nn/specs/`: the `small` network
 * (6 → 32 → 32 → 6, 3×3, ReLU between) forward on every backend the tour runs; a few training
 * steps with its weights saved as HDF5; a tiled run over an image larger than a tile on every
 * backend, checked against the whole-image pass; and the `refiner` forward.
 *
 * @module
 */

import { writeNpy } from "../io/npy.ts";
import { ConvNet } from "../nn/convnet.ts";
import { runTiled } from "../nn/tiled.ts";
import { Rng } from "../synth/rng.ts";
import { toDevice } from "../tensor/device_tensor.ts";
import type { TourContext, TourLine } from "./_tour_types.ts";
import { profiled } from "../harness/memory.ts";

const SIDE = 128;
const SEED = 5;

/** A seeded `[n, h, w, c]` image of standard normal values. */
function image(seed: number, shape: readonly number[]): { data: Float32Array; shape: number[] } {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: n }, () => rng.normal()), shape: [...shape] };
}

/**
 * Runs the `small` network forward on a 128 × 128 × 6 image on each backend of the tour.
 *
 * @param ctx The tour's context.
 * @returns One line per backend.
 */
export async function convStep(ctx: TourContext): Promise<TourLine[]> {
  using net = await ConvNet.fromSpec("small", { seed: SEED });
  const x = image(11, [1, SIDE, SIDE, net.inputChannels]);
  const lines: TourLine[] = [];
  for (const backend of ctx.backends) {
    const { value: out, ms, peakRssBytes } = await profiled(async () => {
      using input = await toDevice(x.data, { shape: x.shape, backend });
      using y = await net.forward(input, { backend });
      return await y.read(); // the only read-back: the layers stayed on the device
    });
    const file = `${ctx.outDir}/small_net_${backend}.npy`;
    await writeNpy(file, { data: out, shape: [1, SIDE, SIDE, net.outputChannels] });
    lines.push({
      title: `ConvNet small ${SIDE}² forward (${net.parameterCount} parameters)`,
      backend,
      ms,
      peakRssBytes,
      work: { amount: 2 * multiplyAdds(net, SIDE), unit: "FLOP" },
      result: out,
      detail: `output mean ${mean(out).toFixed(4)}`,
      files: [file],
    });
  }
  return lines;
}

/**
 * Trains the `small` network a few Adam steps (MSE towards a smoothed copy of the input) on WASM
 * and saves its weights as HDF5 (h5py reads it; the PyTorch twin loads it).
 *
 * @param ctx The tour's context.
 * @returns One line.
 */
export async function convTrainStep(ctx: TourContext): Promise<TourLine[]> {
  const side = 64;
  using net = await ConvNet.fromSpec("small", { seed: SEED });
  const x = image(12, [1, side, side, net.inputChannels]);
  const target = { data: x.data.map((v) => 0.5 * v), shape: x.shape };
  const steps = 5;
  const losses: number[] = [];
  const { ms, peakRssBytes } = await profiled(async () => {
    for (let i = 0; i < steps; i++) {
      losses.push((await net.trainStep(x, target, { loss: "mse", backend: "wasm" })).loss);
    }
  });
  const file = `${ctx.outDir}/small_net_weights.h5`;
  await net.save(file);
  return [{
    title: `ConvNet small train ${side}², ${steps} Adam steps`,
    backend: "wasm",
    ms,
    peakRssBytes,
    work: { amount: steps, unit: "steps" },
    detail: `MSE ${losses[0].toFixed(4)} → ${losses[steps - 1].toFixed(4)}; ` +
      `${(ms / steps).toFixed(1)} ms/step`,
    files: [file],
  }];
}

/**
 * Runs the `small` network tiled over a 300 × 420 image (tiles of 128, the halo covering the
 * receptive field) on each backend of the tour, and compares the stitched output with one
 * whole-image pass; then the `refiner` forward on one tile.
 *
 * @param ctx The tour's context.
 * @returns One line per backend, and the refiner's.
 */
export async function convTiledStep(ctx: TourContext): Promise<TourLine[]> {
  const [h, w] = [300, 420];
  using net = await ConvNet.fromSpec("small", { seed: SEED });
  const x = image(13, [h, w, net.inputChannels]);
  using whole = await net.forward({ data: x.data, shape: [1, h, w, net.inputChannels] }, {
    backend: "wasm",
  });
  const reference = await whole.read();
  const lines: TourLine[] = [];
  for (const backend of ctx.backends) {
    const { value: tiled, ms, peakRssBytes } = await profiled(() =>
      runTiled(net, x, { tileSize: 128, batchSize: 2, backend })
    );
    const file = `${ctx.outDir}/small_net_tiled_${backend}.npy`;
    await writeNpy(file, tiled!);
    lines.push({
      title: `runTiled small ${h}×${w}, tiles 128, batch 2`,
      backend,
      ms,
      peakRssBytes,
      work: { amount: h * w, unit: "px" },
      result: tiled!.data,
      detail: `max |tiled − whole-image wasm| ${maxDiff(tiled!.data, reference).toExponential(1)}`,
      files: [file],
    });
  }

  using refiner = await ConvNet.fromSpec("refiner", { seed: SEED });
  const input = image(14, [1, SIDE, SIDE, refiner.inputChannels]);
  const { value: shape, ms, peakRssBytes } = await profiled(async () => {
    using y = await refiner.forward(input, { backend: "wasm" });
    return y.shape;
  });
  lines.push({
    title: `ConvNet refiner ${SIDE}² forward`,
    backend: "wasm",
    ms,
    peakRssBytes,
    work: { amount: SIDE * SIDE, unit: "px" },
    detail: `${refiner.parameterCount.toLocaleString("en-US")} parameters ` +
      `(${refiner.sizeMB.toFixed(2)} MB); output [${shape.join(", ")}]`,
  });
  return lines;
}

/** Multiply-adds of one forward pass of a same-size network of 3×3 convolutions. */
function multiplyAdds(net: ConvNet, side: number): number {
  let n = 0;
  for (const [name, p] of net.parameters()) {
    if (name.endsWith(".weight") && p.shape.length === 4) n += side * side * p.data.length;
  }
  return n;
}

function mean(a: Float32Array): number {
  return a.reduce((s, v) => s + v, 0) / a.length;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
