/**
 * The memory-bound layers on the WASM backend: activation, residual add, per-channel affine,
 * batch and layer norm and bilinear upsampling, forward and backward, as TypeScript loops over
 * the values (kernel-memory views are read in place) writing new kernel-memory storage. They are
 * a few passes over memory each, which V8's JIT runs near memory speed; the sums of the norms are
 * float64.
 *
 * Every host checks its operands for NaN and infinity (naming the tensor, pixel and channel).
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import { InvalidDataError } from "../core/errors.ts";
import { firstNonFinite } from "../core/validate.ts";
import type { HostOptions } from "./host.ts";
import { loadKernels } from "./loader.ts";
import { WasmStorage } from "./storage.ts";

/** `"none"`, `"relu"` or `"gelu"` (exact erf form). */
export type LayerActivation = "none" | "relu" | "gelu";

/** Options of every host here. */
export type LayerHostOptions = Pick<HostOptions, "operation" | "signal">;

/**
 * Throws {@linkcode InvalidDataError} naming the first NaN or infinity of `data`.
 *
 * @param operation The operation, for the message.
 * @param what The operand, e.g. `"input"`.
 * @param data The values, `channels` per pixel.
 * @param channels Values per pixel.
 * @throws {InvalidDataError} When a value is not finite.
 * @example
 * ```ts
 * import { checkFiniteValues } from "./layers.ts";
 * import assert from "node:assert";
 * assert.throws(() => checkFiniteValues("add()", "b", new Float32Array([1, NaN]), 2),
 *   /add\(\): b holds NaN at pixel 0, channel 1/);
 * ```
 */
export function checkFiniteValues(
  operation: string,
  what: string,
  data: Float32Array,
  channels: number,
): void {
  const bad = firstNonFinite(data, Math.max(1, channels));
  if (bad === undefined) return;
  throw new InvalidDataError(
    `${operation}: ${what} holds ${bad.value} at pixel ${bad.row}, channel ${bad.col}; the ` +
      `values must be finite (check the layer before it)`,
    { position: { pixel: bad.row, channel: bad.col } },
  );
}

/** erf to about 1e-7 absolute (Abramowitz & Stegun 7.1.26), in float64. */
function erf(x: number): number {
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const poly = t * (0.254829592 +
    t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return Math.sign(x) * (1 - poly * Math.exp(-a * a));
}

/**
 * The activation function.
 *
 * @param kind `"none"`, `"relu"` or `"gelu"`.
 * @returns `v ↦ act(v)`.
 * @example
 * ```ts
 * import { activationFunction } from "./layers.ts";
 * import assert from "node:assert";
 * assert(activationFunction("relu")(-1) === 0 && activationFunction("gelu")(0) === 0);
 * ```
 */
export function activationFunction(kind: LayerActivation): (v: number) => number {
  if (kind === "relu") return (v) => (v > 0 ? v : 0);
  if (kind === "gelu") return (v) => 0.5 * v * (1 + erf(v * Math.SQRT1_2));
  return (v) => v;
}

/** The activation's derivative. */
function activationDerivative(kind: LayerActivation): (v: number) => number {
  if (kind === "relu") return (v) => (v > 0 ? 1 : 0);
  if (kind === "gelu") {
    return (v) =>
      0.5 * (1 + erf(v * Math.SQRT1_2)) + v * 0.3989422804014327 * Math.exp(-0.5 * v * v);
  }
  return () => 1;
}

/** New kernel-memory storage of `length` values, filled by `fill(out)`. */
async function produce(length: number, fill: (out: Float32Array) => void): Promise<WasmStorage> {
  const out = new WasmStorage(await loadKernels(), length);
  try {
    fill(out.view());
  } catch (e) {
    out.free();
    throw e;
  }
  return out;
}

/** Checks every operand, then aborts if asked. */
function start(
  options: LayerHostOptions,
  channels: number,
  operands: Record<string, Float32Array>,
): void {
  for (const [what, data] of Object.entries(operands)) {
    checkFiniteValues(options.operation, what, data, channels);
  }
  throwIfAborted(options.signal, options.operation);
}

/**
 * `act(x·scale[c] + shift[c])` per value of an NHWC tensor (no scale/shift: `act(x)`).
 *
 * @param x The values, `channels` per pixel.
 * @param channels Channels (the last axis).
 * @param o `scale`, `shift` (`channels` each, or neither), `activation`, `operation`, `signal`.
 * @returns The result, new kernel-memory storage.
 * @throws {InvalidDataError} When `x`, `scale` or `shift` hold NaN or infinity.
 * @example
 * ```ts
 * import { wasmChannelAffine } from "./layers.ts";
 * import assert from "node:assert";
 * using y = await wasmChannelAffine(new Float32Array([1, -2]), 2, {
 *   scale: new Float32Array([2, 2]), shift: new Float32Array([0, 1]), activation: "relu",
 *   operation: "example" });
 * assert.deepStrictEqual([...y.view()], [2, 0]);
 * ```
 */
export async function wasmChannelAffine(
  x: Float32Array,
  channels: number,
  o: LayerHostOptions & {
    scale?: Float32Array;
    shift?: Float32Array;
    activation?: LayerActivation;
  },
): Promise<WasmStorage> {
  const vectors: Record<string, Float32Array> = o.scale && o.shift
    ? { scale: o.scale, shift: o.shift }
    : {};
  start(o, channels, { input: x, ...vectors });
  const act = activationFunction(o.activation ?? "none");
  const { scale, shift } = o;
  return await produce(x.length, (out) => {
    if (scale && shift) {
      for (let i = 0; i < x.length; i++) {
        const c = i % channels;
        out[i] = act(x[i] * scale[c] + shift[c]);
      }
    } else {
      for (let i = 0; i < x.length; i++) out[i] = act(x[i]);
    }
  });
}

/**
 * `dy · act'(x)`: the gradient of an activation's input.
 *
 * @param x The pre-activation values.
 * @param dy The gradient of the activation's output, as many values.
 * @param o `activation`, `operation`, `signal`.
 * @returns The gradient, new kernel-memory storage.
 * @throws {InvalidDataError} When `x` or `dy` hold NaN or infinity.
 * @example
 * ```ts
 * import { wasmActivationGrad } from "./layers.ts";
 * import assert from "node:assert";
 * using d = await wasmActivationGrad(new Float32Array([-1, 2]), new Float32Array([5, 5]), {
 *   activation: "relu", operation: "example" });
 * assert.deepStrictEqual([...d.view()], [0, 5]);
 * ```
 */
export async function wasmActivationGrad(
  x: Float32Array,
  dy: Float32Array,
  o: LayerHostOptions & { activation: LayerActivation },
): Promise<WasmStorage> {
  start(o, x.length, { input: x, dy });
  const d = activationDerivative(o.activation);
  return await produce(x.length, (out) => {
    for (let i = 0; i < x.length; i++) out[i] = dy[i] * d(x[i]);
  });
}

/**
 * `a + b`, value by value.
 *
 * @param a The first operand.
 * @param b The second, as many values.
 * @param o `operation`, `signal`.
 * @returns The sum, new kernel-memory storage.
 * @throws {InvalidDataError} When an operand holds NaN or infinity.
 * @example
 * ```ts
 * import { wasmAdd } from "./layers.ts";
 * import assert from "node:assert";
 * using y = await wasmAdd(new Float32Array([1, 2]), new Float32Array([3, 4]),
 *   { operation: "example" });
 * assert.deepStrictEqual([...y.view()], [4, 6]);
 * ```
 */
export async function wasmAdd(
  a: Float32Array,
  b: Float32Array,
  o: LayerHostOptions,
): Promise<WasmStorage> {
  start(o, a.length, { a, b });
  return await produce(a.length, (out) => {
    for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  });
}

/**
 * The per-channel mean and biased variance over every pixel, in float64 (two passes).
 *
 * @param x The values, `channels` per pixel (at least one pixel).
 * @param channels Channels.
 * @param o `operation`, `signal`.
 * @returns `mean` and `variance`, `channels` each.
 * @throws {InvalidDataError} When `x` holds NaN or infinity.
 * @example
 * ```ts
 * import { wasmChannelMoments } from "./layers.ts";
 * import assert from "node:assert";
 * const m = wasmChannelMoments(new Float32Array([1, 0, 3, 0]), 2, { operation: "example" });
 * assert.deepStrictEqual([...m.mean, ...m.variance], [2, 0, 1, 0]);
 * ```
 */
export function wasmChannelMoments(
  x: Float32Array,
  channels: number,
  o: LayerHostOptions,
): { mean: Float64Array; variance: Float64Array } {
  start(o, channels, { input: x });
  const pixels = x.length / channels;
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  for (let i = 0; i < x.length; i++) mean[i % channels] += x[i];
  for (let c = 0; c < channels; c++) mean[c] /= pixels;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - mean[i % channels];
    variance[i % channels] += d * d;
  }
  for (let c = 0; c < channels; c++) variance[c] /= pixels;
  return { mean, variance };
}

/**
 * The gradients of a batch norm (training mode, batch statistics) given its forward's `mean`
 * and `variance`: `dβ = Σdy`, `dγ = Σdy·x̂`, `dx = γ/σ·(dy − dβ/N − x̂·dγ/N)`.
 *
 * @param x The forward's input.
 * @param dy The gradient of its output.
 * @param o `channels`, `gamma`, `mean`, `variance`, `eps`, `operation`, `signal`.
 * @returns `dInput` (new kernel-memory storage), `dGamma`, `dBeta`.
 * @throws {InvalidDataError} When an operand holds NaN or infinity.
 * @example
 * ```ts
 * import { wasmBatchNormGrad } from "./layers.ts";
 * import assert from "node:assert";
 * const g = await wasmBatchNormGrad(new Float32Array([1, 3]), new Float32Array([1, 1]), {
 *   channels: 1, gamma: new Float32Array([1]), mean: new Float32Array([2]),
 *   variance: new Float32Array([1]), eps: 0, operation: "example" });
 * assert(g.dBeta[0] === 2 && g.dGamma[0] === 0);
 * assert.deepStrictEqual([...g.dInput.view()], [0, 0]);
 * g.dInput.free();
 * ```
 */
export async function wasmBatchNormGrad(
  x: Float32Array,
  dy: Float32Array,
  o: LayerHostOptions & {
    channels: number;
    gamma: Float32Array;
    mean: Float32Array;
    variance: Float32Array;
    eps: number;
  },
): Promise<{ dInput: WasmStorage; dGamma: Float64Array; dBeta: Float64Array }> {
  const C = o.channels;
  start(o, C, { input: x, dy });
  const pixels = x.length / C;
  const rstd = Float64Array.from(o.variance, (v) => 1 / Math.sqrt(v + o.eps));
  const dBeta = new Float64Array(C);
  const dGamma = new Float64Array(C);
  for (let i = 0; i < x.length; i++) {
    const c = i % C;
    dBeta[c] += dy[i];
    dGamma[c] += dy[i] * (x[i] - o.mean[c]) * rstd[c];
  }
  const k = Float64Array.from(rstd, (r, c) => o.gamma[c] * r);
  const dInput = await produce(x.length, (out) => {
    for (let i = 0; i < x.length; i++) {
      const c = i % C;
      const xhat = (x[i] - o.mean[c]) * rstd[c];
      out[i] = k[c] * (dy[i] - dBeta[c] / pixels - xhat * dGamma[c] / pixels);
    }
  });
  return { dInput, dGamma, dBeta };
}

/**
 * Layer norm over the channels of each pixel, affine: `(x − μ)/√(σ² + eps)·γ + β`.
 *
 * @param x The values, `channels` per pixel.
 * @param o `channels`, `gamma`, `beta`, `eps`, `operation`, `signal`.
 * @returns The result, new kernel-memory storage.
 * @throws {InvalidDataError} When `x` holds NaN or infinity.
 * @example
 * ```ts
 * import { wasmLayerNorm } from "./layers.ts";
 * import assert from "node:assert";
 * using y = await wasmLayerNorm(new Float32Array([1, 3]), { channels: 2,
 *   gamma: new Float32Array([1, 1]), beta: new Float32Array([0, 0]), eps: 0,
 *   operation: "example" });
 * assert.deepStrictEqual([...y.view()], [-1, 1]);
 * ```
 */
export async function wasmLayerNorm(
  x: Float32Array,
  o: LayerHostOptions & { channels: number; gamma: Float32Array; beta: Float32Array; eps: number },
): Promise<WasmStorage> {
  const C = o.channels;
  start(o, C, { input: x });
  return await produce(x.length, (out) => {
    for (let base = 0; base < x.length; base += C) {
      const [mean, rstd] = pixelMoments(x, base, C, o.eps);
      for (let c = 0; c < C; c++) {
        out[base + c] = (x[base + c] - mean) * rstd * o.gamma[c] + o.beta[c];
      }
    }
  });
}

/**
 * The gradients of {@linkcode wasmLayerNorm}: with `g = dy·γ`,
 * `dx = (g − mean(g) − x̂·mean(g·x̂))/σ`, `dγ = Σ dy·x̂`, `dβ = Σ dy` over every pixel.
 *
 * @param x The forward's input.
 * @param dy The gradient of its output.
 * @param o `channels`, `gamma`, `eps`, `operation`, `signal`.
 * @returns `dInput` (new kernel-memory storage), `dGamma`, `dBeta`.
 * @throws {InvalidDataError} When an operand holds NaN or infinity.
 * @example
 * ```ts
 * import { wasmLayerNormGrad } from "./layers.ts";
 * import assert from "node:assert";
 * const g = await wasmLayerNormGrad(new Float32Array([1, 3]), new Float32Array([1, 1]), {
 *   channels: 2, gamma: new Float32Array([1, 1]), eps: 0, operation: "example" });
 * assert.deepStrictEqual([...g.dBeta, ...g.dGamma], [1, 1, -1, 1]);
 * assert.deepStrictEqual([...g.dInput.view()], [0, 0]);
 * g.dInput.free();
 * ```
 */
export async function wasmLayerNormGrad(
  x: Float32Array,
  dy: Float32Array,
  o: LayerHostOptions & { channels: number; gamma: Float32Array; eps: number },
): Promise<{ dInput: WasmStorage; dGamma: Float64Array; dBeta: Float64Array }> {
  const C = o.channels;
  start(o, C, { input: x, dy });
  const dGamma = new Float64Array(C);
  const dBeta = new Float64Array(C);
  const xhat = new Float64Array(C);
  const dInput = await produce(x.length, (out) => {
    for (let base = 0; base < x.length; base += C) {
      const [mean, rstd] = pixelMoments(x, base, C, o.eps);
      let sg = 0;
      let sgx = 0;
      for (let c = 0; c < C; c++) {
        xhat[c] = (x[base + c] - mean) * rstd;
        const g = dy[base + c] * o.gamma[c];
        sg += g;
        sgx += g * xhat[c];
        dGamma[c] += dy[base + c] * xhat[c];
        dBeta[c] += dy[base + c];
      }
      for (let c = 0; c < C; c++) {
        const g = dy[base + c] * o.gamma[c];
        out[base + c] = rstd * (g - sg / C - xhat[c] * sgx / C);
      }
    }
  });
  return { dInput, dGamma, dBeta };
}

/** Mean and 1/√(biased variance + eps) of `x[base, base + C)`, two passes in float64. */
function pixelMoments(x: Float32Array, base: number, C: number, eps: number): [number, number] {
  let sum = 0;
  for (let c = 0; c < C; c++) sum += x[base + c];
  const mean = sum / C;
  let sq = 0;
  for (let c = 0; c < C; c++) sq += (x[base + c] - mean) ** 2;
  return [mean, 1 / Math.sqrt(sq / C + eps)];
}

/** The bilinear taps of every output index along an axis (PyTorch, align_corners=False). */
function axisTaps(size: number, scale: number) {
  const out = size * scale;
  const i0 = new Int32Array(out);
  const i1 = new Int32Array(out);
  const l1 = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    const src = Math.max((o + 0.5) / scale - 0.5, 0);
    i0[o] = Math.min(Math.floor(src), size - 1);
    i1[o] = Math.min(i0[o] + 1, size - 1);
    l1[o] = src - i0[o];
  }
  return { out, i0, i1, l1 };
}

/**
 * Bilinear upsampling of an NHWC tensor by an integer `scale` (PyTorch's `align_corners=False`),
 * or, with `backward`, its adjoint: the gradient of the input from that of the output.
 *
 * @param x The input `[n, h, w, c]` (backward: the output's gradient `[n, h·s, w·s, c]`).
 * @param o `shape` of the small tensor `[n, h, w, c]`, `scale`, `backward`, `operation`,
 *   `signal`.
 * @returns The result, new kernel-memory storage.
 * @throws {InvalidDataError} When `x` holds NaN or infinity.
 * @example
 * ```ts
 * import { wasmUpsample } from "./layers.ts";
 * import assert from "node:assert";
 * using y = await wasmUpsample(new Float32Array([0, 4]), { shape: [1, 1, 2, 1], scale: 2,
 *   operation: "example" });
 * assert.deepStrictEqual([...y.view()], [0, 1, 3, 4, 0, 1, 3, 4]);
 * ```
 */
export async function wasmUpsample(
  x: Float32Array,
  o: LayerHostOptions & { shape: readonly number[]; scale: number; backward?: boolean },
): Promise<WasmStorage> {
  const [n, h, w, C] = o.shape;
  start(o, C, { [o.backward ? "dy" : "input"]: x });
  const ty = axisTaps(h, o.scale);
  const tx = axisTaps(w, o.scale);
  const small = (b: number, y: number, xx: number) => ((b * h + y) * w + xx) * C;
  if (o.backward) {
    const acc = new Float64Array(n * h * w * C);
    let i = 0;
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < ty.out; oy++) {
        for (let ox = 0; ox < tx.out; ox++, i += C) {
          const wy = [1 - ty.l1[oy], ty.l1[oy]];
          const wx = [1 - tx.l1[ox], tx.l1[ox]];
          const ys = [ty.i0[oy], ty.i1[oy]];
          const xs = [tx.i0[ox], tx.i1[ox]];
          for (let p = 0; p < 4; p++) {
            const base = small(b, ys[p >> 1], xs[p & 1]);
            const weight = wy[p >> 1] * wx[p & 1];
            for (let c = 0; c < C; c++) acc[base + c] += weight * x[i + c];
          }
        }
      }
    }
    return await produce(acc.length, (out) => out.set(acc));
  }
  return await produce(n * ty.out * tx.out * C, (out) => {
    let i = 0;
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < ty.out; oy++) {
        const r0 = ty.i0[oy];
        const r1 = ty.i1[oy];
        const ly = ty.l1[oy];
        for (let ox = 0; ox < tx.out; ox++, i += C) {
          const lx = tx.l1[ox];
          const a = small(b, r0, tx.i0[ox]);
          const bb = small(b, r0, tx.i1[ox]);
          const c0 = small(b, r1, tx.i0[ox]);
          const d = small(b, r1, tx.i1[ox]);
          for (let c = 0; c < C; c++) {
            const top = (1 - lx) * x[a + c] + lx * x[bb + c];
            const bottom = (1 - lx) * x[c0 + c] + lx * x[d + c];
            out[i + c] = (1 - ly) * top + ly * bottom;
          }
        }
      }
    }
  });
}
