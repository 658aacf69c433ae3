/**
 * The memory bound of issue 8 for a network's inference, computed from its spec: twice the
 * activations of its two largest consecutive layers plus the weights. "Two consecutive layers"
 * is a layer's input and output (the input image counts as the first activation), the pair that
 * must coexist while the layer runs; float32 throughout.
 *
 * @module
 */

import type { ConvNetSpec, LayerSpec } from "../nn/spec.ts";

/** One activation of the walk: the layer that made it (or `"input"`) and its size. */
export interface Activation {
  /** Dotted layer path, or `"input"`. */
  readonly layer: string;
  /** NHWC shape. */
  readonly shape: readonly number[];
  /** float32 bytes. */
  readonly bytes: number;
}

/** What {@linkcode memoryBound} returns. */
export interface MemoryBound {
  /** Every activation in order, the input first (a residual block's inner layers inline). */
  readonly activations: Activation[];
  /** The largest input + output pair: the layer's name and their summed bytes. */
  readonly largestPair: { readonly layer: string; readonly bytes: number };
  /** Trainable parameters × 4 bytes (the spec's parameter count). */
  readonly weightBytes: number;
  /** 2 × largestPair.bytes + weightBytes. */
  readonly bound: number;
}

/**
 * Walks a spec's layers from an input shape and computes the bound.
 *
 * @param spec A validated spec (`builtinSpec`, `parseSpec`).
 * @param input `[n, h, w, c]`.
 * @param parameterCount The trainable parameters (`ConvNet.parameterCount`).
 * @returns The activations, the largest consecutive pair, and the bound in bytes.
 * @throws {TypeError} When a layer type is unknown.
 * @example
 * ```ts
 * import { builtinSpec } from "../nn/spec.ts";
 * import { memoryBound } from "./_memory_bound.ts";
 * import assert from "node:assert";
 * const b = memoryBound(builtinSpec("small"), [1, 8, 8, 6], 12742);
 * assert(b.largestPair.bytes === 4 * 64 * (32 + 32) && b.weightBytes === 4 * 12742);
 * // The refiner at 384² batch 4: the encoder's 192² × 64 output and block1_down's 96² × 128.
 * const r = memoryBound(builtinSpec("refiner"), [4, 384, 384, 4], 6_600_532);
 * assert(r.largestPair.layer === "block1_down" && r.largestPair.bytes === 56_623_104);
 * assert(r.activations.at(-1)!.shape.join() === "4,96,96,4");
 * ```
 */
export function memoryBound(
  spec: ConvNetSpec,
  input: readonly number[],
  parameterCount: number,
): MemoryBound {
  const bytes = (s: readonly number[]) => 4 * s.reduce((a, b) => a * b, 1);
  const activations: Activation[] = [{ layer: "input", shape: input, bytes: bytes(input) }];
  const walk = (layers: readonly LayerSpec[], prefix: string, shape: readonly number[]) => {
    for (const l of layers) {
      const path = `${prefix}${l.name}`;
      if (l.type === "residual") {
        shape = walk(l.layers, `${path}.`, shape);
        continue;
      }
      shape = outputShape(l, shape);
      activations.push({ layer: path, shape, bytes: bytes(shape) });
    }
    return shape;
  };
  walk(spec.layers, "", input);
  let largestPair = { layer: "", bytes: 0 };
  for (let i = 1; i < activations.length; i++) {
    const sum = activations[i - 1].bytes + activations[i].bytes;
    if (sum > largestPair.bytes) largestPair = { layer: activations[i].layer, bytes: sum };
  }
  const weightBytes = 4 * parameterCount;
  return { activations, largestPair, weightBytes, bound: 2 * largestPair.bytes + weightBytes };
}

/** A non-residual layer's output shape (the spec is validated: shapes fit). */
function outputShape(l: LayerSpec, [n, h, w, c]: readonly number[]): number[] {
  if (l.type === "upsample") return [n, h * l.scale, w * l.scale, c];
  if (l.type === "conv_transpose2d") {
    const p = l.padding[0], [kh, kw] = l.kernel;
    return [n, (h - 1) * l.stride - 2 * p + kh, (w - 1) * l.stride - 2 * p + kw, l.outChannels];
  }
  if (l.type === "conv2d") {
    const [pt, pb, pl, pr] = l.padding, [kh, kw] = l.kernel;
    return [
      n,
      Math.floor((h + pt + pb - kh) / l.stride) + 1,
      Math.floor((w + pl + pr - kw) / l.stride) + 1,
      l.outChannels,
    ];
  }
  throw new TypeError(`memoryBound(): unknown layer type ${(l as { type: string }).type}`);
}
