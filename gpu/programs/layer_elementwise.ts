/**
 * The memory-bound layer programs (activation, residual add, per-channel affine, layer norm,
 * batch-norm gradients, bilinear upsampling): one thread per output word, two values each, so an
 * f16 output (two halves packed per `u32`) has one writer per word. Each kind is a WGSL
 * `value(i)` of the output index over the bindings it uses; inputs `a` and `b` are f32 or packed
 * f16 each, `p` holds per-channel f32 vectors, `s` per-pixel f32 statistics
 * (`layer_norm_stats.ts`). The reduction kinds (`*_cols`) write an f32 matrix `[pixels, 2c]`
 * whose column sums (`column_sums.ts`, finished in f64 on the CPU) are the per-channel sums a
 * norm's statistics and gradients need: WGSL has no f64 and no float atomics.
 *
 * @module
 */

import { linearDispatch } from "../dispatch.ts";
import type { GpuProgram, OverrideValues } from "../types.ts";
import { linearEntry } from "./_entry.ts";
import { ACTIVATE_WGSL } from "./conv2d_common.ts";

/** The layer kinds, each a `value(i)` body. */
export type LayerKind =
  | "affine"
  | "activation"
  | "activation_grad"
  | "add"
  | "layer_norm"
  | "layer_norm_grad"
  | "batch_norm_grad"
  | "moments_cols"
  | "batch_norm_grad_cols"
  | "layer_norm_grad_cols"
  | "upsample"
  | "upsample_grad";

/** How a tensor binding holds its values. */
export type LayerPrecision = "f32" | "f16";

/** The sizes one run is computed from. */
export interface LayerShapes {
  /** Output values. */
  readonly count: number;
  /** Channels (the last axis). */
  readonly c: number;
  /** 0 none, 1 ReLU, 2 GELU (exact erf form). */
  readonly activation?: number;
  /** Upsampling: the smaller image's height and width and the scale. */
  readonly h?: number;
  /** See `h`. */
  readonly w?: number;
  /** See `h`. */
  readonly scale?: number;
}

/** Threads per workgroup. */
const THREADS = 64;

/** The override values of every kind. */
export const LAYER_OVERRIDES: OverrideValues = { THREADS };

/** Which bindings each kind reads, and its body (`i`: output index; `c`: its channel). */
const KINDS: Record<LayerKind, { uses: string; body: string }> = {
  affine: { uses: "ap", body: `return activate(load_a(i) * p[ch] + p[params.c + ch]);` },
  activation: { uses: "a", body: `return activate(load_a(i));` },
  activation_grad: {
    uses: "ab",
    body: `let v = load_a(i);
  var d = 1.0;
  if (params.activation == 1u) {
    d = select(0.0, 1.0, v > 0.0);
  } else if (params.activation == 2u) {
    // d/dv v·Φ(v) = Φ(v) + v·φ(v).
    d = 0.5 * (1.0 + erf_approx(v * 0.7071067811865476)) +
      v * 0.3989422804014327 * exp(-0.5 * v * v);
  }
  return load_b(i) * d;`,
  },
  add: { uses: "ab", body: `return load_a(i) + load_b(i);` },
  layer_norm: {
    uses: "aps",
    body: `let q = i / params.c;
  return (load_a(i) - s[4u * q]) * s[4u * q + 1u] * p[ch] + p[params.c + ch];`,
  },
  layer_norm_grad: {
    // s: mean, rstd, mean of g = dy·γ, mean of g·x̂ per pixel.
    uses: "abps",
    body: `let q = 4u * (i / params.c);
  let xhat = (load_a(i) - s[q]) * s[q + 1u];
  return s[q + 1u] * (load_b(i) * p[ch] - s[q + 2u] - xhat * s[q + 3u]);`,
  },
  batch_norm_grad: {
    // p: γ·rstd, mean, rstd, mean of dy, mean of dy·x̂ (c values each).
    uses: "abp",
    body: `let xhat = (load_a(i) - p[params.c + ch]) * p[2u * params.c + ch];
  return p[ch] * (load_b(i) - p[3u * params.c + ch] - xhat * p[4u * params.c + ch]);`,
  },
  moments_cols: {
    // Columns [x − p, (x − p)²]: with p the mean, the corrected two-pass variance.
    uses: "ap",
    body: `let col = i % (2u * params.c);
  let k = col % params.c;
  let d = load_a(i / (2u * params.c) * params.c + k) - p[k];
  return select(d, d * d, col >= params.c);`,
  },
  batch_norm_grad_cols: {
    // Columns [dy, dy·x̂], x̂ = (x − p[k])·p[c + k].
    uses: "abp",
    body: `let col = i % (2u * params.c);
  let k = col % params.c;
  let e = i / (2u * params.c) * params.c + k;
  let dy = load_b(e);
  return select(dy, dy * (load_a(e) - p[k]) * p[params.c + k], col >= params.c);`,
  },
  layer_norm_grad_cols: {
    uses: "abs",
    body: `let col = i % (2u * params.c);
  let q = i / (2u * params.c);
  let e = q * params.c + col % params.c;
  let dy = load_b(e);
  return select(dy, dy * (load_a(e) - s[4u * q]) * s[4u * q + 1u], col >= params.c);`,
  },
  upsample: {
    // Output [n, h·s, w·s, c] from a = [n, h, w, c], PyTorch's align_corners=False.
    uses: "a",
    body: `let ow = params.w * params.scale;
  let oh = params.h * params.scale;
  let ox = (i / params.c) % ow;
  let oy = (i / (params.c * ow)) % oh;
  let b = i / (params.c * ow * oh);
  let ty = taps(oy, params.h);
  let tx = taps(ox, params.w);
  let row0 = (b * params.h + u32(ty.x)) * params.w;
  let row1 = (b * params.h + u32(ty.y)) * params.w;
  let top = tx.z * load_a((row0 + u32(tx.x)) * params.c + ch) +
    tx.w * load_a((row0 + u32(tx.y)) * params.c + ch);
  let bottom = tx.z * load_a((row1 + u32(tx.x)) * params.c + ch) +
    tx.w * load_a((row1 + u32(tx.y)) * params.c + ch);
  return ty.z * top + ty.w * bottom;`,
  },
  upsample_grad: {
    // dx [n, h, w, c] from a = dy [n, h·s, w·s, c]: a gather over the outputs that read each
    // input, o in [s(i − 1), s(i + 2)), so no two threads add into one value.
    uses: "a",
    body: `let ow = params.w * params.scale;
  let oh = params.h * params.scale;
  let ix = (i / params.c) % params.w;
  let iy = (i / (params.c * params.w)) % params.h;
  let b = i / (params.c * params.w * params.h);
  let sc = params.scale;
  var sum = 0.0;
  for (var oy = max(sc * iy, sc) - sc; oy < min(sc * (iy + 2u), oh); oy++) {
    let wy = tap_weight(oy, iy, params.h);
    if (wy == 0.0) {
      continue;
    }
    var row = 0.0;
    for (var ox = max(sc * ix, sc) - sc; ox < min(sc * (ix + 2u), ow); ox++) {
      row += tap_weight(ox, ix, params.w) * load_a(((b * oh + oy) * ow + ox) * params.c + ch);
    }
    sum += wy * row;
  }
  return sum;`,
  },
};

/** The bilinear taps of output `o` along an axis of `size` inputs: `(i0, i1, λ0, λ1)`. */
const TAPS_WGSL = /* wgsl */ `
fn taps(o: u32, size: u32) -> vec4f {
  let src = max((f32(o) + 0.5) / f32(params.scale) - 0.5, 0.0);
  let i0 = min(u32(floor(src)), size - 1u);
  let i1 = min(i0 + 1u, size - 1u);
  let l1 = src - f32(i0);
  return vec4f(f32(i0), f32(i1), 1.0 - l1, l1);
}

fn tap_weight(o: u32, i: u32, size: u32) -> f32 {
  let t = taps(o, size);
  return select(0.0, t.z, u32(t.x) == i) + select(0.0, t.w, u32(t.y) == i);
}
`;

/**
 * WGSL `load_<name>(i)` for an f32 or packed-f16 binding.
 *
 * @param name The binding.
 * @param precision How it holds its values.
 * @returns WGSL text.
 * @example
 * ```ts
 * import { loader } from "./layer_elementwise.ts";
 * import assert from "node:assert";
 * assert(loader("a", "f16").includes("unpack2x16float"));
 * ```
 */
export function loader(name: string, precision: LayerPrecision): string {
  if (precision === "f32") return `fn load_${name}(i: u32) -> f32 { return ${name}[i]; }`;
  return `fn load_${name}(i: u32) -> f32 {
  let v = unpack2x16float(${name}[i / 2u]);
  return select(v.x, v.y, (i & 1u) == 1u);
}`;
}

/** The precisions of a kind's tensor bindings. */
export interface LayerPrecisions {
  /** Of `a`. */
  readonly a: LayerPrecision;
  /** Of `b` (kinds that read it). */
  readonly b?: LayerPrecision;
  /** Of the output (the `*_cols` kinds write f32). */
  readonly y: LayerPrecision;
}

const programs = new Map<string, GpuProgram<LayerShapes>>();

/**
 * The program of `kind` for the given precisions, built once and cached (the name carries the
 * precisions, as the pipeline cache requires one WGSL per name).
 *
 * @param kind The layer kind.
 * @param precisions Of `a`, `b` and the output.
 * @returns The program. Bindings: those of `a`, `b`, `p`, `s` the kind reads, then `y`, `params`.
 * @throws {TypeError} When `kind` is unknown.
 * @example
 * ```ts
 * import { layerProgram } from "./layer_elementwise.ts";
 * import assert from "node:assert";
 * const p = layerProgram("add", { a: "f32", b: "f16", y: "f32" });
 * assert.deepStrictEqual(p.bindings.map((b) => b.name), ["a", "b", "y", "params"]);
 * ```
 */
export function layerProgram(
  kind: LayerKind,
  precisions: LayerPrecisions,
): GpuProgram<LayerShapes> {
  const spec = KINDS[kind];
  if (spec === undefined) throw new TypeError(`Unknown layer kind ${String(kind)}`);
  const b = precisions.b ?? "f32";
  const name = `layer_${kind}_${precisions.a}_${spec.uses.includes("b") ? b : ""}_${precisions.y}`;
  const cached = programs.get(name);
  if (cached) return cached;
  const type = (p: LayerPrecision) => (p === "f16" ? "u32" : "f32");
  const names = [...spec.uses];
  const decls = names.map((n, index) => {
    const t = n === "a" ? type(precisions.a) : n === "b" ? type(b) : "f32";
    return `@group(0) @binding(${index}) var<storage, read> ${n}: array<${t}>;`;
  });
  const yIndex = names.length;
  const store = precisions.y === "f16" ? `y[word] = pack2x16float(vec2f(v0, v1));` : `y[i0] = v0;
  if (i0 + 1u < params.count) {
    y[i0 + 1u] = v1;
  }`;
  const wgsl = /* wgsl */ `
override THREADS: u32;

struct Params {
  count: u32,       // output values
  c: u32,           // channels
  workgroups: u32,
  activation: u32,  // 0 none, 1 relu, 2 gelu
  h: u32,           // upsampling: input height, width, scale
  w: u32,
  scale: u32,
  pad: u32,
}

${decls.join("\n")}
@group(0) @binding(${yIndex}) var<storage, read_write> y: array<${type(precisions.y)}>;
@group(0) @binding(${yIndex + 1}) var<uniform> params: Params;

${names.includes("a") ? loader("a", precisions.a) : ""}
${names.includes("b") ? loader("b", b) : ""}
${ACTIVATE_WGSL}
${TAPS_WGSL}

fn value(i: u32) -> f32 {
  let ch = i % params.c;
  ${spec.body}
}

${linearEntry("THREADS")}
  let word = group * THREADS + local.x;
  let i0 = word * 2u;
  if (i0 >= params.count) {
    return;
  }
  let v0 = value(i0);
  var v1 = 0.0;
  if (i0 + 1u < params.count) {
    v1 = value(i0 + 1u);
  }
  ${store}
}
`;
  const program: GpuProgram<LayerShapes> = {
    name,
    wgsl,
    entryPoint: "main",
    overrides: ["THREADS"],
    bindings: [
      ...names.map((n) => ({ name: n, type: "storage" as const, access: "read" as const })),
      { name: "y", type: "storage", access: "read_write" },
      { name: "params", type: "uniform" },
    ],
    params: (s) =>
      new Uint32Array([
        s.count,
        s.c,
        workgroups(s),
        s.activation ?? 0,
        s.h ?? 0,
        s.w ?? 0,
        s.scale ?? 1,
        0,
      ]),
    dispatch: (s, limits) => linearDispatch(workgroups(s), limits),
  };
  programs.set(name, program);
  return program;
}

function workgroups({ count }: LayerShapes): number {
  return Math.ceil(Math.ceil(count / 2) / THREADS);
}
