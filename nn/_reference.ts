/**
 * A float64 forward pass of a spec, written plainly from the definitions (PyTorch's conventions),
 * for the gradient checker's finite differences and for tests. Slow; for small nets only.
 *
 * @module
 */

import type { ConvLayerSpec, LayerSpec, UpsampleLayerSpec } from "./spec.ts";

/** An NHWC image in float64. */
export interface Image64 {
  /** `n·h·w·c` values. */
  data: Float64Array;
  /** `[n, h, w, c]`. */
  shape: [number, number, number, number];
}

/** Parameter values by dotted name, float64 (f32 arrays are read as they are). */
export type Values64 = ReadonlyMap<string, ArrayLike<number>>;

/**
 * Runs layers in float64.
 *
 * @param layers The spec's layers.
 * @param values Every parameter (and, for inference with batch norm, buffer) by dotted name.
 * @param x The input.
 * @param training Batch statistics for batch norm (biased variance), else running statistics.
 * @returns The output.
 */
export function referenceForward(
  layers: readonly LayerSpec[],
  values: Values64,
  x: Image64,
  training: boolean,
): Image64 {
  return runLayers(layers, "", values, x, training);
}

function runLayers(
  layers: readonly LayerSpec[],
  prefix: string,
  values: Values64,
  x: Image64,
  training: boolean,
): Image64 {
  let h = x;
  for (const l of layers) {
    const path = `${prefix}${l.name}`;
    if (l.type === "residual") {
      const inner = runLayers(l.layers, `${path}.`, values, h, training);
      const data = new Float64Array(h.data.length);
      for (let i = 0; i < data.length; i++) data[i] = h.data[i] + inner.data[i];
      h = { data, shape: h.shape };
    } else if (l.type === "upsample") h = upsample(h, l);
    else h = convLayer(h, l, path, values, training);
  }
  return h;
}

function get(values: Values64, name: string): ArrayLike<number> {
  const v = values.get(name);
  if (v === undefined) throw new TypeError(`reference: no values for "${name}"`);
  return v;
}

function convLayer(
  x: Image64,
  l: ConvLayerSpec,
  path: string,
  values: Values64,
  training: boolean,
): Image64 {
  const w = get(values, `${path}.conv.weight`);
  const bias = l.bias ? get(values, `${path}.conv.bias`) : undefined;
  const y = l.type === "conv2d" ? conv(x, w, l) : convTranspose(x, w, l);
  const [n, oh, ow, oc] = y.shape;
  const d = y.data;
  const pixels = n * oh * ow;
  if (bias) {
    for (let p = 0; p < pixels; p++) {
      for (let o = 0; o < oc; o++) d[p * oc + o] += bias[o];
    }
  }
  const norm = l.norm;
  if (norm !== null) {
    const gamma = get(values, `${path}.norm.weight`), beta = get(values, `${path}.norm.bias`);
    if (norm.type === "batch") {
      let mean: ArrayLike<number>, variance: ArrayLike<number>;
      if (training) {
        const m = new Float64Array(oc), v = new Float64Array(oc);
        for (let p = 0; p < pixels; p++) for (let o = 0; o < oc; o++) m[o] += d[p * oc + o];
        for (let o = 0; o < oc; o++) m[o] /= pixels;
        for (let p = 0; p < pixels; p++) {
          for (let o = 0; o < oc; o++) v[o] += (d[p * oc + o] - m[o]) ** 2;
        }
        for (let o = 0; o < oc; o++) v[o] /= pixels;
        mean = m;
        variance = v;
      } else {
        mean = get(values, `${path}.norm.running_mean`);
        variance = get(values, `${path}.norm.running_var`);
      }
      for (let p = 0; p < pixels; p++) {
        for (let o = 0; o < oc; o++) {
          const i = p * oc + o;
          d[i] = (d[i] - mean[o]) / Math.sqrt(variance[o] + norm.eps) * gamma[o] + beta[o];
        }
      }
    } else {
      for (let p = 0; p < pixels; p++) {
        let m = 0, v = 0;
        for (let o = 0; o < oc; o++) m += d[p * oc + o];
        m /= oc;
        for (let o = 0; o < oc; o++) v += (d[p * oc + o] - m) ** 2;
        const r = 1 / Math.sqrt(v / oc + norm.eps);
        for (let o = 0; o < oc; o++) {
          const i = p * oc + o;
          d[i] = (d[i] - m) * r * gamma[o] + beta[o];
        }
      }
    }
  }
  if (l.activation === "relu") { for (let i = 0; i < d.length; i++) d[i] = Math.max(d[i], 0); }
  if (l.activation === "gelu") {
    for (let i = 0; i < d.length; i++) d[i] = 0.5 * d[i] * (1 + erf(d[i] / Math.SQRT2));
  }
  return y;
}

function conv(x: Image64, w: ArrayLike<number>, l: ConvLayerSpec): Image64 {
  const [n, h, wd, c] = x.shape;
  const [kh, kw] = l.kernel;
  const [pt, pb, pl, pr] = l.padding;
  const s = l.stride;
  const depthwise = l.groups !== 1;
  const oc = l.outChannels;
  const oh = Math.floor((h + pt + pb - kh) / s) + 1, ow = Math.floor((wd + pl + pr - kw) / s) + 1;
  const out = new Float64Array(n * oh * ow * oc);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const o0 = ((b * oh + oy) * ow + ox) * oc;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * s - pt + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * s - pl + kx;
            if (ix < 0 || ix >= wd) continue;
            const i0 = ((b * h + iy) * wd + ix) * c;
            const k0 = (ky * kw + kx) * c;
            if (depthwise) {
              for (let ch = 0; ch < c; ch++) out[o0 + ch] += x.data[i0 + ch] * w[k0 + ch];
            } else {
              for (let ci = 0; ci < c; ci++) {
                const v = x.data[i0 + ci];
                const wr = (k0 + ci) * oc;
                for (let o = 0; o < oc; o++) out[o0 + o] += v * w[wr + o];
              }
            }
          }
        }
      }
    }
  }
  return { data: out, shape: [n, oh, ow, oc] };
}

/** PyTorch's ConvTranspose2d: input pixel (iy, ix) adds W·x to output (iy·s − p + ky, …). */
function convTranspose(x: Image64, w: ArrayLike<number>, l: ConvLayerSpec): Image64 {
  const [n, h, wd, c] = x.shape;
  const [kh, kw] = l.kernel;
  const p = l.padding[0], s = l.stride, oc = l.outChannels;
  const oh = (h - 1) * s - 2 * p + kh, ow = (wd - 1) * s - 2 * p + kw;
  const out = new Float64Array(n * oh * ow * oc);
  for (let b = 0; b < n; b++) {
    for (let iy = 0; iy < h; iy++) {
      for (let ix = 0; ix < wd; ix++) {
        const i0 = ((b * h + iy) * wd + ix) * c;
        for (let ky = 0; ky < kh; ky++) {
          const oy = iy * s - p + ky;
          if (oy < 0 || oy >= oh) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ox = ix * s - p + kx;
            if (ox < 0 || ox >= ow) continue;
            const o0 = ((b * oh + oy) * ow + ox) * oc;
            for (let ci = 0; ci < c; ci++) {
              const v = x.data[i0 + ci];
              const wr = ((ky * kw + kx) * c + ci) * oc;
              for (let o = 0; o < oc; o++) out[o0 + o] += v * w[wr + o];
            }
          }
        }
      }
    }
  }
  return { data: out, shape: [n, oh, ow, oc] };
}

/** Bilinear, align_corners=False: source = (dst + 0.5)/scale − 0.5, clamped at 0. */
function upsample(x: Image64, l: UpsampleLayerSpec): Image64 {
  const [n, h, w, c] = x.shape;
  const s = l.scale, oh = h * s, ow = w * s;
  const out = new Float64Array(n * oh * ow * c);
  const axis = (dst: number, size: number) => {
    const src = Math.max((dst + 0.5) / s - 0.5, 0);
    const i0 = Math.floor(src);
    const i1 = i0 < size - 1 ? i0 + 1 : i0;
    return { i0, i1, t: src - i0 };
  };
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const y = axis(oy, h);
      for (let ox = 0; ox < ow; ox++) {
        const xx = axis(ox, w);
        const at = (iy: number, ix: number, ch: number) => x.data[((b * h + iy) * w + ix) * c + ch];
        for (let ch = 0; ch < c; ch++) {
          const top = at(y.i0, xx.i0, ch) * (1 - xx.t) + at(y.i0, xx.i1, ch) * xx.t;
          const bottom = at(y.i1, xx.i0, ch) * (1 - xx.t) + at(y.i1, xx.i1, ch) * xx.t;
          out[((b * oh + oy) * ow + ox) * c + ch] = top * (1 - y.t) + bottom * y.t;
        }
      }
    }
  }
  return { data: out, shape: [n, oh, ow, c] };
}

/**
 * erf to about 1e-15: its Maclaurin series for |x| < 2.5, else the continued fraction of erfc.
 *
 * @param x Any number.
 * @returns erf(x).
 */
export function erf(x: number): number {
  const z = Math.abs(x);
  let r: number;
  if (z < 2.5) {
    // erf z = 2/√π Σ (−1)^k z^(2k+1) / (k! (2k+1))
    let term = z, sum = z;
    for (let k = 1; k < 60; k++) {
      term *= -z * z / k;
      const add = term / (2 * k + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    r = sum * 2 / Math.sqrt(Math.PI);
  } else {
    // erfc z = exp(−z²)/√π · 1/(z + 1/2/(z + 1/(z + 3/2/(z + …)))), evaluated bottom-up.
    let f = z;
    for (let k = 60; k >= 1; k--) f = z + (k / 2) / f;
    r = 1 - Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
  }
  return x < 0 ? -r : r;
}
