/**
 * f32 values to packed f16 (`pack2x16float`, round to nearest even), on the GPU: how an f32
 * tensor (uploaded or already resident) becomes the f16 storage of a convolution. A thread per
 * `u32` word, so no two threads write the same word.
 *
 * @module
 */

import { linearDispatch } from "../dispatch.ts";
import type { GpuProgram, OverrideValues } from "../types.ts";
import { linearEntry } from "./_entry.ts";

/** The program's name. */
export const CAST_F16_NAME = "conv2d_cast_f16";

/** Threads per workgroup. */
const THREADS = 64;

/** The override values. */
export const CAST_F16_OVERRIDES: OverrideValues = { THREADS };

/** The WGSL. */
export const CAST_F16_WGSL: string = /* wgsl */ `
override THREADS: u32;

struct Params {
  count: u32,       // f32 values in
  workgroups: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

${linearEntry("THREADS")}
  let word = group * THREADS + local.x;
  let i = word * 2u;
  if (i >= params.count) {
    return;
  }
  var high = 0.0;
  if (i + 1u < params.count) {
    high = src[i + 1u];
  }
  dst[word] = pack2x16float(vec2f(src[i], high));
}
`;

/** The sizes of one run. */
export interface CastShapes {
  /** How many f32 values to convert; `ceil(count / 2)` words are written. */
  readonly count: number;
}

function workgroups({ count }: CastShapes): number {
  return Math.ceil(Math.ceil(count / 2) / THREADS);
}

/**
 * The program. Bindings: `src` (f32, read), `dst` (`ceil(count / 2)` words, written), `params`.
 * Specialise with {@linkcode CAST_F16_OVERRIDES}.
 */
export const CAST_F16_PROGRAM: GpuProgram<CastShapes> = {
  name: CAST_F16_NAME,
  wgsl: CAST_F16_WGSL,
  entryPoint: "main",
  overrides: ["THREADS"],
  bindings: [
    { name: "src", type: "storage", access: "read" },
    { name: "dst", type: "storage", access: "read_write" },
    { name: "params", type: "uniform" },
  ],
  params: (s) => new Uint32Array([s.count, workgroups(s), 0, 0]),
  dispatch: (s, limits) => linearDispatch(workgroups(s), limits),
};
