/**
 * The geometry of a 2-D convolution over NHWC images with HWIO weights: padding rules, output
 * size, and the checks every backend shares, so WASM, WebGPU and the float64 reference agree
 * on where each output pixel reads.
 *
 * @module
 */

import { checkInteger } from "./validate.ts";

/**
 * How a convolution pads its input: `"valid"` (none), `"same"` (TensorFlow's rule: output
 * `⌈in / stride⌉`, total padding `max((out − 1)·stride + k − in, 0)`, the odd pixel at the
 * bottom/right), or explicit `[top, bottom, left, right]` (PyTorch's `padding=p` is
 * `[p, p, p, p]`).
 */
export type Padding = "valid" | "same" | readonly [number, number, number, number];

/** What a convolution call describes, before the geometry is resolved. */
export interface ConvSpec {
  /** Input `[batch, height, width, channels]` (NHWC). */
  readonly input: readonly [number, number, number, number];
  /** Kernel height and width. */
  readonly kernel: readonly [number, number];
  /** Output channels (for depthwise: equal to the input channels). */
  readonly outChannels: number;
  /** 1 or 2 (both axes); default 1. */
  readonly stride?: number;
  /** Default `"valid"`. */
  readonly padding?: Padding;
  /** 1 (dense) or the input channel count (depthwise); default 1. */
  readonly groups?: number;
}

/** A resolved convolution: every size an implementation needs. */
export interface ConvGeometry {
  /** Batch. */
  readonly n: number;
  /** Input height, width, channels. */
  readonly h: number;
  readonly w: number;
  readonly c: number;
  /** Kernel height and width. */
  readonly kh: number;
  readonly kw: number;
  /** Output height, width, channels. */
  readonly oh: number;
  readonly ow: number;
  readonly oc: number;
  /** Stride on both axes. */
  readonly stride: number;
  /** Padding before the first row / column (bottom and right follow from the output size). */
  readonly padTop: number;
  readonly padLeft: number;
  readonly padBottom: number;
  readonly padRight: number;
  /** True for a depthwise convolution (`groups === c`, weights `[kh, kw, c, 1]`). */
  readonly depthwise: boolean;
}

/**
 * Resolves a convolution's geometry and checks it.
 *
 * @param spec Input shape, kernel, output channels, stride, padding, groups.
 * @returns The geometry.
 * @throws {TypeError} When a size is not a whole number, or `groups` is neither 1 nor the input
 *   channel count, or a depthwise call asks for other than `c` output channels.
 * @throws {RangeError} When stride is not 1 or 2, a padding is negative, or the kernel does not
 *   fit the padded input (the output would be empty).
 * @example
 * ```ts
 * import { convGeometry } from "./conv_geometry.ts";
 * import assert from "node:assert";
 * const g = convGeometry({ input: [1, 5, 5, 3], kernel: [3, 3], outChannels: 8, stride: 2,
 *   padding: "same" });
 * assert(g.oh === 3 && g.ow === 3 && g.padTop === 1 && g.padBottom === 1);
 * const e = convGeometry({ input: [1, 6, 6, 1], kernel: [3, 3], outChannels: 1, stride: 2,
 *   padding: "same" });
 * assert(e.oh === 3 && e.padTop === 0 && e.padBottom === 1); // the odd pixel at the bottom
 * ```
 */
export function convGeometry(spec: ConvSpec): ConvGeometry {
  const [n, h, w, c] = spec.input.map((v, i) => checkInteger(`input shape[${i}]`, v));
  const [kh, kw] = spec.kernel.map((v, i) => checkInteger(`kernel[${i}]`, v, 1));
  const oc = checkInteger("outChannels", spec.outChannels, 1);
  const stride = spec.stride ?? 1;
  if (stride !== 1 && stride !== 2) {
    throw new RangeError(`stride must be 1 or 2, got ${stride}`);
  }
  const groups = spec.groups ?? 1;
  const depthwise = groups !== 1;
  if (groups !== 1 && groups !== c) {
    throw new TypeError(
      `groups must be 1 (dense) or the input channel count ${c} (depthwise), got ${groups}`,
    );
  }
  if (depthwise && oc !== c) {
    throw new TypeError(
      `a depthwise convolution keeps the channel count: outChannels must be ${c}, got ${oc}`,
    );
  }
  const pad = resolvePadding(spec.padding ?? "valid", { h, w, kh, kw, stride });
  const oh = Math.floor((h + pad[0] + pad[1] - kh) / stride) + 1;
  const ow = Math.floor((w + pad[2] + pad[3] - kw) / stride) + 1;
  if (oh < 1 || ow < 1) {
    throw new RangeError(
      `a ${kh}x${kw} kernel does not fit a ${h}x${w} input with padding ` +
        `[${pad.join(", ")}]: pad the input or use a smaller kernel`,
    );
  }
  return {
    n,
    h,
    w,
    c,
    kh,
    kw,
    oh,
    ow,
    oc,
    stride,
    padTop: pad[0],
    padBottom: pad[1],
    padLeft: pad[2],
    padRight: pad[3],
    depthwise,
  };
}

/** `[top, bottom, left, right]` for a padding rule. */
function resolvePadding(
  padding: Padding,
  s: { h: number; w: number; kh: number; kw: number; stride: number },
): [number, number, number, number] {
  if (padding === "valid") return [0, 0, 0, 0];
  if (padding === "same") {
    const [top, bottom] = samePadding(s.h, s.kh, s.stride);
    const [left, right] = samePadding(s.w, s.kw, s.stride);
    return [top, bottom, left, right];
  }
  if (!Array.isArray(padding) || padding.length !== 4) {
    throw new TypeError(
      `padding must be "valid", "same" or [top, bottom, left, right], got ` +
        JSON.stringify(padding),
    );
  }
  const names = ["top", "bottom", "left", "right"];
  return padding.map((p, i) => checkInteger(`padding ${names[i]}`, p, 0)) as [
    number,
    number,
    number,
    number,
  ];
}

/** TensorFlow's "same": output ⌈in/stride⌉, the odd padding pixel after. */
function samePadding(size: number, k: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + k - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}
