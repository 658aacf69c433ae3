/**
 * A dense convolution's input gradient on WASM. For stride 2 it runs as the transposed
 * convolution it is, one stride-1 forward convolution per output phase
 * (`_conv_transpose_phases.ts`): the input-gradient pass walks every kernel tap for every input
 * pixel, and at stride 2 three taps in four fall between output pixels, so the phases are 2.5–4×
 * faster on the refiner's stride-2 layers. Other geometries keep the input-gradient pass.
 *
 * @module
 */

import type { ConvGeometry } from "../core/conv_geometry.ts";
import type { ConvWeights } from "../wasm/conv_weights.ts";
import type { WasmStorage } from "../wasm/storage.ts";
import {
  phasePlan,
  type TransposedShape,
  wasmTransposedByPhases,
} from "./_conv_transpose_phases.ts";
import { FAMILIES } from "./families.ts";

/**
 * dL/dinput of `conv2d` on WASM: `[n, h, w, c]` from `dy` `[n, oh, ow, oc]`.
 *
 * The gradient is the transposed convolution of `dy` with the forward's weights, their channel
 * axes swapped (`[kh, kw, oc, c]`), the forward's stride and its top/left padding, cropped or
 * extended to the input's size; so it needs a padding that is the same on both axes.
 *
 * @param g The forward's geometry.
 * @param operands `dy` (kernel-memory data is read in place), the forward's HWIO `weights`,
 *   and optionally `packed`, which gives the same weights packed for the input-gradient pass
 *   (called only when the phases do not apply).
 * @param run `operation` for messages, `signal`.
 * @returns The input gradient, new kernel-memory storage (free it).
 * @throws {TypeError} When a length disagrees with the geometry.
 * @throws {InvalidDataError} When `dy` or the weights hold NaN or infinity.
 * @throws {AbortedError} When `signal` aborts.
 * @example
 * ```ts
 * import { convGeometry } from "../core/conv_geometry.ts";
 * import { wasmConv2dInputGrad } from "./_conv_input_grad.ts";
 * import assert from "node:assert";
 * // k2 s2 "valid" on 2x2: each input pixel gets dy times its own weight.
 * const g = convGeometry({ input: [1, 2, 2, 1], kernel: [2, 2], outChannels: 1, stride: 2 });
 * using dx = await wasmConv2dInputGrad(g, { dy: new Float32Array([2]),
 *   weights: new Float32Array([1, 2, 3, 4]) }, { operation: "example" });
 * assert.deepStrictEqual([...dx.view()], [2, 4, 6, 8]);
 * ```
 */
export async function wasmConv2dInputGrad(
  g: ConvGeometry,
  operands: {
    dy: Float32Array;
    weights: Float32Array;
    packed?: () => Promise<Float32Array | ConvWeights>;
  },
  run: { operation: string; signal?: AbortSignal },
): Promise<WasmStorage> {
  if (g.stride > 1 && !g.depthwise && g.padTop === g.padLeft) {
    const shape: TransposedShape = {
      input: [g.n, g.oh, g.ow, g.oc],
      weights: [g.kh, g.kw, g.oc, g.c],
      stride: g.stride,
      padding: g.padTop,
      output: [g.n, g.h, g.w, g.c],
    };
    const plan = phasePlan(shape);
    if (plan !== undefined && operands.weights.length === g.kh * g.kw * g.c * g.oc) {
      return await wasmTransposedByPhases(plan, {
        input: operands.dy,
        weights: swapChannels(operands.weights, g.kh * g.kw, g.c, g.oc),
      }, { ...run, shape });
    }
  }
  const weights = operands.packed ? await operands.packed() : operands.weights;
  return await FAMILIES.conv2d.wasm.inputGrad(g, { dy: operands.dy, weights }, run);
}

/** `[taps, c, oc]` → `[taps, oc, c]`. */
function swapChannels(w: Float32Array, taps: number, c: number, oc: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let t = 0; t < taps; t++) {
    const base = t * c * oc;
    for (let i = 0; i < c; i++) {
      const row = base + i * oc;
      for (let o = 0; o < oc; o++) out[base + o * c + i] = w[row + o];
    }
  }
  return out;
}
