/**
 * Per-pixel statistics of a layer norm over the channels, one thread per pixel: the mean and
 * `1/√(var + eps)` (biased variance, two passes over the pixel's channels), and for the backward
 * pass also the means of `g = dy·γ` and of `g·x̂`. Written as four f32 values per pixel into `s`,
 * which the `layer_norm*` kinds of `layer_elementwise.ts` read.
 *
 * @module
 */

import { linearDispatch } from "../dispatch.ts";
import type { GpuProgram, OverrideValues } from "../types.ts";
import { linearEntry } from "./_entry.ts";
import { type LayerPrecision, loader } from "./layer_elementwise.ts";

/** The sizes of one run. */
export interface LayerNormStatsShapes {
  /** Pixels (`n·h·w`). */
  readonly pixels: number;
  /** Channels per pixel. */
  readonly c: number;
  /** The variance's offset. */
  readonly eps: number;
}

/** Threads per workgroup. */
const THREADS = 64;

/** The override values. */
export const LAYER_NORM_STATS_OVERRIDES: OverrideValues = { THREADS };

const programs = new Map<string, GpuProgram<LayerNormStatsShapes>>();

/**
 * The statistics program: forward (`a` = x) or backward (also `b` = dy and `p` = γ).
 *
 * @param options `backward`, and the precisions of `a` and `b`.
 * @returns The program. Bindings: `a` (`b`, `p` when backward), `s` (4 f32 per pixel), `params`.
 * @example
 * ```ts
 * import { layerNormStatsProgram } from "./layer_norm_stats.ts";
 * import assert from "node:assert";
 * const p = layerNormStatsProgram({ backward: true, a: "f32", b: "f16" });
 * assert.deepStrictEqual(p.bindings.map((b) => b.name), ["a", "b", "p", "s", "params"]);
 * ```
 */
export function layerNormStatsProgram(
  options: { backward: boolean; a: LayerPrecision; b?: LayerPrecision },
): GpuProgram<LayerNormStatsShapes> {
  const { backward, a } = options;
  const b = options.b ?? "f32";
  const name = `layer_norm_stats_${backward ? `grad_${a}_${b}` : a}`;
  const cached = programs.get(name);
  if (cached) return cached;
  const type = (p: LayerPrecision) => (p === "f16" ? "u32" : "f32");
  const inputs = backward
    ? `@group(0) @binding(0) var<storage, read> a: array<${type(a)}>;
@group(0) @binding(1) var<storage, read> b: array<${type(b)}>;
@group(0) @binding(2) var<storage, read> p: array<f32>;
@group(0) @binding(3) var<storage, read_write> s: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;`
    : `@group(0) @binding(0) var<storage, read> a: array<${type(a)}>;
@group(0) @binding(1) var<storage, read_write> s: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;`;
  const gradient = backward
    ? `var sg = 0.0;
  var sgx = 0.0;
  for (var k = 0u; k < c; k++) {
    let g = load_b(base + k) * p[k];
    sg += g;
    sgx += g * (load_a(base + k) - mean) * rstd;
  }
  s[4u * q + 2u] = sg / f32(c);
  s[4u * q + 3u] = sgx / f32(c);`
    : "";
  const wgsl = /* wgsl */ `
override THREADS: u32;

struct Params {
  pixels: u32,
  c: u32,
  workgroups: u32,
  eps: f32,
}

${inputs}

${loader("a", a)}
${backward ? loader("b", b) : ""}

${linearEntry("THREADS")}
  let q = group * THREADS + local.x;
  if (q >= params.pixels) {
    return;
  }
  let c = params.c;
  let base = q * c;
  var sum = 0.0;
  for (var k = 0u; k < c; k++) {
    sum += load_a(base + k);
  }
  let mean = sum / f32(c);
  var sq = 0.0;
  for (var k = 0u; k < c; k++) {
    let d = load_a(base + k) - mean;
    sq += d * d;
  }
  let rstd = inverseSqrt(sq / f32(c) + params.eps);
  s[4u * q] = mean;
  s[4u * q + 1u] = rstd;
  ${gradient}
}
`;
  const bindings = backward ? ["a", "b", "p"] : ["a"];
  const program: GpuProgram<LayerNormStatsShapes> = {
    name,
    wgsl,
    entryPoint: "main",
    overrides: ["THREADS"],
    bindings: [
      ...bindings.map((n) => ({ name: n, type: "storage" as const, access: "read" as const })),
      { name: "s", type: "storage", access: "read_write" },
      { name: "params", type: "uniform" },
    ],
    params: (sh) => {
      const u = new Uint32Array([sh.pixels, sh.c, workgroups(sh), 0]);
      new Float32Array(u.buffer)[3] = sh.eps;
      return u;
    },
    dispatch: (sh, limits) => linearDispatch(workgroups(sh), limits),
  };
  programs.set(name, program);
  return program;
}

function workgroups({ pixels }: LayerNormStatsShapes): number {
  return Math.ceil(pixels / THREADS);
}
