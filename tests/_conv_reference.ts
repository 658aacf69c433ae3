/**
 * Float64 reference convolutions (naive loops, no tiling) that every backend's conv kernels are
 * held to: forward, the gradient of the input and of the weights, dense and depthwise, over the
 * geometry of `core/conv_geometry.ts`. Slow on purpose: obviously right beats fast here.
 *
 * @module
 */

import type { ConvGeometry } from "../core/conv_geometry.ts";

/** Values of an NHWC image, HWIO weights (`[kh, kw, c, oc]`, depthwise `[kh, kw, c, 1]`). */
export interface ConvOperands {
  readonly input: ArrayLike<number>;
  readonly weights: ArrayLike<number>;
  readonly bias?: ArrayLike<number>;
}

/** Calls `visit(out index, input index, weight index)` for every multiply of the convolution. */
function eachTap(
  g: ConvGeometry,
  visit: (o: number, i: number, wIndex: number) => void,
): void {
  for (let b = 0; b < g.n; b++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) {
        const oBase = ((b * g.oh + oy) * g.ow + ox) * g.oc;
        for (let ky = 0; ky < g.kh; ky++) {
          const iy = oy * g.stride + ky - g.padTop;
          if (iy < 0 || iy >= g.h) continue;
          for (let kx = 0; kx < g.kw; kx++) {
            const ix = ox * g.stride + kx - g.padLeft;
            if (ix < 0 || ix >= g.w) continue;
            const iBase = ((b * g.h + iy) * g.w + ix) * g.c;
            const wBase = (ky * g.kw + kx) * g.c;
            if (g.depthwise) {
              for (let c = 0; c < g.c; c++) visit(oBase + c, iBase + c, wBase + c);
            } else {
              for (let c = 0; c < g.c; c++) {
                for (let oc = 0; oc < g.oc; oc++) {
                  visit(oBase + oc, iBase + c, (wBase + c) * g.oc + oc);
                }
              }
            }
          }
        }
      }
    }
  }
}

/**
 * The forward convolution in float64, plus bias.
 *
 * @param g The geometry.
 * @param x Input, weights and optional bias.
 * @returns `[n, oh, ow, oc]` values.
 */
export function convForwardF64(g: ConvGeometry, x: ConvOperands): Float64Array {
  const out = new Float64Array(g.n * g.oh * g.ow * g.oc);
  if (x.bias) { for (let o = 0; o < out.length; o++) out[o] = x.bias[o % g.oc]; }
  eachTap(g, (o, i, w) => {
    out[o] += x.input[i] * x.weights[w];
  });
  return out;
}

/**
 * The gradients of a convolution in float64, given the gradient of its output.
 *
 * @param g The geometry.
 * @param x Input and weights of the forward call.
 * @param dy Gradient of the output, `[n, oh, ow, oc]`.
 * @returns The gradients of the input, the weights and the bias.
 */
export function convBackwardF64(
  g: ConvGeometry,
  x: ConvOperands,
  dy: ArrayLike<number>,
): { dInput: Float64Array; dWeights: Float64Array; dBias: Float64Array } {
  const dInput = new Float64Array(x.input.length);
  const dWeights = new Float64Array(x.weights.length);
  const dBias = new Float64Array(g.oc);
  for (let o = 0; o < dy.length; o++) dBias[o % g.oc] += dy[o];
  eachTap(g, (o, i, w) => {
    dInput[i] += dy[o] * x.weights[w];
    dWeights[w] += dy[o] * x.input[i];
  });
  return { dInput, dWeights, dBias };
}

/**
 * The largest `|a − b|` relative to the largest `|b|` (1 when b is all zeros): the error
 * measure the conv tests state their tolerances in.
 *
 * @param a The values under test.
 * @param b The float64 reference.
 * @returns The relative error.
 */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs reference ${b.length}`);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? err : err / scale;
}
