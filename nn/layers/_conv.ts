/**
 * A `conv2d` or `conv_transpose2d` layer: convolution, bias, optional batch or layer norm,
 * activation, in that order. For inference a batch norm is folded into the convolution (its
 * running statistics scale the weights), so the layer is one fused convolution.
 *
 * @module
 */

import { throwIfAborted } from "../../core/abort.ts";
import type { Tensor } from "../../core/types.ts";
import { Rng } from "../../synth/rng.ts";
import type { DeviceTensor } from "../../tensor/device_tensor.ts";
import type { ConvLayerSpec } from "../spec.ts";
import { type Layer, layerError, type ParamSlot, type RunContext } from "./_layer.ts";
import {
  activation,
  activationBackward,
  batchNorm,
  batchNormBackward,
  conv2d,
  conv2dBackward,
  convTranspose2d,
  convTranspose2dBackward,
  type ImageLike,
  layerNorm,
  layerNormBackward,
  prepareConv2dWeights,
  type PreparedConv2dWeights,
} from "./_ops.ts";

/** What a training forward keeps for backward. */
interface Saved {
  x: ImageLike;
  /** The convolution's output (with bias), input of the norm; undefined when it is `y`. */
  z?: DeviceTensor;
  /** The norm's output, input of the activation (owned here unless it is `z`). */
  u?: DeviceTensor;
  /** The layer's own output, kept when a fused ReLU's backward reads it. */
  fusedReluOutput?: DeviceTensor;
  mean?: Float32Array;
  variance?: Float32Array;
}

/** See the module doc. */
export class ConvLayer implements Layer {
  readonly path: string;
  readonly spec: ConvLayerSpec;
  readonly slots: ParamSlot[];
  readonly #weight: ParamSlot;
  readonly #bias?: ParamSlot;
  readonly #norm?: { weight: ParamSlot; bias: ParamSlot; mean?: ParamSlot; variance?: ParamSlot };
  #folded?: { weights: Tensor; bias: Float32Array };
  /** The weights of the last dense convolution, packed once for WASM (see `#convWeights`). */
  #prepared?: PreparedConv2dWeights;
  #saved?: Saved;
  /** Where conv2dBackward writes the bias gradient of a layer without a bias. */
  #unusedBiasGrad?: Float32Array;

  /**
   * @param spec The layer's spec (validated).
   * @param path Its dotted path.
   * @param seed The initialisation seed; `stream` numbers the parameter tensors.
   * @param stream The first random stream this layer may use.
   */
  constructor(spec: ConvLayerSpec, path: string, seed: number, stream: number) {
    this.spec = spec;
    this.path = path;
    const [kh, kw] = spec.kernel;
    const transposed = spec.type === "conv_transpose2d";
    const depthwise = spec.groups !== 1;
    const wShape = [kh, kw, spec.inChannels, depthwise ? 1 : spec.outChannels];
    // PyTorch's defaults: kaiming_uniform(a=√5) gives U(±1/√fan_in) for the weights and the bias;
    // fan_in = in/groups·kh·kw, for a transposed convolution out·kh·kw (its weight is IOHW).
    const fanIn = kh * kw * (transposed ? spec.outChannels : depthwise ? 1 : spec.inChannels);
    const bound = 1 / Math.sqrt(fanIn);
    const slot = (name: string, shape: number[], fill: number | "uniform", buffer = false) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(size);
      if (fill === "uniform") {
        const rng = new Rng(seed, stream++);
        for (let i = 0; i < size; i++) data[i] = (2 * rng.uniform() - 1) * bound;
      } else data.fill(fill);
      return buffer
        ? { name: `${path}.${name}`, data, shape, buffer: true }
        : { name: `${path}.${name}`, data, shape, grad: new Float32Array(size) };
    };
    this.#weight = slot("conv.weight", wShape, "uniform");
    this.slots = [this.#weight];
    if (spec.bias) this.slots.push(this.#bias = slot("conv.bias", [spec.outChannels], "uniform"));
    if (spec.norm !== null) {
      const c = [spec.outChannels];
      const weight = slot("norm.weight", c, 1), bias = slot("norm.bias", c, 0);
      this.#norm = { weight, bias };
      this.slots.push(weight, bias);
      if (spec.norm.type === "batch") {
        this.#norm.mean = slot("norm.running_mean", c, 0, true);
        this.#norm.variance = slot("norm.running_var", c, 1, true);
        this.slots.push(this.#norm.mean, this.#norm.variance);
      }
    }
  }

  outputShape(input: readonly number[]): number[] {
    const [n, h, w, c] = input;
    const s = this.spec;
    if (c !== s.inChannels) {
      throw layerError(this.path, `takes ${s.inChannels} input channels but gets ${c}`);
    }
    const [kh, kw] = s.kernel;
    if (s.type === "conv_transpose2d") {
      const p = s.padding[0];
      const oh = (h - 1) * s.stride - 2 * p + kh, ow = (w - 1) * s.stride - 2 * p + kw;
      if (oh < 1 || ow < 1) {
        throw layerError(this.path, `a ${h}×${w} input gives an empty output; use a larger one`);
      }
      return [n, oh, ow, s.outChannels];
    }
    const [pt, pb, pl, pr] = s.padding;
    if (h + pt + pb < kh || w + pl + pr < kw) {
      throw layerError(
        this.path,
        `the ${kh}×${kw} kernel does not fit the padded ${h}×${w} input; use a larger input`,
      );
    }
    const oh = Math.floor((h + pt + pb - kh) / s.stride) + 1;
    const ow = Math.floor((w + pl + pr - kw) / s.stride) + 1;
    return [n, oh, ow, s.outChannels];
  }

  async forward(x: ImageLike, ctx: RunContext): Promise<DeviceTensor> {
    throwIfAborted(ctx.signal, ctx.operation);
    this.release();
    const s = this.spec, norm = s.norm;
    const act = s.activation;
    if (!ctx.training) {
      if (norm === null || norm.type === "batch") {
        const { weights, bias } = this.#inferenceWeights();
        return await this.#conv(x, weights, bias, act, ctx);
      }
      using z = await this.#conv(x, this.#weightTensor(), this.#bias?.data, "none", ctx);
      const u = await layerNorm(z, { ...this.#normOptions(norm.eps), ...this.#ops(ctx) });
      if (act === "none") return u;
      using _u = u;
      return await activation(u, { kind: act, ...this.#ops(ctx) });
    }
    const saved: Saved = { x };
    this.#saved = saved;
    if (norm === null) {
      if (act === "relu" && !ctx.escapes) {
        // The output itself tells where ReLU passed (y > 0 exactly where z > 0).
        const y = await this.#conv(x, this.#weightTensor(), this.#bias?.data, "relu", ctx);
        saved.fusedReluOutput = y;
        return y;
      }
      const z = await this.#conv(x, this.#weightTensor(), this.#bias?.data, "none", ctx);
      if (act === "none") return z;
      saved.u = z;
      return await activation(z, { kind: act, ...this.#ops(ctx) });
    }
    const z = saved.z = await this.#conv(x, this.#weightTensor(), this.#bias?.data, "none", ctx);
    if (norm.type === "batch") {
      const n = z.shape[0] * z.shape[1] * z.shape[2];
      if (n < 2) {
        throw layerError(
          this.path,
          `batch norm needs more than one value per channel when training (got a batch of ` +
            `${z.shape[0]} ${z.shape[1]}×${z.shape[2]} images); train on larger batches or images`,
        );
      }
      const r = await batchNorm(z, { ...this.#normOptions(norm.eps), ...this.#ops(ctx) });
      saved.u = r.output;
      saved.mean = r.mean;
      saved.variance = r.variance;
      this.#updateRunning(r.mean, r.variance, n, norm.momentum);
    } else {
      saved.u = await layerNorm(z, { ...this.#normOptions(norm.eps), ...this.#ops(ctx) });
    }
    if (act === "none") {
      const u = saved.u;
      saved.u = undefined; // handed to the caller, who owns it now
      return u;
    }
    return await activation(saved.u, { kind: act, ...this.#ops(ctx) });
  }

  async backward(dy: DeviceTensor, ctx: RunContext): Promise<DeviceTensor> {
    return (await this.#backward(dy, ctx, true))!;
  }

  async backwardParameters(dy: DeviceTensor, ctx: RunContext): Promise<void> {
    await this.#backward(dy, ctx, false);
  }

  async #backward(
    dy: DeviceTensor,
    ctx: RunContext,
    needInput: boolean,
  ): Promise<DeviceTensor | undefined> {
    const saved = this.#saved;
    if (saved === undefined) {
      throw layerError(
        this.path,
        `backward() needs a forward pass with { training: true } first`,
      );
    }
    throwIfAborted(ctx.signal, ctx.operation);
    const s = this.spec, norm = s.norm, ops = this.#ops(ctx);
    const owned: DeviceTensor[] = [];
    try {
      let d = dy;
      if (saved.fusedReluOutput !== undefined) {
        d = await activationBackward(saved.fusedReluOutput, { dy: d, kind: "relu", ...ops });
        owned.push(d);
      } else if (s.activation !== "none") {
        d = await activationBackward(saved.u!, { dy: d, kind: s.activation, ...ops });
        owned.push(d);
      }
      if (norm !== null) {
        const g = norm.type === "batch"
          ? await batchNormBackward(saved.z!, {
            dy: d,
            gamma: this.#norm!.weight.data,
            mean: saved.mean!,
            variance: saved.variance!,
            eps: norm.eps,
            ...ops,
          })
          : await layerNormBackward(saved.z!, {
            dy: d,
            gamma: this.#norm!.weight.data,
            eps: norm.eps,
            ...ops,
          });
        d = g.dInput;
        owned.push(d);
        this.#norm!.weight.grad!.set(g.dGamma);
        this.#norm!.bias.grad!.set(g.dBeta);
      }
      const w = s.type === "conv_transpose2d"
        ? this.#weightTensor()
        : await this.#convWeights(this.#weightTensor(), ctx);
      const g = s.type === "conv_transpose2d"
        ? await convTranspose2dBackward(saved.x, w, {
          dy: d,
          stride: s.stride,
          padding: s.padding[0],
          ...ops,
        })
        : await conv2dBackward(saved.x, w, {
          dy: d,
          stride: s.stride,
          padding: s.padding,
          groups: s.groups,
          inputGradient: needInput,
          // The slots' own arrays: no new gradient buffers every step.
          into: {
            dWeights: this.#weight.grad!,
            dBias: this.#bias?.grad ?? (this.#unusedBiasGrad ??= new Float32Array(s.outChannels)),
          },
          ...ops,
        });
      if (g.dWeights !== this.#weight.grad) this.#weight.grad!.set(g.dWeights);
      // Under batch norm the batch mean cancels the bias exactly: its gradient is 0, not the
      // rounding noise of summing a gradient that sums to zero.
      if (norm?.type === "batch") this.#bias?.grad?.fill(0);
      else if (g.dBias !== this.#bias?.grad) this.#bias?.grad?.set(g.dBias);
      if (needInput) return g.dInput;
      g.dInput?.dispose(); // a transposed convolution computes it anyway
      return undefined;
    } finally {
      for (const t of owned) t.dispose();
      this.release();
    }
  }

  release(): void {
    const saved = this.#saved;
    if (saved === undefined) return;
    this.#saved = undefined;
    for (const t of [saved.z, saved.u, saved.fusedReluOutput]) t?.dispose();
  }

  invalidate(): void {
    this.#folded = undefined;
    this.#prepared?.dispose();
    this.#prepared = undefined;
  }

  #ops(ctx: RunContext) {
    return { backend: ctx.backend, signal: ctx.signal, operation: ctx.operation };
  }

  #normOptions(eps: number) {
    return { gamma: this.#norm!.weight.data, beta: this.#norm!.bias.data, eps };
  }

  #weightTensor(): Tensor {
    return { data: this.#weight.data, shape: this.#weight.shape };
  }

  async #conv(
    x: ImageLike,
    weights: Tensor,
    bias: Float32Array | undefined,
    act: "none" | "relu" | "gelu",
    ctx: RunContext,
  ): Promise<DeviceTensor> {
    const s = this.spec;
    const o = { bias, activation: act, precision: ctx.precision, ...this.#ops(ctx) };
    if (s.type === "conv_transpose2d") {
      return await convTranspose2d(x, weights, { ...o, stride: s.stride, padding: s.padding[0] });
    }
    const w = await this.#convWeights(weights, ctx);
    return await conv2d(x, w, { ...o, stride: s.stride, padding: s.padding, groups: s.groups });
  }

  /**
   * A dense convolution's weights prepared once (packed into the WASM micro-kernel's panels)
   * and reused by every call until they change: packing per call cost about a quarter of the
   * refiner's inference. The handle follows the array it wraps (the raw weights when training,
   * the folded ones for inference); `invalidate()` drops it after the values change in place.
   */
  async #convWeights(weights: Tensor, ctx: RunContext): Promise<Tensor> {
    if (ctx.backend === "webgpu") return weights; // the GPU programs read HWIO as it is
    if (this.#prepared?.data !== weights.data) {
      this.#prepared?.dispose();
      this.#prepared = undefined;
      this.#prepared = await prepareConv2dWeights(weights, {
        groups: this.spec.groups,
        backend: "wasm",
      });
    }
    return this.#prepared;
  }

  /** The weights and bias for inference: a batch norm's running statistics folded in. */
  #inferenceWeights(): { weights: Tensor; bias: Float32Array | undefined } {
    const norm = this.spec.norm;
    if (norm === null || norm.type !== "batch") {
      return { weights: this.#weightTensor(), bias: this.#bias?.data };
    }
    if (this.#folded !== undefined) return this.#folded;
    const { weight: gamma, bias: beta, mean, variance } = this.#norm!;
    const oc = this.spec.outChannels;
    const scale = new Float64Array(oc);
    const bias = new Float32Array(oc);
    for (let o = 0; o < oc; o++) {
      scale[o] = gamma.data[o] / Math.sqrt(variance!.data[o] + norm.eps);
      bias[o] = ((this.#bias?.data[o] ?? 0) - mean!.data[o]) * scale[o] + beta.data[o];
    }
    // The output channel is the last axis (HWIO), or the channel axis of depthwise [kh, kw, c, 1].
    const w = this.#weight.data, folded = new Float32Array(w.length);
    for (let i = 0; i < w.length; i++) folded[i] = w[i] * scale[i % oc];
    this.#folded = { weights: { data: folded, shape: this.#weight.shape }, bias };
    return this.#folded;
  }

  /** PyTorch's update: the running variance takes the unbiased batch variance. */
  #updateRunning(mean: Float32Array, variance: Float32Array, n: number, momentum: number): void {
    const rm = this.#norm!.mean!.data, rv = this.#norm!.variance!.data;
    for (let c = 0; c < rm.length; c++) {
      rm[c] = (1 - momentum) * rm[c] + momentum * mean[c];
      rv[c] = (1 - momentum) * rv[c] + momentum * variance[c] * n / (n - 1);
    }
    this.#folded = undefined;
  }
}
