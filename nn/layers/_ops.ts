/**
 * The layer operations the network runs, in one place: `conv2d` from `ops/`, and stand-ins on the
 * host for the layer ops still being built (`activation`, `add`), with the contract's signatures,
 * until `ops/` provides them.
 *
 * @module
 */

import type { Tensor } from "../../core/types.ts";
import { conv2d, conv2dBackward, type ImageLike } from "../../ops/conv2d.ts";
import { DeviceTensor, toDevice } from "../../tensor/device_tensor.ts";

export { conv2d, conv2dBackward };
export type { ImageLike };

/** The options every stand-in takes. */
interface Common {
  backend?: "auto" | "wasm" | "webgpu";
  signal?: AbortSignal;
}

async function valuesOf(x: ImageLike): Promise<Float32Array> {
  return x instanceof DeviceTensor ? await x.read() : (x as Tensor).data;
}

function backendOf(x: ImageLike, o: Common): "wasm" | "webgpu" {
  if (o.backend === "wasm" || o.backend === "webgpu") return o.backend;
  return x instanceof DeviceTensor ? x.backend : "wasm";
}

const SQRT1_2 = Math.SQRT1_2;

/** erf, Abramowitz–Stegun 7.1.26 is too coarse; this is the W. J. Cody rational form via erfc. */
function erf(x: number): number {
  // Numerical Recipes erfc (Chebyshev), |error| < 1.2e-7.
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(
    -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
      t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
        t * (-0.82215223 + t * 0.17087277)))))))),
  );
  return x >= 0 ? 1 - r : r - 1;
}

/** relu or exact GELU, elementwise. */
export async function activation(
  x: ImageLike,
  o: Common & { kind: "relu" | "gelu" },
): Promise<DeviceTensor> {
  const v = await valuesOf(x);
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const a = v[i];
    out[i] = o.kind === "relu" ? (a > 0 ? a : 0) : 0.5 * a * (1 + erf(a * SQRT1_2));
  }
  return await toDevice(out, { shape: x.shape, backend: backendOf(x, o) });
}

/** The gradient through relu or GELU, given the pre-activation `x`. */
export async function activationBackward(
  x: ImageLike,
  o: Common & { dy: ImageLike; kind: "relu" | "gelu" },
): Promise<DeviceTensor> {
  const v = await valuesOf(x), dy = await valuesOf(o.dy);
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const a = v[i];
    const d = o.kind === "relu"
      ? (a > 0 ? 1 : 0)
      : 0.5 * (1 + erf(a * SQRT1_2)) + a * Math.exp(-0.5 * a * a) / Math.sqrt(2 * Math.PI);
    out[i] = dy[i] * d;
  }
  return await toDevice(out, { shape: x.shape, backend: backendOf(x, o) });
}

/** a + b, same shapes. */
export async function add(a: ImageLike, b: ImageLike, o: Common = {}): Promise<DeviceTensor> {
  const va = await valuesOf(a), vb = await valuesOf(b);
  const out = new Float32Array(va.length);
  for (let i = 0; i < va.length; i++) out[i] = va[i] + vb[i];
  return await toDevice(out, { shape: a.shape, backend: backendOf(a, o) });
}

function missing(name: string): never {
  throw new Error(`${name} is not available yet (the ops branch provides it)`);
}

/** Placeholder until ops/ lands. */
export function convTranspose2d(
  _x: ImageLike,
  _w: Tensor,
  _o: Common & {
    bias?: Float32Array;
    stride?: number;
    padding?: number;
    activation?: "none" | "relu" | "gelu";
    precision?: "f32" | "f16";
  },
): Promise<DeviceTensor> {
  return missing("convTranspose2d");
}
/** Placeholder until ops/ lands. */
export function convTranspose2dBackward(
  _x: ImageLike,
  _w: Tensor,
  _o: Common & { dy: ImageLike; stride?: number; padding?: number },
): Promise<{ dInput: DeviceTensor; dWeights: Float32Array; dBias: Float32Array }> {
  return missing("convTranspose2dBackward");
}
/** Placeholder until ops/ lands. */
export function batchNorm(
  _x: ImageLike,
  _o: Common & { gamma: Float32Array; beta: Float32Array; eps: number },
): Promise<{ output: DeviceTensor; mean: Float32Array; variance: Float32Array }> {
  return missing("batchNorm");
}
/** Placeholder until ops/ lands. */
export function batchNormBackward(
  _x: ImageLike,
  _o: Common & {
    dy: ImageLike;
    gamma: Float32Array;
    mean: Float32Array;
    variance: Float32Array;
    eps: number;
  },
): Promise<{ dInput: DeviceTensor; dGamma: Float32Array; dBeta: Float32Array }> {
  return missing("batchNormBackward");
}
/** Placeholder until ops/ lands. */
export function layerNorm(
  _x: ImageLike,
  _o: Common & { gamma: Float32Array; beta: Float32Array; eps: number },
): Promise<DeviceTensor> {
  return missing("layerNorm");
}
/** Placeholder until ops/ lands. */
export function layerNormBackward(
  _x: ImageLike,
  _o: Common & { dy: ImageLike; gamma: Float32Array; eps: number },
): Promise<{ dInput: DeviceTensor; dGamma: Float32Array; dBeta: Float32Array }> {
  return missing("layerNormBackward");
}
/** Placeholder until ops/ lands. */
export function upsampleBilinear(
  _x: ImageLike,
  _o: Common & { scale: 2 | 4 },
): Promise<DeviceTensor> {
  return missing("upsampleBilinear");
}
/** Placeholder until ops/ lands. */
export function upsampleBilinearBackward(
  _dy: ImageLike,
  _o: Common & { scale: 2 | 4; inputShape: readonly number[] },
): Promise<DeviceTensor> {
  return missing("upsampleBilinearBackward");
}
