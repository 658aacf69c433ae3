/**
 * Shared pieces of the WASM convolution tests: the odd geometries every kernel is held to, the
 * activations in float64, and a seeded operand set per geometry.
 *
 * @module
 */

import { convGeometry, type ConvSpec } from "../core/conv_geometry.ts";
import type { ConvGeometry } from "../core/conv_geometry.ts";
import { randomF32 } from "../synth/uniform.ts";
import { erf } from "../nn/_reference.ts";

/** A named geometry. */
export interface ConvCase {
  readonly name: string;
  readonly g: ConvGeometry;
}

function make(name: string, spec: ConvSpec): ConvCase {
  return { name, g: convGeometry(spec) };
}

/** Dense geometries: 1×1 images, 7×7 on 5×5, stride 2 on odd sizes, asymmetric padding, batch 3. */
export const DENSE_CASES: ConvCase[] = [
  make("1x1 image, 3x3 same, 3->13", {
    input: [1, 1, 1, 3],
    kernel: [3, 3],
    outChannels: 13,
    padding: "same",
  }),
  make("7x7 kernel on 5x5, same, 1->1", {
    input: [1, 5, 5, 1],
    kernel: [7, 7],
    outChannels: 1,
    padding: "same",
  }),
  make("stride 2 on 7x9, 3x3 same, 13->5, batch 3", {
    input: [3, 7, 9, 13],
    kernel: [3, 3],
    outChannels: 5,
    stride: 2,
    padding: "same",
  }),
  make("asymmetric [0, 2, 1, 0], 2x3 kernel, 3->17, batch 3", {
    input: [3, 6, 5, 3],
    kernel: [2, 3],
    outChannels: 17,
    padding: [0, 2, 1, 0],
  }),
  make("5x5 stride 2 valid on 11x13, 7->9", {
    input: [2, 11, 13, 7],
    kernel: [5, 5],
    outChannels: 9,
    stride: 2,
  }),
  make("1x1 stride 1, 13->31 (a dense layer), batch 3", {
    input: [3, 4, 5, 13],
    kernel: [1, 1],
    outChannels: 31,
  }),
  make("1x1 stride 2 on 5x5, 8->8", {
    input: [1, 5, 5, 8],
    kernel: [1, 1],
    outChannels: 8,
    stride: 2,
  }),
];

/** Depthwise geometries over the same odd sizes. */
export const DEPTHWISE_CASES: ConvCase[] = [
  make("depthwise 7x7 on 5x5, c 13", {
    input: [1, 5, 5, 13],
    kernel: [7, 7],
    outChannels: 13,
    groups: 13,
    padding: "same",
  }),
  make("depthwise stride 2 on 9x7, c 3, batch 3", {
    input: [3, 9, 7, 3],
    kernel: [3, 3],
    outChannels: 3,
    groups: 3,
    stride: 2,
    padding: "same",
  }),
  make("depthwise 1x1 image, c 1", {
    input: [1, 1, 1, 1],
    kernel: [3, 3],
    outChannels: 1,
    groups: 1,
    padding: "same",
  }),
  make("depthwise asymmetric [2, 0, 0, 1], c 8", {
    input: [2, 4, 6, 8],
    kernel: [3, 2],
    outChannels: 8,
    groups: 8,
    padding: [2, 0, 0, 1],
  }),
];

/** Seeded input, weights, bias and output gradient for a geometry. */
export function operands(g: ConvGeometry, seed: number) {
  const wLength = g.kh * g.kw * g.c * (g.depthwise ? 1 : g.oc);
  return {
    input: randomF32(g.n * g.h * g.w * g.c, seed),
    weights: randomF32(wLength, seed + 1, { lo: -0.5, hi: 0.5 }),
    bias: randomF32(g.oc, seed + 2),
    dy: randomF32(g.n * g.oh * g.ow * g.oc, seed + 3),
  };
}

/** Applies an activation to float64 values in place. */
export function activate64(values: Float64Array, act: "none" | "relu" | "gelu"): Float64Array {
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (act === "relu") values[i] = Math.max(x, 0);
    if (act === "gelu") values[i] = 0.5 * x * (1 + erf(x / Math.SQRT2));
  }
  return values;
}
