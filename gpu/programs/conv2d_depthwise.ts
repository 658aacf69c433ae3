/**
 * Depthwise 2-D convolution (weights `[kh, kw, c, 1]`), one pass each, no GEMM: every output
 * channel reads one input channel, so there is nothing to share across a tile.
 *
 * - `forward`: a thread per output value, its taps summed in f32, bias and activation fused.
 * - `input_grad`: a thread per input value, gathering the dY values whose windows cover it.
 * - `weight_grad`: a thread per (tap, channel), plus one extra tap of ones for the bias, summing
 *   dY·x over a split of the output pixels into an f32 partial; the column-sums program adds
 *   the splits (WGSL has no float atomics).
 *
 * @module
 */

import type { ConvGeometry } from "../../core/conv_geometry.ts";
import type { GpuProgram, OverrideValues } from "../types.ts";
import { linearEntry } from "./_entry.ts";
import {
  ACTIVATION_CODES,
  type ConvActivation,
  type ConvMode,
  type ConvPrecision,
  convProgram,
  type ConvShapesBase,
  type F16Storage,
} from "./conv2d_common.ts";

/** Which pass; see the module docs. */
export type DepthwiseMode = ConvMode;

/** Threads per workgroup of every depthwise pass. */
export const DEPTHWISE_THREADS = 64;

/** The override values of every depthwise pass. */
export const DEPTHWISE_OVERRIDES: OverrideValues = { THREADS: DEPTHWISE_THREADS };

/** The sizes of one depthwise run. */
export interface DepthwiseShapes extends ConvShapesBase {
  /** `weight_grad`: parts the output pixels are split into (default 1). */
  readonly splits?: number;
  /** `forward`: the fused activation (default none). */
  readonly activation?: ConvActivation;
  /** `forward`: a bias is bound. */
  readonly hasBias?: boolean;
}

const BODIES: Record<DepthwiseMode, string> = {
  forward: `
${linearEntry("THREADS")}
  let e = group * THREADS + local.x;
  if (e >= params.rows) {
    return;
  }
  let ch = e % params.c;
  let p = unravel(e / params.c, params.oh, params.ow);
  var acc = 0.0;
  for (var tap = 0u; tap < params.kh * params.kw; tap++) {
    let i = input_index(p.x, p.y, p.z, tap, ch);
    if (i >= 0) {
      acc += read_x(u32(i)) * read_w(tap * params.c + ch);
    }
  }
  if (params.has_bias == 1u) {
    acc += bias[ch];
  }
  store_y(e, activate(acc));
}
`,
  input_grad: `
${linearEntry("THREADS")}
  let e = group * THREADS + local.x;
  if (e >= params.rows) {
    return;
  }
  let ch = e % params.c;
  let p = unravel(e / params.c, params.h, params.w);
  var acc = 0.0;
  for (var tap = 0u; tap < params.kh * params.kw; tap++) {
    let i = output_index(p.x, p.y, p.z, tap, ch);
    if (i >= 0) {
      acc += read_dy(u32(i)) * read_w(tap * params.c + ch);
    }
  }
  store_dx(e, acc);
}
`,
  weight_grad: `
${linearEntry("THREADS")}
  let split = group / params.tiles;
  let j = (group % params.tiles) * THREADS + local.x;
  if (j >= params.cols) {
    return;
  }
  let taps = params.kh * params.kw;
  let tap = j / params.c;
  let ch = j % params.c;
  let first = split * params.chunk;
  let last = min(params.inner, first + params.chunk);
  var acc = 0.0;
  for (var pixel = first; pixel < last; pixel++) {
    let d = read_dy(pixel * params.c + ch);
    if (tap == taps) {
      acc += d;
      continue;
    }
    let p = unravel(pixel, params.oh, params.ow);
    let i = input_index(p.x, p.y, p.z, tap, ch);
    if (i >= 0) {
      acc += d * read_x(u32(i));
    }
  }
  partials[params.base2 + split * params.cols + j] = acc;
}
`,
};

function launch(mode: DepthwiseMode, s: DepthwiseShapes) {
  const { g } = s;
  const activation = ACTIVATION_CODES[s.activation ?? "none"];
  if (mode !== "weight_grad") {
    const rows = mode === "forward" ? g.n * g.oh * g.ow * g.c : g.n * g.h * g.w * g.c;
    const workgroups = Math.ceil(rows / DEPTHWISE_THREADS);
    return { workgroups, rows, activation, hasBias: s.hasBias === true };
  }
  const splits = s.splits ?? 1;
  const cols = (g.kh * g.kw + 1) * g.c;
  const inner = g.n * g.oh * g.ow;
  const tiles = Math.ceil(cols / DEPTHWISE_THREADS);
  return {
    workgroups: tiles * splits,
    tiles,
    rows: splits,
    cols,
    inner,
    chunk: Math.ceil(inner / splits),
  };
}

/**
 * The f32 values a depthwise weight-gradient partial holds per split: `(kh·kw + 1)·c`, the last
 * `c` the bias gradient.
 *
 * @param g The geometry.
 * @returns Values per split.
 * @example
 * ```ts
 * import { convGeometry } from "../../core/conv_geometry.ts";
 * import { depthwiseGradCols } from "./conv2d_depthwise.ts";
 * import assert from "node:assert";
 * const g = convGeometry({ input: [1, 5, 5, 3], kernel: [3, 3], outChannels: 3, groups: 3 });
 * assert(depthwiseGradCols(g) === 30);
 * ```
 */
export function depthwiseGradCols(g: ConvGeometry): number {
  return (g.kh * g.kw + 1) * g.c;
}

/**
 * The depthwise program of a pass and precision (built once, then shared). Bindings by pass:
 * `forward` x, w, bias (f32), y; `input_grad` dy, w, dx; `weight_grad` x, dy, partials (f32,
 * `splits · (kh·kw + 1)·c`); then `params`. Specialise with {@linkcode DEPTHWISE_OVERRIDES}.
 *
 * @param mode The pass.
 * @param precision Storage of the tensors.
 * @param f16 f16 only: `"packed"` (default) or `"native"` (`array<f16>`; needs `shader-f16`).
 * @returns The program, named `conv2d_depthwise_<mode>_<precision>` (plus `_native`).
 * @example
 * ```ts
 * import { depthwiseProgram } from "./conv2d_depthwise.ts";
 * import assert from "node:assert";
 * assert(depthwiseProgram("input_grad", "f32").bindings.length === 4);
 * ```
 */
export function depthwiseProgram(
  mode: DepthwiseMode,
  precision: ConvPrecision,
  f16: F16Storage = "packed",
): GpuProgram<DepthwiseShapes> {
  const native = precision === "f16" && f16 === "native";
  return convProgram({
    name: `conv2d_depthwise_${mode}_${precision}${native ? "_native" : ""}`,
    mode,
    precision,
    f16: native ? "native" : "packed",
    body: `override THREADS: u32;\n${BODIES[mode]}`,
    overrides: ["THREADS"],
    launch: (s: DepthwiseShapes) => launch(mode, s),
  });
}
