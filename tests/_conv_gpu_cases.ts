/**
 * Cases and float64 helpers for the GPU convolution tests: the geometries every program is held
 * to (odd sizes, 1×1 images, 7×7 kernels on 5×5 inputs, channel counts 1, 3, 13, stride 2 on
 * odd inputs, asymmetric padding, batch 2), an exact-enough erf for GELU, and f16 rounding.
 *
 * @module
 */

import type { ConvSpec, Padding } from "../core/conv_geometry.ts";
import type { ConvPrecision } from "../gpu/conv.ts";
import { erf } from "../nn/_reference.ts";

/** Tolerances against the float64 reference, relative to the largest value. */
export const TOLERANCE: Readonly<Record<ConvPrecision, number>> = { f32: 1e-4, f16: 2e-2 };

/** A precision, and for f16 how the shaders store it. */
export interface GpuConvMode {
  readonly precision: ConvPrecision;
  readonly f16Storage?: "native" | "packed";
}

/**
 * The modes the GPU tests run: f32, packed f16, and native f16 where the adapter has
 * `shader-f16`.
 *
 * @param nativeF16 Whether the adapter has `shader-f16`.
 * @returns The modes with their test labels.
 */
export function gpuConvModes(nativeF16: boolean): { mode: GpuConvMode; label: string }[] {
  const modes: GpuConvMode[] = [
    { precision: "f32" },
    { precision: "f16", f16Storage: "packed" },
    ...(nativeF16 ? [{ precision: "f16", f16Storage: "native" } as const] : []),
  ];
  return modes.map((mode) => ({
    mode,
    label: `${mode.precision}${mode.f16Storage ? ` ${mode.f16Storage}` : ""}`,
  }));
}

/** A case: the convolution spec and a name for failures. */
export interface ConvCase extends ConvSpec {
  readonly name: string;
}

const dense = (
  name: string,
  input: [number, number, number, number],
  kernel: number,
  outChannels: number,
  stride: number,
  padding: Padding,
): ConvCase => ({ name, input, kernel: [kernel, kernel], outChannels, stride, padding });

/** Dense cases; together they cover every listed odd size. */
export const DENSE_CASES: readonly ConvCase[] = [
  dense("1x1 image, 3x3 same, c 3 -> 5", [1, 1, 1, 3], 3, 5, 1, "same"),
  dense("7x7 kernel on 5x5, same, c 1 -> 3", [1, 5, 5, 1], 7, 3, 1, "same"),
  dense("batch 2, 9x9, 3x3 valid, c 13 -> 37", [2, 9, 9, 13], 3, 37, 1, "valid"),
  dense("stride 2 on 7x9, 3x3 same, c 3 -> 13", [2, 7, 9, 3], 3, 13, 2, "same"),
  dense("stride 2 on 9x9, 5x5 valid, c 13 -> 2", [1, 9, 9, 13], 5, 2, 2, "valid"),
  dense("asymmetric padding [0, 2, 1, 0], c 3 -> 7", [2, 6, 5, 3], 3, 7, 1, [0, 2, 1, 0]),
  dense("1x1 stride 1 (matmul), c 13 -> 7", [2, 5, 7, 13], 1, 7, 1, "valid"),
  dense("1x1 stride 2, c 3 -> 3", [1, 5, 5, 3], 1, 3, 2, "valid"),
  dense("k4 s2 p1, c 8 -> 4", [1, 8, 6, 8], 4, 4, 2, [1, 1, 1, 1]),
  // Channels in and out multiples of 4: the forward's vector loads, over several tiles.
  dense("batch 2, 7x7, 3x3 same, c 16 -> 36", [2, 7, 7, 16], 3, 36, 1, "same"),
  dense("stride 2 on 9x7, 5x5 same, c 4 -> 8", [1, 9, 7, 4], 5, 8, 2, "same"),
];

const depthwise = (
  name: string,
  input: [number, number, number, number],
  kernel: number,
  stride: number,
  padding: Padding,
): ConvCase => ({
  name,
  input,
  kernel: [kernel, kernel],
  outChannels: input[3],
  stride,
  padding,
  groups: input[3],
});

/** Depthwise cases. */
export const DEPTHWISE_CASES: readonly ConvCase[] = [
  depthwise("depthwise 1x1 image, 3x3 same, c 3", [1, 1, 1, 3], 3, 1, "same"),
  depthwise("depthwise 7x7 on 5x5 same, c 13, batch 2", [2, 5, 5, 13], 7, 1, "same"),
  depthwise("depthwise stride 2 on 9x7, 3x3 same, c 3", [2, 9, 7, 3], 3, 2, "same"),
  depthwise("depthwise asymmetric [2, 0, 0, 1], c 5", [1, 6, 6, 5], 3, 1, [2, 0, 0, 1]),
];

/** erf in float64 (about 1e-15): the network reference's, independent of the kernels' forms. */
export { erf };

/**
 * An activation in float64.
 *
 * @param v The pre-activation.
 * @param activation `none`, `relu` or `gelu` (exact erf form).
 * @returns The value.
 */
export function activateF64(v: number, activation: "none" | "relu" | "gelu"): number {
  if (activation === "relu") return Math.max(v, 0);
  if (activation === "gelu") return 0.5 * v * (1 + erf(v / Math.SQRT2));
  return v;
}

/**
 * Values rounded to f16, as f32 (what an f16 convolution actually multiplies).
 *
 * @param data The values.
 * @returns A new array.
 */
export function roundF16(data: Float32Array): Float32Array<ArrayBuffer> {
  return Float32Array.from(Float16Array.from(data));
}
