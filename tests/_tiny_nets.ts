/**
 * Stand-in networks for the tiling tests, until `ConvNet` lands: a spec interpreter whose
 * convolutions run on prism's `conv2d` (stride 2 and padding included) and whose transposed
 * convolutions, bilinear upsampling and residual sums are written out here in plain loops.
 * Weights are seeded, scaled by 1/sqrt(fan-in) so activations stay near 1 through the layers.
 */

import { conv2d, type ImageLike } from "../ops/conv2d.ts";
import { DeviceTensor, toDevice } from "../tensor/device_tensor.ts";
import { randomF32 } from "../synth/uniform.ts";
import type { TiledForwardOptions, TiledNet } from "../nn/tiled.ts";
import { tilingOf } from "../nn/tiling.ts";
import small from "../nn/specs/small.json" with { type: "json" };

/** A layer of the specs below (the fields of `nn/specs/README.md` the stand-in reads). */
export interface TinyLayer {
  type: "conv2d" | "conv_transpose2d" | "residual" | "upsample";
  name: string;
  inChannels?: number;
  outChannels?: number;
  kernel?: [number, number];
  stride?: number;
  padding?: [number, number, number, number];
  activation?: "none" | "relu";
  scale?: number;
  layers?: TinyLayer[];
}

/** A stand-in spec. */
export interface TinySpec {
  name: string;
  input: { channels: number };
  layers: TinyLayer[];
}

interface Image {
  data: Float32Array;
  shape: [number, number, number, number];
}

const conv = (
  name: string,
  io: [number, number],
  k: number,
  stride: number,
  padding: [number, number, number, number],
  activation: "none" | "relu" = "relu",
): TinyLayer => ({
  type: "conv2d",
  name,
  inChannels: io[0],
  outChannels: io[1],
  kernel: [k, k],
  stride,
  padding,
  activation,
});

const P1: [number, number, number, number] = [1, 1, 1, 1];

/** The built-in `small` spec (6 → 32 → 32 → 6, 3×3, ReLU). */
export const SMALL_SPEC: TinySpec = small as unknown as TinySpec;

/**
 * Down by 4 (two stride-2 convolutions), a residual block, up by 2 with a transposed convolution
 * (k4 s2 p1) and by 2 with bilinear upsampling: every layer type, scale 1, alignment 4.
 */
export const DOWN_UP_SPEC: TinySpec = {
  name: "down-up",
  input: { channels: 3 },
  layers: [
    conv("down1", [3, 8], 3, 2, P1),
    conv("down2", [8, 8], 3, 2, P1),
    { type: "residual", name: "block", layers: [conv("conv", [8, 8], 3, 1, P1)] },
    {
      type: "conv_transpose2d",
      name: "up1",
      inChannels: 8,
      outChannels: 8,
      kernel: [4, 4],
      stride: 2,
      padding: P1,
      activation: "relu",
    },
    { type: "upsample", name: "up2", scale: 2 },
    conv("out", [8, 5], 3, 1, P1, "none"),
  ],
};

/**
 * The refiner's shape in small: a 7×7 stride-2 encoder, a stride-2 3×3 with TensorFlow-style
 * asymmetric "same" padding, a valid 3×3 (the output shrinks), output at 1/4 (wider than h/4
 * for odd sizes, as PyTorch gives it).
 */
export const QUARTER_SPEC: TinySpec = {
  name: "quarter",
  input: { channels: 4 },
  layers: [
    conv("encoder", [4, 8], 7, 2, [3, 3, 3, 3]),
    conv("down", [8, 8], 3, 2, [0, 1, 0, 1]),
    conv("valid", [8, 8], 3, 1, [0, 0, 0, 0]),
    conv("out", [8, 3], 1, 1, [0, 0, 0, 0], "none"),
  ],
};

/** A stand-in network for `spec`, seeded weights; `forward` counts its calls. */
export class TinyNet implements TiledNet {
  readonly spec: TinySpec;
  readonly inputChannels: number;
  readonly outputChannels: number;
  readonly scale: number;
  /** Batches seen by `forward`, as `[n, h, w, c]`. */
  readonly calls: number[][] = [];
  readonly #weights = new Map<string, { w: Float32Array; b: Float32Array }>();

  constructor(spec: TinySpec, seed = 1) {
    this.spec = spec;
    this.inputChannels = spec.input.channels;
    this.scale = tilingOf(spec).scale;
    let channels = spec.input.channels;
    let n = 0;
    const init = (layers: TinyLayer[], prefix: string) => {
      for (const l of layers) {
        const path = prefix + l.name;
        if (l.type === "residual") init(l.layers ?? [], path + ".");
        if (l.type !== "conv2d" && l.type !== "conv_transpose2d") continue;
        const [kh, kw] = l.kernel!;
        const fan = kh * kw * l.inChannels!;
        const bound = Math.sqrt(3 / fan);
        this.#weights.set(path, {
          w: randomF32(fan * l.outChannels!, seed * 1000 + n++, { lo: -bound, hi: bound }),
          b: randomF32(l.outChannels!, seed * 1000 + n++, { lo: -0.1, hi: 0.1 }),
        });
        if (prefix === "") channels = l.outChannels!;
      }
    };
    init(spec.layers, "");
    this.outputChannels = channels;
  }

  /** Runs the layers on a batch `[n, h, w, c]`. */
  async forward(x: ImageLike, options: TiledForwardOptions = {}): Promise<DeviceTensor> {
    const shape = [...x.shape] as Image["shape"];
    const data = x instanceof DeviceTensor ? await x.read() : x.data;
    this.calls.push([...shape]);
    const y = await this.#run(this.spec.layers, { data, shape }, "", options);
    return await toDevice(y.data, { shape: y.shape });
  }

  async #run(
    layers: TinyLayer[],
    input: Image,
    prefix: string,
    options: TiledForwardOptions,
  ): Promise<Image> {
    let x = input;
    for (const l of layers) {
      const path = prefix + l.name;
      if (l.type === "conv2d") {
        const { w, b } = this.#weights.get(path)!;
        const weights = { data: w, shape: [...l.kernel!, l.inChannels!, l.outChannels!] };
        using y = await conv2d(x, weights, {
          bias: b,
          stride: l.stride,
          padding: l.padding,
          activation: l.activation,
          backend: options.backend,
          signal: options.signal,
        });
        x = { data: await y.read(), shape: y.shape as Image["shape"] };
      } else if (l.type === "conv_transpose2d") {
        x = convTranspose(x, this.#weights.get(path)!, l);
      } else if (l.type === "upsample") {
        x = upsampleBilinear(x, l.scale!);
      } else {
        const inner = await this.#run(l.layers ?? [], x, path + ".", options);
        x = { data: inner.data.map((v, i) => v + x.data[i]), shape: x.shape };
      }
    }
    return x;
  }
}

/** PyTorch's ConvTranspose2d (symmetric padding, no output_padding), weights `[kh, kw, in, out]`. */
function convTranspose(x: Image, p: { w: Float32Array; b: Float32Array }, l: TinyLayer): Image {
  const [n, h, w, c] = x.shape;
  const [kh, kw] = l.kernel!;
  const s = l.stride!;
  const pad = l.padding![0];
  const oc = l.outChannels!;
  const oh = (h - 1) * s - 2 * pad + kh;
  const ow = (w - 1) * s - 2 * pad + kw;
  const acc = new Float64Array(n * oh * ow * oc);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        for (let u = 0; u < kh; u++) {
          const y = i * s - pad + u;
          if (y < 0 || y >= oh) continue;
          for (let v = 0; v < kw; v++) {
            const z = j * s - pad + v;
            if (z < 0 || z >= ow) continue;
            const out = ((b * oh + y) * ow + z) * oc;
            for (let ci = 0; ci < c; ci++) {
              const xv = x.data[((b * h + i) * w + j) * c + ci];
              const wRow = ((u * kw + v) * c + ci) * oc;
              for (let o = 0; o < oc; o++) acc[out + o] += xv * p.w[wRow + o];
            }
          }
        }
      }
    }
  }
  const data = new Float32Array(acc.length);
  for (let i = 0; i < acc.length; i++) {
    const v = acc[i] + p.b[i % oc];
    data[i] = l.activation === "relu" ? Math.max(0, v) : v;
  }
  return { data, shape: [n, oh, ow, oc] };
}

/** Bilinear upsampling, PyTorch's align_corners=False: sources clamped at the edges. */
function upsampleBilinear(x: Image, f: number): Image {
  const [n, h, w, c] = x.shape;
  const oh = h * f;
  const ow = w * f;
  const src = (o: number, size: number) => {
    const t = Math.max(0, (o + 0.5) / f - 0.5);
    const i0 = Math.min(Math.floor(t), size - 1);
    return { i0, i1: Math.min(i0 + 1, size - 1), a: t - i0 };
  };
  const data = new Float32Array(n * oh * ow * c);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      const r = src(y, h);
      for (let z = 0; z < ow; z++) {
        const q = src(z, w);
        for (let ch = 0; ch < c; ch++) {
          const at = (i: number, j: number) => x.data[((b * h + i) * w + j) * c + ch];
          const top = at(r.i0, q.i0) * (1 - q.a) + at(r.i0, q.i1) * q.a;
          const bottom = at(r.i1, q.i0) * (1 - q.a) + at(r.i1, q.i1) * q.a;
          data[((b * oh + y) * ow + z) * c + ch] = top * (1 - r.a) + bottom * r.a;
        }
      }
    }
  }
  return { data, shape: [n, oh, ow, c] };
}

/** The whole image `[h, w, c]` through `net` in one forward pass, as `[h', w', c']`. */
export async function runWhole(
  net: TiledNet,
  image: { data: Float32Array; shape: readonly number[] },
): Promise<{ data: Float32Array; shape: number[] }> {
  using y = await net.forward({ data: image.data, shape: [1, ...image.shape] });
  return { data: await y.read(), shape: y.shape.slice(1) };
}
