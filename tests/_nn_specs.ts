/**
 * Spec pieces the network tests build on: a conv2d layer with every field, to vary.
 */

import type { ConvLayerSpec, ConvNetSpec, LayerSpec } from "../nn/spec.ts";

/**
 * A 3×3 "same" conv2d layer with bias, no norm, no activation; `over` replaces fields.
 *
 * @param name The layer's name.
 * @param inC Input channels.
 * @param outC Output channels.
 * @param over Fields to replace (anything, to build invalid layers too).
 * @returns The layer.
 */
export function convSpec(
  name: string,
  inC: number,
  outC: number,
  over: Partial<Record<keyof ConvLayerSpec, unknown>> & Record<string, unknown> = {},
): ConvLayerSpec {
  return {
    type: "conv2d",
    name,
    inChannels: inC,
    outChannels: outC,
    kernel: [3, 3],
    stride: 1,
    padding: [1, 1, 1, 1],
    groups: 1,
    bias: true,
    norm: null,
    activation: "none",
    ...over,
  } as ConvLayerSpec;
}

/**
 * A spec of `layers` taking `channels` input channels; `over` replaces top-level fields.
 *
 * @param channels Input channels.
 * @param layers The layers.
 * @param over Fields to replace.
 * @returns The spec (unchecked).
 */
export function netSpec(
  channels: number,
  layers: unknown[],
  over: Record<string, unknown> = {},
): ConvNetSpec {
  return {
    format: "prism-convnet",
    version: 1,
    name: "t",
    input: { channels },
    layers: layers as LayerSpec[],
    ...over,
  } as ConvNetSpec;
}
