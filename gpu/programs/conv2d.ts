/**
 * Dense 2-D convolution as an implicit GEMM, in the peers' shape: a workgroup of 8 × 8 threads
 * owns a 32 × 32 tile of the output, each thread 4 × 4 outputs (four `vec4f` accumulators); for
 * each step of 32 along the inner dimension the workgroup stages a 32 × 32 tile of A and of B in
 * workgroup memory (every value read from storage once per workgroup). Only `load_a`, `load_b`
 * and `store_c` differ between the three uses:
 *
 * - `forward`: A = im2col(input) `[n·oh·ow, kh·kw·c]`, B = weights `[kh·kw·c, oc]` (HWIO is
 *   already that matrix), C = output, with bias and activation fused into the store; a 1×1
 *   stride-1 unpadded convolution reads A as the plain input matrix (`POINTWISE`).
 * - `input_grad`: A = dY gathered per input pixel `[n·h·w, kh·kw·oc]` (zero where the stride
 *   skips), B = weights read as `[kh·kw·oc, c]`, C = dX. It is also the forward of a transposed
 *   convolution.
 * - `weight_grad`: A = im2colᵀ `[kh·kw·c + 1, n·oh·ow]` whose extra last row is ones (so the
 *   bias gradient comes out of the same GEMM), B = dY `[n·oh·ow, oc]`; the inner dimension is
 *   split across workgroups, each writing an f32 partial `[rows, oc]`, summed afterwards by the
 *   column-sums program (WGSL has no float atomics).
 *
 * Operands whose staged values are contiguous in fours (channel counts a multiple of 4) are
 * loaded a `vec4` at a time ({@linkcode convGemmVectors}); a native f16 program stages f16 tiles
 * and multiplies in f16, summing in f32.
 *
 * @module
 */

import type { ConvGeometry } from "../../core/conv_geometry.ts";
import type { GpuProgram, OverrideValues } from "../types.ts";
import {
  GEMM_WGSL,
  STAGE_A_SCALAR,
  STAGE_A_VEC4,
  STAGE_B_SCALAR,
  STAGE_B_VEC4,
} from "./conv2d_gemm.ts";
import {
  ACTIVATION_CODES,
  type ConvActivation,
  type ConvMode,
  type ConvPrecision,
  convProgram,
  type ConvShapesBase,
  type F16Storage,
  IM2COL_WGSL,
} from "./conv2d_common.ts";

/** Which product the GEMM computes; see the module docs. */
export type ConvGemmMode = ConvMode;

/** Threads per side of a workgroup; each computes 4 × 4 outputs, so a tile is 32 × 32. */
export const CONV_WG = 8;
/** Edge of an output tile and of an inner step. */
export const CONV_TILE = CONV_WG * 4;

/** The sizes of one GEMM run. */
export interface ConvGemmShapes extends ConvShapesBase {
  /** `weight_grad`: parts the inner dimension is split into (default 1). */
  readonly splits?: number;
  /** `forward`: the fused activation (default none). */
  readonly activation?: ConvActivation;
  /** `forward`: a bias is bound (the `bias` binding is bound either way). */
  readonly hasBias?: boolean;
  /**
   * `input_grad`: the stride phase `[y, x]` (each below the stride) of the input pixels this
   * run computes: those with `(iy + padTop) % stride = y`; a full gradient runs every phase.
   */
  readonly phase?: readonly [number, number];
}

/**
 * The GEMM's rows, columns and inner dimension for a mode.
 *
 * @param mode The product.
 * @param shapes The geometry, and for `input_grad` the stride phase (default `[0, 0]`).
 * @returns `{ rows, cols, inner }`.
 * @example
 * ```ts
 * import { convGeometry } from "../../core/conv_geometry.ts";
 * import { convGemmSize } from "./conv2d.ts";
 * import assert from "node:assert";
 * const g = convGeometry({ input: [2, 5, 5, 3], kernel: [3, 3], outChannels: 4 });
 * assert.deepStrictEqual(convGemmSize("forward", { g }), { rows: 18, cols: 4, inner: 27 });
 * assert.deepStrictEqual(convGemmSize("weight_grad", { g }), { rows: 28, cols: 4, inner: 18 });
 * // Stride 2, 3x3, pad 1: phase [1, 0] holds 2 x 3 input pixels per image and 1 x 2 taps.
 * const s2 = convGeometry({ input: [2, 5, 5, 3], kernel: [3, 3], outChannels: 4, stride: 2,
 *   padding: "same" });
 * assert.deepStrictEqual(convGemmSize("input_grad", { g: s2, phase: [1, 0] }),
 *   { rows: 12, cols: 3, inner: 8 });
 * ```
 */
export function convGemmSize(
  mode: ConvGemmMode,
  shapes: ConvGemmShapes,
): { rows: number; cols: number; inner: number } {
  const { g } = shapes;
  const pixels = g.n * g.oh * g.ow;
  const taps = g.kh * g.kw;
  if (mode === "forward") return { rows: pixels, cols: g.oc, inner: taps * g.c };
  if (mode === "input_grad") {
    const [py, px] = shapes.phase ?? [0, 0];
    const s = g.stride;
    const first = (p: number, pad: number) => (p - pad % s + s) % s;
    const count = (size: number, from: number) => Math.max(0, Math.ceil((size - from) / s));
    const rows = g.n * count(g.h, first(py, g.padTop)) * count(g.w, first(px, g.padLeft));
    return { rows, cols: g.c, inner: count(g.kh, py) * count(g.kw, px) * g.oc };
  }
  return { rows: taps * g.c + 1, cols: g.oc, inner: pixels };
}

/**
 * True when a forward (or weight-gradient) convolution is a plain matmul: 1×1, stride 1, no
 * padding.
 *
 * @param g The geometry.
 * @returns Whether `POINTWISE` applies.
 * @example
 * ```ts
 * import { convGeometry } from "../../core/conv_geometry.ts";
 * import { isPointwise } from "./conv2d.ts";
 * import assert from "node:assert";
 * assert(isPointwise(convGeometry({ input: [1, 4, 4, 3], kernel: [1, 1], outChannels: 2 })));
 * ```
 */
export function isPointwise(g: ConvGeometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.stride === 1 && g.padTop === 0 && g.padLeft === 0;
}

/**
 * The override values of a GEMM run.
 *
 * @param mode The product.
 * @param g The geometry.
 * @returns `{ WG }`, plus `POINTWISE` for the modes that read im2col.
 * @example
 * ```ts
 * import { convGeometry } from "../../core/conv_geometry.ts";
 * import { convGemmOverrides } from "./conv2d.ts";
 * import assert from "node:assert";
 * const g = convGeometry({ input: [1, 4, 4, 3], kernel: [3, 3], outChannels: 2 });
 * assert.deepStrictEqual(convGemmOverrides("forward", g), { WG: 8, POINTWISE: 0 });
 * ```
 */
export function convGemmOverrides(mode: ConvGemmMode, g: ConvGeometry): OverrideValues {
  if (mode === "input_grad") return { WG: CONV_WG };
  return { WG: CONV_WG, POINTWISE: isPointwise(g) ? 1 : 0 };
}

const LOADS: Record<ConvGemmMode, string> = {
  forward: `
// A's inner index (the channel) is contiguous in memory: stage it fastest.
const A_ROW_FAST = false;
${IM2COL_WGSL}
fn load_a(m: u32, k: u32) -> f32 { return im2col(m, k); }
fn load_b(k: u32, o: u32) -> f32 { return read_w(k * params.cols + o); }
fn store_c(split: u32, m: u32, o: u32, v: f32) {
  var out = v;
  if (params.has_bias == 1u) {
    out += bias[o];
  }
  store_y(m * params.cols + o, activate(out));
}
`,
  input_grad: `
const A_ROW_FAST = false;
// One stride phase per run: the input pixels (iy, ix) with (iy + pad_top) % stride = phase_y
// (likewise x), which only taps ky = phase_y + stride·t reach, so no multiply is wasted on
// the zeros a stride leaves between outputs.
struct Phase { py: u32, px: u32, fy: u32, fx: u32, ny: u32, nx: u32, tky: u32, tkx: u32 }
fn phase() -> Phase {
  let s = params.stride;
  let py = params.phase_y;
  let px = params.phase_x;
  let fy = (py + s - params.pad_top % s) % s;
  let fx = (px + s - params.pad_left % s) % s;
  let ny = select(0u, (params.h - fy + s - 1u) / s, fy < params.h);
  let nx = select(0u, (params.w - fx + s - 1u) / s, fx < params.w);
  let tky = select(0u, (params.kh - py + s - 1u) / s, py < params.kh);
  let tkx = select(0u, (params.kw - px + s - 1u) / s, px < params.kw);
  return Phase(py, px, fy, fx, ny, nx, tky, tkx);
}
// Input pixel m of the phase as (b, iy, ix).
fn phase_pixel(ph: Phase, m: u32) -> vec3u {
  let p = unravel(m, ph.ny, ph.nx);
  return vec3u(p.x, ph.fy + p.y * params.stride, ph.fx + p.z * params.stride);
}
// Tap t of the phase as ky * kw + kx.
fn phase_tap(ph: Phase, t: u32) -> u32 {
  return (ph.py + (t / ph.tkx) * params.stride) * params.kw + ph.px + (t % ph.tkx) * params.stride;
}
// The dY value input pixel m reaches at the phase's tap k / oc, channel k % oc.
fn load_a(m: u32, k: u32) -> f32 {
  let ph = phase();
  let p = phase_pixel(ph, m);
  let i = output_index(p.x, p.y, p.z, phase_tap(ph, k / params.oc), k % params.oc);
  if (i < 0) {
    return 0.0;
  }
  return read_dy(u32(i));
}
// W[tap][ci][o] read as the [t * oc + o][ci] matrix of the phase's taps.
fn load_b(k: u32, ci: u32) -> f32 {
  let tap = phase_tap(phase(), k / params.oc);
  return read_w((tap * params.c + ci) * params.oc + k % params.oc);
}
fn store_c(split: u32, m: u32, ci: u32, v: f32) {
  let p = phase_pixel(phase(), m);
  store_dx(((p.x * params.h + p.y) * params.w + p.z) * params.c + ci, v);
}
`,
  weight_grad: `
// A's row index (tap and channel) is contiguous in memory for a pixel: stage it fastest.
const A_ROW_FAST = true;
${IM2COL_WGSL}
// The last row is ones: its product with dY is the bias gradient.
fn load_a(r: u32, m: u32) -> f32 {
  if (r + 1u == params.rows) {
    return 1.0;
  }
  return im2col(m, r);
}
fn load_b(m: u32, o: u32) -> f32 { return read_dy(m * params.oc + o); }
fn store_c(split: u32, r: u32, o: u32, v: f32) {
  partials[params.base2 + (split * params.rows + r) * params.cols + o] = v;
}
`,
};

/**
 * The vector loads of each mode, included only with their vector bindings (WGSL rejects a call
 * of an undeclared `read_<name>4` even where unused).
 */
const VECTOR_LOADS: Record<ConvGemmMode, { a?: string; b?: string }> = {
  forward: {
    a: `
fn load_a4(m: u32, k: u32) -> vec4f {
  let i = im2col_index(m, k);
  if (i < 0) {
    return vec4f(0.0);
  }
  return read_x4(u32(i));
}
`,
    b: `fn load_b4(k: u32, o: u32) -> vec4f { return read_w4(k * params.cols + o); }\n`,
  },
  input_grad: {
    // Four output channels of one tap of the phase: contiguous in dY.
    a: `
fn load_a4(m: u32, k: u32) -> vec4f {
  let ph = phase();
  let p = phase_pixel(ph, m);
  let i = output_index(p.x, p.y, p.z, phase_tap(ph, k / params.oc), k % params.oc);
  if (i < 0) {
    return vec4f(0.0);
  }
  return read_dy4(u32(i));
}
`,
  },
  weight_grad: {
    b: `fn load_b4(m: u32, o: u32) -> vec4f { return read_dy4(m * params.oc + o); }\n`,
  },
};

/** The binding each mode's vector loads of A and B read. */
const VECTOR_BINDINGS: Record<ConvGemmMode, { a?: string; b?: string }> = {
  forward: { a: "x", b: "w" },
  input_grad: { a: "dy" },
  weight_grad: { b: "dy" },
};

function launch(mode: ConvGemmMode, s: ConvGemmShapes) {
  const { rows, cols, inner } = convGemmSize(mode, s);
  const splits = mode === "weight_grad" ? s.splits ?? 1 : 1;
  const tilesN = Math.ceil(cols / CONV_TILE);
  const tiles = Math.ceil(rows / CONV_TILE) * tilesN;
  return {
    rows,
    cols,
    inner,
    tilesN,
    tiles,
    chunk: Math.ceil(inner / splits),
    workgroups: tiles * splits,
    activation: ACTIVATION_CODES[s.activation ?? "none"],
    hasBias: s.hasBias === true,
    phase: s.phase,
  };
}

/**
 * Which operands a GEMM loads four values at a time: the forward's A (the input) when its
 * channels are a multiple of 4 and B (the weights) when the output channels are; the input
 * gradient's A (dY) and the weight gradient's B (dY) when the output channels are.
 *
 * @param mode The product.
 * @param g The geometry.
 * @returns `{ vec4A, vec4B }`.
 * @example
 * ```ts
 * import { convGeometry } from "../../core/conv_geometry.ts";
 * import { convGemmVectors } from "./conv2d.ts";
 * import assert from "node:assert";
 * const g = convGeometry({ input: [1, 8, 8, 16], kernel: [3, 3], outChannels: 6 });
 * assert.deepStrictEqual(convGemmVectors("forward", g), { vec4A: true, vec4B: false });
 * assert.deepStrictEqual(convGemmVectors("input_grad", g), { vec4A: false, vec4B: false });
 * ```
 */
export function convGemmVectors(
  mode: ConvGemmMode,
  g: ConvGeometry,
): { vec4A: boolean; vec4B: boolean } {
  const oc4 = g.oc % 4 === 0;
  if (mode === "forward") return { vec4A: g.c % 4 === 0, vec4B: oc4 };
  if (mode === "input_grad") return { vec4A: oc4, vec4B: false };
  return { vec4A: false, vec4B: oc4 };
}

/**
 * The GEMM program of a mode and precision (built once, then shared). Bindings by mode:
 * `forward` x, w, bias (f32, `oc` values, bound even without a bias), y; `input_grad` dy, w, dx;
 * `weight_grad` x, dy, partials (f32, `splits · (kh·kw·c + 1) · oc`); then `params`.
 *
 * @param mode The product.
 * @param options `precision` of the tensors (`partials` and `bias` are f32 always); `f16`
 *   (f16 only): `"packed"` (default) or `"native"` (`shader-f16`: f16 tiles and products, f32
 *   sums); `vec4A`, `vec4B` (where the mode has them, see {@linkcode convGemmVectors}): load A
 *   or B four values at a time.
 * @returns The program, named `conv2d_<mode>_<precision>` (plus `_native`, `_a4`, `_b4`).
 * @throws {TypeError} When vector loads are asked of an operand the mode cannot load so.
 * @example
 * ```ts
 * import { conv2dProgram } from "./conv2d.ts";
 * import assert from "node:assert";
 * const p = conv2dProgram("forward", { precision: "f16", vec4B: true });
 * assert(p.name === "conv2d_forward_f16_b4");
 * assert(p === conv2dProgram("forward", { precision: "f16", vec4B: true }));
 * assert.deepStrictEqual(p.bindings.map((b) => b.name), ["x", "w", "bias", "y", "params"]);
 * ```
 */
export function conv2dProgram(
  mode: ConvGemmMode,
  options: { precision: ConvPrecision; f16?: F16Storage; vec4A?: boolean; vec4B?: boolean },
): GpuProgram<ConvGemmShapes> {
  const { precision } = options;
  const native = precision === "f16" && options.f16 === "native";
  const vec4A = options.vec4A === true;
  const vec4B = options.vec4B === true;
  const loads = VECTOR_LOADS[mode];
  if ((vec4A && loads.a === undefined) || (vec4B && loads.b === undefined)) {
    throw new TypeError(
      `conv2dProgram(): the ${mode} pass has no vector loads of ${vec4A ? "A" : "B"}`,
    );
  }
  return convProgram({
    name: `conv2d_${mode}_${precision}${native ? "_native" : ""}${vec4A ? "_a4" : ""}` +
      (vec4B ? "_b4" : ""),
    mode,
    precision,
    f16: native ? "native" : "packed",
    body: [
      LOADS[mode],
      vec4A ? `${loads.a}${STAGE_A_VEC4}` : STAGE_A_SCALAR,
      vec4B ? `${loads.b}${STAGE_B_VEC4}` : STAGE_B_SCALAR,
      GEMM_WGSL,
    ].join("\n"),
    overrides: mode === "input_grad" ? ["WG"] : ["WG", "POINTWISE"],
    vec4: [
      ...(vec4A ? [VECTOR_BINDINGS[mode].a!] : []),
      ...(vec4B ? [VECTOR_BINDINGS[mode].b!] : []),
    ],
    launch: (s: ConvGemmShapes) => launch(mode, s),
  });
}
