/**
 * Squared Mahalanobis distances of rows on the GPU: `out[r] = ‖(x_r − μ)·W‖²` with the
 * whitening matrix `W` (`cols × k`, `S⁺ = W·Wᵀ`), the scoring step of RX (`ops/rx.ts`).
 *
 * One thread per row. A workgroup first stages `W` tiles in workgroup memory (shared by its 64
 * rows), and each thread keeps its projection sums in f32; `(X − μ)·W` is never stored.
 *
 * @module
 */

import { AbortedError } from "../../core/errors.ts";
import type { Matrix } from "../../core/types.ts";
import { checkInteger, checkMatrix } from "../../core/validate.ts";
import { getGpu } from "../device.ts";
import type { GpuProgram } from "../types.ts";

/** The program's name: the label of its shader module and the prefix of its other labels. */
export const MAHALANOBIS_NAME = "mahalanobis";

/**
 * The WGSL. Thread `r` of the dispatch scores row `r`: for each column `j` of `W` it forms
 * `t = Σ_c (x[r][c] − μ[c]) · W[c][j]` and adds `t²`. `W` is read through workgroup memory in
 * tiles of `TILE` values so the 64 threads of a group load it once.
 */
export const MAHALANOBIS_WGSL = /* wgsl */ `
// Threads (rows) per workgroup.
override WG: u32;
// W values staged in workgroup memory at once.
override TILE: u32;

struct Params {
  rows: u32,
  cols: u32,
  k: u32,
  groups: u32,  // workgroups that carry rows; the dispatch may round up
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> mu: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;       // cols × k, column j contiguous
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> tile: array<f32, TILE>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) group_id: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_id) local: vec3u,
) {
  let group = group_id.y * groups.x + group_id.x;
  // Uniform per workgroup, so the barriers stay in uniform control flow.
  if (group >= params.groups) {
    return;
  }
  let row = group * WG + local.x;
  let live = row < params.rows;
  let base = row * params.cols;
  let total = params.cols * params.k;
  var score = 0.0;
  var t = 0.0;
  // W is stored transposed (k × cols), so the flat index i = j * cols + c walks column j of W.
  for (var start = 0u; start < total; start += TILE) {
    let n = min(TILE, total - start);
    for (var i = local.x; i < n; i += WG) {
      tile[i] = w[start + i];
    }
    workgroupBarrier();
    if (live) {
      for (var i = 0u; i < n; i++) {
        let flat = start + i;
        let c = flat % params.cols;
        t += (x[base + c] - mu[c]) * tile[i];
        if (c == params.cols - 1u) {
          score += t * t;
          t = 0.0;
        }
      }
    }
    workgroupBarrier();
  }
  if (live) {
    out[row] = score;
  }
}
`;

/** The program, as the pipeline cache takes it. */
export const MAHALANOBIS_PROGRAM: GpuProgram = {
  name: MAHALANOBIS_NAME,
  wgsl: MAHALANOBIS_WGSL,
  entryPoint: "main",
  overrides: ["WG", "TILE"],
};

const WG = 64;
const TILE = 1024;

/** Options of {@linkcode gpuMahalanobis}. */
export interface GpuMahalanobisOptions {
  /** Cancels between chunks. */
  signal?: AbortSignal;
  /** The most rows uploaded at once; default what one storage binding holds. */
  chunkRows?: number;
}

/**
 * Scores every row of `matrix`: `‖(x − μ)·W‖²` in f32 on the GPU, uploading rows in chunks.
 *
 * @param matrix The rows, `{ data, rows, cols }`.
 * @param mean `cols` values of μ.
 * @param w `cols × k` row-major whitening matrix.
 * @param k Columns of `w` (0 gives all-zero scores).
 * @param options `signal`, `chunkRows`.
 * @returns `rows` scores.
 * @throws {TypeError} When the shapes disagree.
 * @throws {RangeError} When one row does not fit a storage binding.
 * @throws {BackendUnavailableError} When WebGPU is unavailable.
 * @throws {KernelError} When WebGPU reports a validation or internal error.
 * @throws {AbortedError} When `signal` aborts.
 * @example
 * ```ts
 * import { gpuStatus, releaseGpu } from "../device.ts";
 * import { gpuMahalanobis } from "./mahalanobis.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const m = { data: new Float32Array([3, 4]), rows: 1, cols: 2 };
 *   const s = await gpuMahalanobis(m, new Float64Array([1, 1]), new Float64Array([1, 0, 0, 1]), 2);
 *   assert(s[0] === 13);
 * }
 * await releaseGpu();
 * ```
 */
export async function gpuMahalanobis(
  matrix: Matrix,
  mean: Float64Array,
  w: Float64Array,
  k: number,
  options: GpuMahalanobisOptions = {},
): Promise<Float32Array> {
  const { data, rows, cols } = checkMatrix(matrix);
  checkInteger("k", k);
  if (mean.length !== cols || w.length !== cols * k) {
    throw new TypeError(
      `mean must hold ${cols} values and w ${cols}·${k}, got ${mean.length} and ${w.length}`,
    );
  }
  const gpu = await getGpu();
  const out = new Float32Array(rows);
  if (rows === 0 || cols === 0 || k === 0) return out;
  const { device, pool, limits } = gpu;
  const maxBytes = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  if (cols * 4 > maxBytes || cols * k * 4 > maxBytes) {
    throw new RangeError(
      `Cannot score on the GPU: ${cols} bands exceed this device's storage binding of ` +
        `${maxBytes} bytes; use the wasm backend`,
    );
  }
  const maxPerDim = limits.maxComputeWorkgroupsPerDimension;
  const chunkRows = Math.max(
    1,
    Math.min(
      rows,
      Math.floor(maxBytes / (cols * 4)),
      maxPerDim * maxPerDim * WG,
      options.chunkRows ?? Infinity,
    ),
  );
  const label = `prism ${MAHALANOBIS_NAME}`;
  // W transposed, so column j is contiguous (see the WGSL).
  const wt = new Float32Array(cols * k);
  for (let c = 0; c < cols; c++) for (let j = 0; j < k; j++) wt[j * cols + c] = w[c * k + j];

  return await gpu.scoped(MAHALANOBIS_NAME, async () => {
    const pipeline = await gpu.pipelines.get(MAHALANOBIS_PROGRAM, { WG, TILE });
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    const input = pool.acquire(chunkRows * cols * 4, usage, `${label} input`);
    const muBuf = pool.acquire(cols * 4, usage, `${label} mean`);
    const wBuf = pool.acquire(cols * k * 4, usage, `${label} w`);
    const outBuf = pool.acquire(
      chunkRows * 4,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
      `${label} out`,
    );
    const params = pool.acquire(16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label);
    try {
      device.queue.writeBuffer(muBuf, 0, Float32Array.from(mean));
      device.queue.writeBuffer(wBuf, 0, wt);
      for (let start = 0; start < rows; start += chunkRows) {
        if (options.signal?.aborted) {
          throw new AbortedError("gpuMahalanobis", { cause: options.signal.reason });
        }
        const n = Math.min(chunkRows, rows - start);
        const groups = Math.ceil(n / WG);
        device.queue.writeBuffer(params, 0, new Uint32Array([n, cols, k, groups]));
        gpu.writeRows(input, data, cols, start, n);
        gpu.dispatch(pipeline, label, [
          { buffer: input, size: n * cols * 4 },
          { buffer: muBuf, size: cols * 4 },
          { buffer: wBuf, size: cols * k * 4 },
          { buffer: outBuf, size: n * 4 },
          { buffer: params, size: 16 },
        ], groups);
        out.set(new Float32Array(await gpu.readBack(outBuf, 0, n * 4)), start);
      }
      return out;
    } finally {
      for (const b of [input, muBuf, wBuf, outBuf, params]) pool.release(b);
    }
  });
}
