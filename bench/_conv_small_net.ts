/**
 * The `small` net of `nn/specs/small.json` (6→32→32→6, 3×3, same padding, bias, ReLU between)
 * with seeded weights, for the convolution benchmarks: `conv_wasm_bench.ts` and
 * `conv_report.ts` time the same layers.
 *
 * @module
 */

import spec from "../nn/specs/small.json" with { type: "json" };
import { conv2d } from "../ops/conv2d.ts";
import type { DeviceTensor } from "../tensor/device_tensor.ts";
import { randomF32 } from "../synth/uniform.ts";

/** One layer: HWIO weights, bias and activation. */
export interface SmallLayer {
  /** Input and output channels. */
  c: number;
  oc: number;
  /** `[3, 3, c, oc]`, uniform in ±0.2 (seed 10 + layer). */
  weights: { data: Float32Array; shape: number[] };
  /** `oc` values, uniform in ±0.1 (seed 20 + layer). */
  bias: Float32Array;
  activation: "relu" | "none";
}

/** The spec's layers with seeded weights (the same on every call). */
export function smallNetLayers(): SmallLayer[] {
  return spec.layers.map((l, i) => {
    const [c, oc] = [l.inChannels, l.outChannels];
    return {
      c,
      oc,
      weights: { data: randomF32(9 * c * oc, 10 + i, { lo: -0.2, hi: 0.2 }), shape: [3, 3, c, oc] },
      bias: randomF32(oc, 20 + i, { lo: -0.1, hi: 0.1 }),
      activation: l.activation === "relu" ? "relu" : "none",
    };
  });
}

/**
 * The forward pass through the public `conv2d()`, layer by layer on one backend; the
 * intermediates are disposed, the output is the caller's.
 */
export async function smallNetForward(
  x: DeviceTensor,
  layers: SmallLayer[],
  backend: "wasm" | "webgpu",
): Promise<DeviceTensor> {
  let h = x;
  for (const l of layers) {
    const y = await conv2d(h, l.weights, {
      bias: l.bias,
      padding: "same",
      activation: l.activation,
      backend,
    });
    if (h !== x) h.dispose();
    h = y;
  }
  return h;
}
