/**
 * Local (windowed) RX: each pixel is scored against the statistics of an annulus around it, the
 * `outer × outer` window minus the `inner × inner` window (both centred on the pixel, odd sizes).
 *
 * Edges: windows are clipped at the image border (never shifted or padded), so border pixels get
 * fewer background pixels. An annulus of fewer than 2 pixels (only on images of 1–2 pixels) uses
 * the covariance 0, i.e. `‖x − μ‖² / eps`.
 *
 * Implementation: TypeScript over float64 typed arrays (no Rust kernel). Sums of `x` and of the
 * upper triangle of `x xᵀ` are kept as running box sums — vertical strip sums per column,
 * updated as the centre row moves, then a sliding sum along the row — so each pixel's window
 * statistics cost `O(C²)` whatever the window size; the data is centred on its global mean first
 * so the sums of squares do not cancel. Each pixel then solves `(S + eps·I) z = x − μ` by a
 * float64 Cholesky factorisation (`O(C³)` per pixel); a pivot that is not positive (possible
 * only with `eps = 0` and a singular annulus) drops that direction, giving a generalised inverse.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import type { Cube, RunOptions } from "../core/types.ts";
import { assertFinite, checkInteger, cubeAsMatrix } from "../core/validate.ts";
import { chooseBackend } from "./route.ts";

/**
 * Options of {@linkcode rxLocal}. `backend`: `"auto"` (default) and `"wasm"` run the CPU
 * implementation; there is no WebGPU one, so `"webgpu"` throws `BackendUnavailableError`.
 * `signal` cancels between image rows; `onProgress` is called after each image row with
 * `{ done, total, unit: "lines" }`.
 */
export interface RxLocalOptions extends RunOptions {
  /** Inner (guard) window side, odd, ≥ 1. */
  inner: number;
  /** Outer window side, odd, > inner. */
  outer: number;
  /** Added to each annulus covariance diagonal; default 1e-6. */
  eps?: number;
  /**
   * The cube is a stack of this many images, each `height / samples` lines (an `N × H × W × C`
   * file read as `N·H` lines): each is scored alone, so no window crosses two images. Default 1.
   */
  samples?: number;
}

/**
 * Local RX scores of every pixel: `(x − μ_a)ᵀ (S_a + eps·I)⁻¹ (x − μ_a)` with `μ_a`, `S_a` (ddof
 * 1) the mean and covariance of the annulus between the inner and outer windows.
 *
 * @param cube A BIP cube with at least 2 pixels.
 * @param options `inner`, `outer` (odd, inner < outer), `eps` (default 1e-6), `samples` (a stack
 *   of images, each scored alone; default 1), `backend` (`"auto"` or `"wasm"`; both run on the
 *   CPU), `signal`, `onProgress`.
 * @returns An H×W map (row-major) of squared distances, float32.
 * @throws {TypeError} When the cube is malformed or a window size is not a whole number.
 * @throws {RangeError} When a window is even, `inner ≥ outer`, `eps < 0`, `samples` does not
 *   divide the height, an image has fewer than 2 pixels, or `backend` is not a backend name.
 * @throws {BackendUnavailableError} When `backend` is `"webgpu"`: rxLocal has no WebGPU
 *   implementation; use `"wasm"` or `"auto"`.
 * @throws {InvalidDataError} When a pixel holds NaN or infinity (names pixel and band).
 * @throws {AbortedError} When `signal` aborts.
 * @example
 * ```ts
 * import { rxLocal } from "./rx_local.ts";
 * import assert from "node:assert";
 * const data = new Float32Array(5 * 5).map((_, i) => (i * 7919) % 13);
 * data[12] = 100;
 * const map = await rxLocal({ data, height: 5, width: 5, bands: 1 }, { inner: 1, outer: 3 });
 * assert(map.indexOf(Math.max(...map)) === 12);
 * ```
 */
export async function rxLocal(cube: Cube, options: RxLocalOptions): Promise<Float32Array> {
  const m = cubeAsMatrix(cube);
  const { height: H, width: W, bands: C } = cube;
  const { inner, outer } = options ?? {};
  await chooseBackend("rxLocal", { backend: options?.backend }); // CPU only: refuses "webgpu"
  checkInteger("options.inner", inner, 1);
  checkInteger("options.outer", outer, 1);
  if (inner % 2 === 0 || outer % 2 === 0 || inner >= outer) {
    throw new RangeError(
      `windows must be odd with inner < outer, got inner ${inner}, outer ${outer}; e.g. (3, 9)`,
    );
  }
  const eps = options.eps ?? 1e-6;
  if (typeof eps !== "number" || !Number.isFinite(eps) || eps < 0) {
    throw new RangeError(`eps must be a finite number ≥ 0, got ${String(eps)}`);
  }
  const samples = options.samples ?? 1;
  checkInteger("options.samples", samples, 1);
  if (H % samples !== 0) {
    throw new RangeError(
      `options.samples (${samples}) must divide the cube's height (${H}): a stack of N images ` +
        `of h lines has height N·h`,
    );
  }
  const h = H / samples;
  if (h * W < 2) {
    throw new RangeError(`local RX needs at least 2 pixels per image, got ${h} x ${W}`);
  }
  if (C === 0) return new Float32Array(H * W);
  assertFinite(m.data, C, "pixel", "band");
  // Each image of a stack is scored alone, so no window reaches into its neighbours.
  const out = new Float32Array(H * W);
  const size = h * W * C;
  for (let k = 0; k < samples; k++) {
    const run = { ...options, linesBefore: k * h, totalLines: H };
    out.set(
      await scoreImage(m.data.subarray(k * size, (k + 1) * size), [h, W, C], eps, run),
      k * h * W,
    );
  }
  return out;
}

/** What {@linkcode scoreImage} needs of the options, with its place in the stack for progress. */
interface ImageRun extends RxLocalOptions {
  /** Lines of the stack before this image. */
  linesBefore: number;
  /** Lines of the whole stack. */
  totalLines: number;
}

/** Local RX of one image (`data` BIP, `shape` `[H, W, C]`, finite, `C ≥ 1`). */
async function scoreImage(
  data: Float32Array,
  shape: [number, number, number],
  eps: number,
  run: ImageRun,
): Promise<Float32Array> {
  const [H, W, C] = shape;
  const { inner, outer } = run;

  const T = C * (C + 1) / 2; // upper-triangle entries
  const F = 1 + C + T; // per pixel: count, x, x xᵀ (upper)
  // Centre on the global mean so the float64 sums of squares do not cancel.
  const mean = new Float64Array(C);
  for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) mean[c] += data[p * C + c];
  for (let c = 0; c < C; c++) mean[c] /= H * W;
  const pixelFeatures = (p: number, dst: Float64Array, sign: number) => {
    const x = p * C;
    dst[0] += sign;
    let t = 1 + C;
    for (let i = 0; i < C; i++) {
      const xi = data[x + i] - mean[i];
      dst[1 + i] += sign * xi;
      for (let j = i; j < C; j++) dst[t++] += sign * xi * (data[x + j] - mean[j]);
    }
  };

  const ho = (outer - 1) / 2, hi = (inner - 1) / 2;
  const strips = [new Float64Array(W * F), new Float64Array(W * F)]; // outer, inner
  const halves = [ho, hi];
  const box = [new Float64Array(F), new Float64Array(F)];
  const out = new Float32Array(H * W);
  const a = new Float64Array(C * C), d = new Float64Array(C), z = new Float64Array(C);
  const row = new Float64Array(F);

  // Vertical strips start covering rows [0, h - 1] for centre row -1; each step adds y + h and
  // removes y - h - 1.
  for (let k = 0; k < 2; k++) {
    for (let y = 0; y < Math.min(halves[k], H); y++) addRow(k, y, 1);
  }
  function addRow(k: number, y: number, sign: number) {
    const s = strips[k];
    for (let x = 0; x < W; x++) {
      row.fill(0);
      pixelFeatures(y * W + x, row, sign);
      const o = x * F;
      for (let f = 0; f < F; f++) s[o + f] += row[f];
    }
  }

  for (let y = 0; y < H; y++) {
    throwIfAborted(run.signal, "rxLocal()");
    for (let k = 0; k < 2; k++) {
      const h = halves[k];
      if (y + h < H) addRow(k, y + h, 1);
      if (y - h - 1 >= 0) addRow(k, y - h - 1, -1);
      box[k].fill(0);
      for (let x = 0; x < Math.min(h, W); x++) addStrip(k, x, 1);
    }
    for (let x = 0; x < W; x++) {
      for (let k = 0; k < 2; k++) {
        const h = halves[k];
        if (x + h < W) addStrip(k, x + h, 1);
        if (x - h - 1 >= 0) addStrip(k, x - h - 1, -1);
      }
      out[y * W + x] = scorePixel(y * W + x);
    }
    run.onProgress?.({ done: run.linesBefore + y + 1, total: run.totalLines, unit: "lines" });
    if ((y & 15) === 15) await new Promise((r) => setTimeout(r, 0)); // let aborts arrive
  }
  return out;

  function addStrip(k: number, x: number, sign: number) {
    const s = strips[k], b = box[k], o = x * F;
    for (let f = 0; f < F; f++) b[f] += sign * s[o + f];
  }

  function scorePixel(p: number): number {
    const bo = box[0], bi = box[1];
    const n = bo[0] - bi[0];
    const denom = Math.max(n - 1, 1);
    for (let i = 0; i < C; i++) {
      const mu = n > 0 ? (bo[1 + i] - bi[1 + i]) / n : 0;
      d[i] = data[p * C + i] - mean[i] - mu;
      z[i] = mu; // reuse: z holds the annulus mean until the solve
    }
    let t = 1 + C;
    for (let i = 0; i < C; i++) {
      for (let j = i; j < C; j++, t++) {
        const v = n >= 2 ? (bo[t] - bi[t] - n * z[i] * z[j]) / denom : 0;
        a[i * C + j] = v + (i === j ? eps : 0);
      }
    }
    return choleskyQuadratic(a, C, d, z);
  }
}

/**
 * `dᵀ A⁻¹ d` for symmetric `A` (upper triangle, destroyed) by Cholesky `A = LLᵀ`:
 * `‖L⁻¹ d‖²`. Pivots ≤ `max pivot · C · 2⁻⁵²` drop their direction.
 */
function choleskyQuadratic(a: Float64Array, n: number, d: Float64Array, y: Float64Array): number {
  // Store L in the lower triangle: a[i*n+j], j <= i; the upper triangle holds A.
  let maxPivot = 0;
  for (let i = 0; i < n; i++) maxPivot = Math.max(maxPivot, a[i * n + i]);
  const tol = maxPivot * n * 2 ** -52;
  let score = 0;
  for (let j = 0; j < n; j++) {
    let s = a[j * n + j];
    for (let k = 0; k < j; k++) s -= a[j * n + k] ** 2;
    const ok = s > tol;
    const l = ok ? Math.sqrt(s) : 0;
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let v = a[j * n + i]; // A[j][i] = A[i][j]
      for (let k = 0; k < j; k++) v -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = ok ? v / l : 0;
    }
    // Forward substitution y = L⁻¹ d, one row at a time.
    let r = d[j];
    for (let k = 0; k < j; k++) r -= a[j * n + k] * y[k];
    y[j] = ok ? r / l : 0;
    score += y[j] * y[j];
  }
  return score;
}
