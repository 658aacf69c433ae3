/**
 * Float64 references of the layer ops (tests/nn_ops_*_test.ts), written straight from PyTorch's
 * definitions as plain loops, independent of the kernels' formulations: the transposed
 * convolution as a scatter of each input pixel through the kernel, the norms from their
 * statistics, upsampling from PyTorch's source-index rule. Checked against PyTorch's fixtures in
 * nn_ops_fixtures_test.ts. Also the seeded cases and the backends the tests run on.
 *
 * @module
 */

import { erf } from "./_conv_gpu_cases.ts";

/** NHWC shape. */
export type Shape4 = readonly [number, number, number, number];

/** PyTorch's `conv_transpose2d` (symmetric padding `p`, no output padding), NHWC, weights `[kh, kw, in, out]`. */
export function convTransposeF64(
  x: ArrayLike<number>,
  shape: Shape4,
  w: ArrayLike<number>,
  wShape: Shape4,
  o: { stride: number; padding: number; bias?: ArrayLike<number> },
): { y: Float64Array; shape: Shape4 } {
  const [n, h, wd] = shape;
  const [kh, kw, , co] = wShape;
  const { stride: s, padding: p } = o;
  const oh = (h - 1) * s - 2 * p + kh;
  const ow = (wd - 1) * s - 2 * p + kw;
  const y = new Float64Array(n * oh * ow * co);
  if (o.bias) { for (let i = 0; i < y.length; i++) y[i] = o.bias[i % co]; }
  eachTransposedTap(shape, wShape, o, (xi, wi, yi) => {
    y[yi] += x[xi] * w[wi];
  });
  return { y, shape: [n, oh, ow, co] };
}

/** Its gradients given `dy`: `dx`, `dw` (`[kh, kw, in, out]`), `db`. */
export function convTransposeBackwardF64(
  x: ArrayLike<number>,
  shape: Shape4,
  w: ArrayLike<number>,
  wShape: Shape4,
  dy: ArrayLike<number>,
  o: { stride: number; padding: number },
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const co = wShape[3];
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  const db = new Float64Array(co);
  for (let i = 0; i < dy.length; i++) db[i % co] += dy[i];
  eachTransposedTap(shape, wShape, o, (xi, wi, yi) => {
    dx[xi] += dy[yi] * w[wi];
    dw[wi] += dy[yi] * x[xi];
  });
  return { dx, dw, db };
}

/** Every product of a transposed convolution: input pixel (iy, ix) lands at iy·s − p + ky. */
function eachTransposedTap(
  shape: Shape4,
  wShape: Shape4,
  o: { stride: number; padding: number },
  visit: (xi: number, wi: number, yi: number) => void,
): void {
  const [n, h, wd, ci] = shape;
  const [kh, kw, , co] = wShape;
  const oh = (h - 1) * o.stride - 2 * o.padding + kh;
  const ow = (wd - 1) * o.stride - 2 * o.padding + kw;
  for (let b = 0; b < n; b++) {
    for (let iy = 0; iy < h; iy++) {
      for (let ix = 0; ix < wd; ix++) {
        for (let ky = 0; ky < kh; ky++) {
          const oy = iy * o.stride - o.padding + ky;
          if (oy < 0 || oy >= oh) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ox = ix * o.stride - o.padding + kx;
            if (ox < 0 || ox >= ow) continue;
            for (let c = 0; c < ci; c++) {
              for (let d = 0; d < co; d++) {
                visit(
                  ((b * h + iy) * wd + ix) * ci + c,
                  ((ky * kw + kx) * ci + c) * co + d,
                  ((b * oh + oy) * ow + ox) * co + d,
                );
              }
            }
          }
        }
      }
    }
  }
}

/** Exact GELU `v·Φ(v)` and its derivative, and ReLU's. */
export function activationF64(kind: "relu" | "gelu", v: number): { y: number; dy: number } {
  if (kind === "relu") return { y: Math.max(v, 0), dy: v > 0 ? 1 : 0 };
  const phi = 0.5 * (1 + erf(v / Math.SQRT2));
  return { y: v * phi, dy: phi + v * Math.exp(-v * v / 2) / Math.sqrt(2 * Math.PI) };
}

/**
 * A normalisation over groups of values and its gradients, in float64: `groupOf(i)` names the
 * group whose mean and biased variance normalise value `i`, `channelOf(i)` its γ/β.
 */
function normF64(
  x: ArrayLike<number>,
  dy: ArrayLike<number> | undefined,
  o: {
    groups: number;
    groupOf: (i: number) => number;
    channels: number;
    gamma: ArrayLike<number>;
    beta: ArrayLike<number>;
    eps: number;
  },
) {
  const { groups, groupOf, channels: C, gamma, beta, eps } = o;
  const count = new Float64Array(groups);
  const mean = new Float64Array(groups);
  const variance = new Float64Array(groups);
  for (let i = 0; i < x.length; i++) {
    mean[groupOf(i)] += x[i];
    count[groupOf(i)]++;
  }
  for (let g = 0; g < groups; g++) mean[g] /= count[g];
  for (let i = 0; i < x.length; i++) variance[groupOf(i)] += (x[i] - mean[groupOf(i)]) ** 2;
  for (let g = 0; g < groups; g++) variance[g] /= count[g];
  const xhat = Float64Array.from(
    { length: x.length },
    (_, i) => (x[i] - mean[groupOf(i)]) / Math.sqrt(variance[groupOf(i)] + eps),
  );
  const y = xhat.map((v, i) => v * gamma[i % C] + beta[i % C]);
  if (dy === undefined) return { y, mean, variance };
  // dx = γ/σ·(dy − mean_group(dy·γ)/γ … ) written generally: g = dy·γ,
  // dx = (g − mean_group(g) − x̂·mean_group(g·x̂))/σ.
  const sg = new Float64Array(groups);
  const sgx = new Float64Array(groups);
  const dGamma = new Float64Array(C);
  const dBeta = new Float64Array(C);
  for (let i = 0; i < x.length; i++) {
    const g = dy[i] * gamma[i % C];
    sg[groupOf(i)] += g;
    sgx[groupOf(i)] += g * xhat[i];
    dGamma[i % C] += dy[i] * xhat[i];
    dBeta[i % C] += dy[i];
  }
  const dx = Float64Array.from({ length: x.length }, (_, i) => {
    const q = groupOf(i);
    return (dy[i] * gamma[i % C] - sg[q] / count[q] - xhat[i] * sgx[q] / count[q]) /
      Math.sqrt(variance[q] + eps);
  });
  return { y, mean, variance, dx, dGamma, dBeta };
}

/** Batch norm with batch statistics (per channel over n, h, w) and, given `dy`, its gradients. */
export function batchNormF64(
  x: ArrayLike<number>,
  channels: number,
  o: { gamma: ArrayLike<number>; beta: ArrayLike<number>; eps: number; dy?: ArrayLike<number> },
) {
  return normF64(x, o.dy, { ...o, groups: channels, groupOf: (i) => i % channels, channels });
}

/** Layer norm over the channels of each pixel and, given `dy`, its gradients. */
export function layerNormF64(
  x: ArrayLike<number>,
  channels: number,
  o: { gamma: ArrayLike<number>; beta: ArrayLike<number>; eps: number; dy?: ArrayLike<number> },
) {
  return normF64(x, o.dy, {
    ...o,
    groups: x.length / channels,
    groupOf: (i) => Math.floor(i / channels),
    channels,
  });
}

/**
 * PyTorch's bilinear interpolation weights along one axis (`align_corners=False`):
 * `weights[o][i]`, from `src = max((o + ½)/s − ½, 0)`, `i0 = ⌊src⌋`, `i1 = min(i0 + 1, in − 1)`.
 */
function axisWeights(size: number, scale: number): Float64Array[] {
  return Array.from({ length: size * scale }, (_, o) => {
    const row = new Float64Array(size);
    const src = Math.max((o + 0.5) / scale - 0.5, 0);
    const i0 = Math.floor(src);
    const i1 = i0 < size - 1 ? i0 + 1 : i0;
    const l1 = src - i0;
    row[i0] += 1 - l1;
    row[i1] += l1;
    return row;
  });
}

/** Bilinear upsampling as a dense linear map: `y`, and given `dy` the adjoint `dx`. */
export function upsampleF64(
  x: ArrayLike<number>,
  shape: Shape4,
  scale: number,
  dy?: ArrayLike<number>,
): { y: Float64Array; dx?: Float64Array } {
  const [n, h, w, c] = shape;
  const wy = axisWeights(h, scale);
  const wx = axisWeights(w, scale);
  const y = new Float64Array(n * h * scale * w * scale * c);
  const dx = dy ? new Float64Array(x.length) : undefined;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < h * scale; oy++) {
      for (let ox = 0; ox < w * scale; ox++, o += c) {
        for (let iy = 0; iy < h; iy++) {
          for (let ix = 0; ix < w; ix++) {
            const weight = wy[oy][iy] * wx[ox][ix];
            if (weight === 0) continue;
            const i = ((b * h + iy) * w + ix) * c;
            for (let k = 0; k < c; k++) {
              y[o + k] += weight * x[i + k];
              if (dx && dy) dx[i + k] += weight * dy[o + k];
            }
          }
        }
      }
    }
  }
  return { y, dx };
}
