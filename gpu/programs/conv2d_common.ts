/**
 * What every convolution program shares: the uniform `Params` (the resolved geometry and the
 * GEMM view of it), the storage declarations and element access of each precision, the im2col
 * index map, and the activations. f16 tensors are packed two halves per `u32` (element `i` in
 * the low half of word `i / 2` when `i` is even), read with `unpack2x16float` and written half
 * by half with atomics, which works on every adapter; products of two f16 values are exact in
 * f32, and every sum runs in f32. Where the device has `shader-f16`, the `native` programs
 * (`enable f16`) declare the same bytes as `array<f16>`: same layout, plain loads and stores.
 *
 * Every tensor binding adds `params.base<binding>` to its element index: a call split into
 * pieces (`../_conv_split.ts`) binds each piece's range from an aligned offset of the whole
 * tensor's buffer and gives the remainder there.
 *
 * @module
 */

import type { ConvGeometry } from "../../core/conv_geometry.ts";
import { linearDispatch } from "../dispatch.ts";
import type { GpuProgram } from "../types.ts";

/** Storage precision of a convolution's activations and weights. */
export type ConvPrecision = "f32" | "f16";

/** The fused activation of a forward convolution. */
export type ConvActivation = "none" | "relu" | "gelu";

/** Activation codes as the WGSL `activate()` reads them. */
export const ACTIVATION_CODES: Readonly<Record<ConvActivation, number>> = {
  none: 0,
  relu: 1,
  gelu: 2,
};

/** The uniform every convolution program binds last; see {@linkcode convParams}. */
export const CONV_PARAMS_WGSL = /* wgsl */ `
struct Params {
  workgroups: u32,  // the workgroups that carry work; the dispatch may round up
  tiles_n: u32,     // GEMM: ceil(cols / TILE); elementwise: unused
  tiles: u32,       // GEMM: output tiles per split; elementwise: workgroups per split
  chunk: u32,       // inner values (GEMM) or pixels (depthwise gradient) per split
  rows: u32,        // GEMM rows; elementwise: outputs
  cols: u32,        // GEMM columns
  inner: u32,       // GEMM inner dimension; depthwise gradient: pixels
  activation: u32,  // 0 none, 1 relu, 2 gelu
  n: u32, h: u32, w: u32, c: u32,
  oh: u32, ow: u32, oc: u32, kh: u32,
  kw: u32, stride: u32, pad_top: u32, pad_left: u32,
  has_bias: u32,
  phase_y: u32,     // input gradient: the stride phase of the input rows (and columns) run
  phase_x: u32,
  base0: u32,       // element offset of binding 0 within its bound range (likewise 1 to 3)
  base1: u32,
  base2: u32,
  base3: u32,
  _pad: u32,
}
`;

/** The GEMM and launch fields of {@linkcode convParams}. */
export interface ConvLaunch {
  /** Workgroups that carry work. */
  readonly workgroups: number;
  /** GEMM column tiles (0 for elementwise programs). */
  readonly tilesN?: number;
  /** Output tiles (or workgroups) per split. */
  readonly tiles?: number;
  /** Inner values or pixels per split. */
  readonly chunk?: number;
  /** GEMM rows, or outputs of an elementwise program. */
  readonly rows: number;
  /** GEMM columns. */
  readonly cols?: number;
  /** GEMM inner dimension, or pixels of a depthwise gradient. */
  readonly inner?: number;
  /** Activation code (see {@linkcode ACTIVATION_CODES}). */
  readonly activation?: number;
  /** 1 when a bias is bound. */
  readonly hasBias?: boolean;
  /** Input gradient: the stride phase `[y, x]` of the input pixels this run covers. */
  readonly phase?: readonly [number, number];
}

/**
 * The `Params` values for a geometry and a launch.
 *
 * @param g The resolved geometry.
 * @param launch The launch's sizes.
 * @param bases Element offsets of bindings 0 to 3 within their bound ranges; default zeros.
 * @returns 28 `u32` values.
 * @example
 * ```ts
 * import { convGeometry } from "../../core/conv_geometry.ts";
 * import { convParams } from "./conv2d_common.ts";
 * import assert from "node:assert";
 * const g = convGeometry({ input: [1, 5, 5, 3], kernel: [3, 3], outChannels: 2 });
 * const p = convParams(g, { workgroups: 4, rows: 9 });
 * assert(p.length === 28 && p[0] === 4 && p[4] === 9 && p[11] === 3 && p[24] === 0);
 * ```
 */
export function convParams(
  g: ConvGeometry,
  launch: ConvLaunch,
  bases: readonly number[] = [],
): Uint32Array<ArrayBuffer> {
  return new Uint32Array([
    launch.workgroups,
    launch.tilesN ?? 0,
    launch.tiles ?? launch.workgroups,
    launch.chunk ?? 0,
    launch.rows,
    launch.cols ?? 0,
    launch.inner ?? 0,
    launch.activation ?? 0,
    g.n,
    g.h,
    g.w,
    g.c,
    g.oh,
    g.ow,
    g.oc,
    g.kh,
    g.kw,
    g.stride,
    g.padTop,
    g.padLeft,
    launch.hasBias ? 1 : 0,
    launch.phase?.[0] ?? 0,
    launch.phase?.[1] ?? 0,
    bases[0] ?? 0,
    bases[1] ?? 0,
    bases[2] ?? 0,
    bases[3] ?? 0,
    0,
  ]);
}

/** How a program stores f16 tensors: packed in `u32` words, or native `f16` (`shader-f16`). */
export type F16Storage = "packed" | "native";

/**
 * The declaration of a storage binding holding a tensor of `precision`.
 *
 * @param binding The `@binding` index; indices add `params.base<binding>` (see the module docs).
 * @param options `name` of the variable; `precision`, `"f32"` (`array<f32>`) or `"f16"`
 *   (packed `array<u32>`, or with `native` `array<f16>`, which needs `enable f16`); `access`,
 *   `"read"` or `"write"` (read_write; packed f16 as `array<atomic<u32>>`); `vec4` (read
 *   only): declared as `array<vec4f>` (f16: `array<vec2u>` or `array<vec4<f16>>`) with
 *   `read_<name>4(i)` giving values `i .. i + 3` (`i + base` a multiple of 4) in one load,
 *   beside the scalar `read_<name>(i)`.
 * @returns WGSL text declaring the variable and its `read_<name>(i)` or `store_<name>(i, v)`.
 * @example
 * ```ts
 * import { tensorBinding } from "./conv2d_common.ts";
 * import assert from "node:assert";
 * assert(tensorBinding(0, { name: "x", precision: "f16", access: "read" }).includes("unpack2x16float"));
 * assert(tensorBinding(1, { name: "y", precision: "f16", access: "write" }).includes("atomicOr"));
 * assert(tensorBinding(1, { name: "y", precision: "f16", access: "write", native: true })
 *   .includes("array<f16>"));
 * ```
 */
export function tensorBinding(
  binding: number,
  options: {
    name: string;
    precision: ConvPrecision;
    access: "read" | "write";
    vec4?: boolean;
    native?: boolean;
  },
): string {
  const { name, precision, access } = options;
  const at = `@group(0) @binding(${binding})`;
  // Every access goes through j, the index within the bound range.
  const j = `let j = i + params.base${binding};`;
  if (precision === "f16" && options.native === true) {
    if (access === "write") {
      return `${at} var<storage, read_write> ${name}: array<f16>;
fn store_${name}(i: u32, v: f32) { ${j} ${name}[j] = f16(v); }
`;
    }
    if (options.vec4 === true) {
      return `${at} var<storage, read> ${name}: array<vec4<f16>>;
fn read_${name}(i: u32) -> f32 { ${j} return f32(${name}[j >> 2u][j & 3u]); }
fn read_${name}4(i: u32) -> vec4f { ${j} return vec4f(${name}[j >> 2u]); }
`;
    }
    return `${at} var<storage, read> ${name}: array<f16>;
fn read_${name}(i: u32) -> f32 { ${j} return f32(${name}[j]); }
`;
  }
  if (access === "read" && options.vec4 === true) {
    if (precision === "f32") {
      return `${at} var<storage, read> ${name}: array<vec4f>;
fn read_${name}(i: u32) -> f32 { ${j} return ${name}[j >> 2u][j & 3u]; }
fn read_${name}4(i: u32) -> vec4f { ${j} return ${name}[j >> 2u]; }
`;
    }
    return `${at} var<storage, read> ${name}: array<vec2u>;
fn read_${name}(i: u32) -> f32 {
  ${j}
  let pair = unpack2x16float(${name}[j >> 2u][(j >> 1u) & 1u]);
  return select(pair.x, pair.y, (j & 1u) == 1u);
}
fn read_${name}4(i: u32) -> vec4f {
  ${j}
  let q = ${name}[j >> 2u];
  return vec4f(unpack2x16float(q.x), unpack2x16float(q.y));
}
`;
  }
  if (access === "read") {
    if (precision === "f32") {
      return `${at} var<storage, read> ${name}: array<f32>;
fn read_${name}(i: u32) -> f32 { ${j} return ${name}[j]; }
`;
    }
    return `${at} var<storage, read> ${name}: array<u32>;
fn read_${name}(i: u32) -> f32 {
  ${j}
  let pair = unpack2x16float(${name}[j >> 1u]);
  return select(pair.x, pair.y, (j & 1u) == 1u);
}
`;
  }
  if (precision === "f32") {
    return `${at} var<storage, read_write> ${name}: array<f32>;
fn store_${name}(i: u32, v: f32) { ${j} ${name}[j] = v; }
`;
  }
  // Two threads may own the two halves of one word (odd channel counts): each clears and sets
  // only its own half, atomically, so every interleaving leaves both halves right.
  return `${at} var<storage, read_write> ${name}: array<atomic<u32>>;
fn store_${name}(i: u32, v: f32) {
  ${j}
  let shift = (j & 1u) * 16u;
  let bits = (pack2x16float(vec2f(v, 0.0)) & 0xffffu) << shift;
  atomicAnd(&${name}[j >> 1u], ~(0xffffu << shift));
  atomicOr(&${name}[j >> 1u], bits);
}
`;
}

/**
 * WGSL of the tap arithmetic every pass shares (needs `params`): `unravel` splits a pixel
 * index into `(b, y, x)`; `input_index` is where output pixel `(oy, ox)` reads channel `ch` at
 * tap `(ky, kx)` (-1 in the padding); `output_index` is the reverse, the dY value of channel
 * `ch` that input pixel `(iy, ix)` reaches at a tap (-1 where the stride skips it or none does).
 */
export const TAPS_WGSL = /* wgsl */ `
fn unravel(pixel: u32, height: u32, width: u32) -> vec3u {
  return vec3u(pixel / (width * height), (pixel / width) % height, pixel % width);
}

fn input_index(b: u32, oy: u32, ox: u32, tap: u32, ch: u32) -> i32 {
  let iy = i32(oy * params.stride + tap / params.kw) - i32(params.pad_top);
  let ix = i32(ox * params.stride + tap % params.kw) - i32(params.pad_left);
  if (iy < 0 || ix < 0 || iy >= i32(params.h) || ix >= i32(params.w)) {
    return -1;
  }
  return i32(((b * params.h + u32(iy)) * params.w + u32(ix)) * params.c + ch);
}

fn output_index(b: u32, iy: u32, ix: u32, tap: u32, ch: u32) -> i32 {
  let ty = i32(iy + params.pad_top) - i32(tap / params.kw);
  let tx = i32(ix + params.pad_left) - i32(tap % params.kw);
  if (ty < 0 || tx < 0 || u32(ty) % params.stride != 0u || u32(tx) % params.stride != 0u) {
    return -1;
  }
  let oy = u32(ty) / params.stride;
  let ox = u32(tx) / params.stride;
  if (oy >= params.oh || ox >= params.ow) {
    return -1;
  }
  return i32(((b * params.oh + oy) * params.ow + ox) * params.oc + ch);
}
`;

/**
 * WGSL reading the forward convolution's A matrix: for GEMM row `m` (an output pixel) and inner
 * index `k` (tap-major, channel-minor, as HWIO weights are laid out), `im2col_index` is where
 * the input value it multiplies lives (-1 in the padding) and `im2col` that value (zero in the
 * padding); needs `read_x` and {@linkcode TAPS_WGSL}. With `POINTWISE` (1×1, stride 1, no
 * padding) it is the plain matmul `x[m * c + k]`.
 */
export const IM2COL_WGSL = /* wgsl */ `
// 1 for a 1x1 stride-1 unpadded convolution: the input is already the GEMM's A matrix.
override POINTWISE: u32;

// Where A[m][k] lives in x; -1 in the padding.
fn im2col_index(m: u32, k: u32) -> i32 {
  if (POINTWISE == 1u) {
    return i32(m * params.c + k);
  }
  let p = unravel(m, params.oh, params.ow);
  return input_index(p.x, p.y, p.z, k / params.c, k % params.c);
}

fn im2col(m: u32, k: u32) -> f32 {
  let i = im2col_index(m, k);
  if (i < 0) {
    return 0.0;
  }
  return read_x(u32(i));
}
`;

/**
 * WGSL `activate(v)` by `params.activation`: none, ReLU, or GELU in PyTorch's default exact
 * form `v·Φ(v) = v/2·(1 + erf(v/√2))`, erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
 */
export const ACTIVATE_WGSL = /* wgsl */ `
fn erf_approx(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 +
    t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}

fn activate(v: f32) -> f32 {
  if (params.activation == 1u) {
    return max(v, 0.0);
  }
  if (params.activation == 2u) {
    return 0.5 * v * (1.0 + erf_approx(v * 0.7071067811865476));
  }
  return v;
}
`;

/** The three passes of a convolution: forward, gradient of the input, gradient of the weights. */
export type ConvMode = "forward" | "input_grad" | "weight_grad";

/** The storage bindings of each pass, in order (`params` follows). */
const CONV_BINDINGS = {
  forward: [["x", "read"], ["w", "read"], ["bias", "read"], ["y", "read_write"]],
  input_grad: [["dy", "read"], ["w", "read"], ["dx", "read_write"]],
  weight_grad: [["x", "read"], ["dy", "read"], ["partials", "read_write"]],
} as const;

/** What every convolution run's shapes hold: the geometry, and the bindings' element offsets. */
export interface ConvShapesBase {
  /** The geometry of this run (of one piece, when a call is split). */
  readonly g: ConvGeometry;
  /** `params.base0..3`: element offsets of the bindings within their bound ranges. */
  readonly bases?: readonly number[];
}

/** What {@linkcode convProgram} builds a program from. */
export interface ConvProgramSpec<S extends ConvShapesBase> {
  /** Unique program name. */
  readonly name: string;
  /** The pass: fixes the storage bindings. */
  readonly mode: ConvMode;
  /** Storage of the tensors (`bias` and `partials` are f32 always). */
  readonly precision: ConvPrecision;
  /**
   * f16 only: `"native"` declares f16 tensors `array<f16>` (`enable f16`; the device needs
   * `shader-f16`) and makes `tile1`/`tile4` f16; default `"packed"` (`u32` words, f32 tiles).
   */
  readonly f16?: F16Storage;
  /** The WGSL after the bindings, `unravel`/`input_index`/`output_index` and `activate`. */
  readonly body: string;
  /** The `override` names the body declares. */
  readonly overrides: readonly string[];
  /** Read bindings declared as vectors of 4 (see {@linkcode tensorBinding}); default none. */
  readonly vec4?: readonly string[];
  /** The launch sizes of a run. */
  readonly launch: (shapes: S) => ConvLaunch;
}

const programs = new Map<string, GpuProgram<never>>();

/**
 * A convolution program (built once per name, then shared): the pass's storage bindings, the
 * uniform `params` last, params and dispatch from `launch`. The body may use the aliases
 * `tile1`/`tile4`: f16 and `vec4<f16>` in a native f16 program, else f32 and `vec4f`.
 *
 * @param spec Name, pass, WGSL body, override names, launch.
 * @returns The program.
 * @example
 * ```ts
 * import { convProgram } from "./conv2d_common.ts";
 * import assert from "node:assert";
 * const p = convProgram({ name: "example_conv", mode: "input_grad", precision: "f32", body: "",
 *   overrides: [], launch: () => ({ workgroups: 1, rows: 1 }) });
 * assert.deepStrictEqual(p.bindings.map((b) => b.name), ["dy", "w", "dx", "params"]);
 * ```
 */
export function convProgram<S extends ConvShapesBase>(
  spec: ConvProgramSpec<S>,
): GpuProgram<S> {
  const known = programs.get(spec.name);
  if (known !== undefined) return known as GpuProgram<S>;
  const storage = CONV_BINDINGS[spec.mode].map(([name, access]) => ({
    name,
    type: "storage" as const,
    access,
  }));
  const native = spec.precision === "f16" && spec.f16 === "native";
  const declarations = storage.map(({ name, access }, i) =>
    name === "bias" || name === "partials"
      ? `@group(0) @binding(${i}) var<storage, ${access}> ${name}: array<f32>;\n`
      : tensorBinding(i, {
        name,
        precision: spec.precision,
        access: access === "read" ? "read" : "write",
        vec4: spec.vec4?.includes(name),
        native,
      })
  );
  const prelude = native
    ? "enable f16;\nalias tile1 = f16;\nalias tile4 = vec4<f16>;\n"
    : "alias tile1 = f32;\nalias tile4 = vec4f;\n";
  const program: GpuProgram<S> = {
    name: spec.name,
    wgsl: `${prelude}${CONV_PARAMS_WGSL}
@group(0) @binding(${storage.length}) var<uniform> params: Params;
${declarations.join("")}${TAPS_WGSL}${ACTIVATE_WGSL}${spec.body}`,
    entryPoint: "main",
    overrides: spec.overrides,
    bindings: [...storage, { name: "params", type: "uniform" }],
    params: (s) => convParams(s.g, spec.launch(s), s.bases),
    dispatch: (s, limits) => linearDispatch(spec.launch(s).workgroups, limits),
  };
  programs.set(spec.name, program as GpuProgram<never>);
  return program;
}
