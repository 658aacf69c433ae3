/**
 * A multi-layer perceptron (ReLU hidden layers, softmax cross-entropy, Adam) on the
 * {@linkcode ConvNet} engine: each dense layer is a 1×1 convolution over a batch of 1×1 images,
 * so the MLP and the convolutional networks share one forward, backward and optimiser.
 *
 * @module
 */

import type { Matrix } from "../core/types.ts";
import { checkInteger } from "../core/validate.ts";
import { Adam } from "./adam.ts";
import { ConvNet, type LayerActivations } from "./convnet.ts";
import type { ConvLayerSpec, ConvNetSpec } from "./spec.ts";

export type { LayerActivations };

/** Options of {@linkcode Mlp.create}. */
export interface MlpOptions {
  /** Layer widths from input to logits (default `[784, 256, 128, 10]`). */
  sizes?: readonly number[];
  /** Rows per training batch (default 64). */
  batch?: number;
  /** Seed of the weight initialisation (default 0): equal seeds give equal networks. */
  seed?: number;
  /** Adam's step size (default 1e-3). */
  lr?: number;
  /**
   * Where the layers run (default `"wasm"`): a batch of 64 rows is too small a problem to
   * amortise a GPU round trip per layer; `"webgpu"` or `"auto"` are there to compare.
   */
  backend?: "auto" | "wasm" | "webgpu";
}

/** What one training step measured. */
export interface StepResult {
  /** Mean softmax cross-entropy of the batch, before the update. */
  readonly loss: number;
  /** L2 norm of the gradient over every parameter, before the update. */
  readonly gradNorm: number;
}

/**
 * The spec of a ReLU MLP: layer `i` is a 1×1 convolution from `sizes[i]` to `sizes[i + 1]`
 * channels named `hidden1`, `hidden2`, …, the last `logits` (no activation).
 *
 * @param sizes Layer widths, input first; at least 2, each ≥ 1.
 * @returns A `prism-convnet` spec taking `[batch, 1, 1, sizes[0]]` images.
 * @throws {RangeError} When there are fewer than 2 widths or a width is below 1.
 * @throws {TypeError} When a width is not a whole number.
 * @example
 * ```ts
 * import { mlpSpec } from "./mlp.ts";
 * import assert from "node:assert";
 * const spec = mlpSpec([4, 8, 3]);
 * assert.deepStrictEqual(spec.layers.map((l) => l.name), ["hidden1", "logits"]);
 * assert(spec.parameters === 4 * 8 + 8 + 8 * 3 + 3);
 * ```
 */
export function mlpSpec(sizes: readonly number[]): ConvNetSpec {
  if (!Array.isArray(sizes) || sizes.length < 2) {
    throw new RangeError(
      `sizes needs at least 2 widths (input and output), got ${
        Array.isArray(sizes) ? sizes.length : String(sizes)
      }`,
    );
  }
  sizes.forEach((s, i) => checkInteger(`sizes[${i}]`, s, 1));
  const layers: ConvLayerSpec[] = [];
  let parameters = 0;
  for (let i = 0; i + 1 < sizes.length; i++) {
    const last = i + 2 === sizes.length;
    layers.push({
      type: "conv2d",
      name: last ? "logits" : `hidden${i + 1}`,
      inChannels: sizes[i],
      outChannels: sizes[i + 1],
      kernel: [1, 1],
      stride: 1,
      padding: [0, 0, 0, 0],
      groups: 1,
      bias: true,
      norm: null,
      activation: last ? "none" : "relu",
    });
    parameters += (sizes[i] + 1) * sizes[i + 1];
  }
  return {
    format: "prism-convnet",
    version: 1,
    name: `mlp-${sizes.join("-")}`,
    description: "A ReLU MLP, dense layers as 1x1 convolutions on 1x1 images (nn/mlp.ts).",
    input: { channels: sizes[0], height: 1, width: 1 },
    output: { channels: sizes[sizes.length - 1], scale: 1 },
    parameters,
    layers,
  };
}

/**
 * A ReLU MLP trained with softmax cross-entropy and Adam, running on {@linkcode ConvNet}.
 * After `trainStep`, each layer's output from that step's forward pass is readable through
 * `activations()` until the next step: the hook a dimensionality tracker needs.
 *
 * The step is deterministic: the same seed and batches give bit-identical losses and weights,
 * whatever reads the activations in between (the WASM convolution splits work the same way
 * every call, and each value is the same sum whoever computes it).
 *
 * @example
 * ```ts
 * import { Mlp } from "./mlp.ts";
 * import assert from "node:assert";
 * using net = await Mlp.create({ sizes: [4, 8, 3], batch: 2 });
 * const x = new Float32Array([1, 0, 0, 0, 0, 1, 0, 0]);
 * const { loss } = await net.trainStep(x, new Int32Array([0, 2]));
 * assert(loss > 0);
 * const [hidden1] = net.activations();
 * assert(hidden1.layer === "hidden1" && hidden1.activations.rows === 2);
 * ```
 */
export class Mlp implements Disposable {
  /** Layer widths, input first. */
  readonly sizes: readonly number[];
  /** Rows per batch. */
  readonly batch: number;
  /** The spec the network is built from. */
  readonly spec: ConvNetSpec;
  readonly #lr: number;
  readonly #backend: "auto" | "wasm" | "webgpu";
  #net: ConvNet;
  #adam: Adam;

  private constructor(
    spec: ConvNetSpec,
    net: ConvNet,
    o: { sizes: number[]; batch: number; lr: number; backend: "auto" | "wasm" | "webgpu" },
  ) {
    this.spec = spec;
    this.#net = net;
    this.sizes = Object.freeze(o.sizes);
    this.batch = o.batch;
    this.#lr = o.lr;
    this.#backend = o.backend;
    this.#adam = new Adam([], { lr: o.lr });
  }

  /**
   * Builds the network.
   *
   * @param options Widths, batch size, seed, learning rate and backend.
   * @returns The MLP, initialised from `seed` (PyTorch's default initialisation).
   * @throws {TypeError} When a size, the batch or the seed is not a whole number.
   * @throws {RangeError} When there are fewer than 2 widths, a width or the batch is below 1,
   *   `lr` is not positive, the seed is negative, or `backend` is not a backend name.
   */
  static async create(options: MlpOptions = {}): Promise<Mlp> {
    const sizes = [...(options.sizes ?? [784, 256, 128, 10])];
    const spec = mlpSpec(sizes);
    const batch = checkInteger("batch", options.batch ?? 64, 1);
    const seed = checkInteger("seed", options.seed ?? 0, 0);
    const lr = options.lr ?? 1e-3;
    if (!(lr > 0)) throw new RangeError(`lr must be > 0, got ${lr}`);
    const backend = options.backend ?? "wasm";
    if (!["auto", "wasm", "webgpu"].includes(backend)) {
      throw new RangeError(`backend must be "auto", "wasm" or "webgpu", got ${backend}`);
    }
    const net = await ConvNet.fromSpec(spec, { seed });
    return new Mlp(spec, net, { sizes, batch, lr, backend });
  }

  /** The network the layers run on (its parameters are named `hidden1.conv.weight`, …). */
  get net(): ConvNet {
    return this.#net;
  }

  /**
   * Re-initialises every weight from `seed` and clears Adam's state, as if newly made.
   *
   * @param seed The initialisation seed, a whole number ≥ 0.
   * @throws {TypeError} When the seed is not a whole number.
   * @throws {RangeError} When the seed is negative.
   */
  async reset(seed: number): Promise<void> {
    const net = await ConvNet.fromSpec(this.spec, { seed });
    this.#net.dispose();
    this.#net = net;
    this.#adam = new Adam([], { lr: this.#lr });
  }

  /**
   * Runs the forward pass on `x` without training.
   *
   * @param x `batch x sizes[0]` inputs, row-major.
   * @returns The logits, `batch x classes` (a copy).
   * @throws {TypeError} When `x` has the wrong length.
   * @throws {InvalidDataError} When `x` holds NaN or infinity (the row and column are named as
   *   `[n, 0, 0, c]`).
   */
  async forward(x: Float32Array): Promise<Matrix> {
    using y = await this.#net.forward(this.#image(x), { backend: this.#backend });
    const cols = this.sizes[this.sizes.length - 1];
    return { data: await y.read(), rows: this.batch, cols };
  }

  /**
   * One step of training: forward (keeping each layer's output), loss, backward, Adam update.
   *
   * @param x `batch x sizes[0]` inputs, row-major.
   * @param labels `batch` class indices.
   * @returns The batch loss and gradient norm before the update.
   * @throws {TypeError} When `x` or `labels` has the wrong length.
   * @throws {RangeError} When a label is not a class index.
   * @throws {InvalidDataError} When `x` holds NaN or infinity.
   */
  async trainStep(x: Float32Array, labels: Int32Array): Promise<StepResult> {
    if (!(labels instanceof Int32Array) || labels.length !== this.batch) {
      throw new TypeError(
        `labels must be an Int32Array of batch = ${this.batch} class indices, got ${
          labels instanceof Int32Array ? labels.length : "another type"
        }`,
      );
    }
    return await this.#net.trainStep(this.#image(x), labels, {
      loss: "softmax-ce",
      optimizer: this.#adam,
      backend: this.#backend,
      keepActivations: true,
    });
  }

  /**
   * @returns Each layer's output of the last forward pass, `hidden1`, …, `logits`, each
   *   `batch x width` (copies; the next step replaces them).
   * @throws {TypeError} When no training step has run yet.
   */
  activations(): LayerActivations[] {
    return this.#net.activations();
  }

  /**
   * Every parameter by dotted name (copies), e.g. `hidden1.conv.weight` of shape
   * `[1, 1, inputs, outputs]`.
   *
   * @returns The parameters in layer order.
   */
  parameters(): ReadonlyMap<string, { data: Float32Array; shape: number[] }> {
    return this.#net.parameters();
  }

  /** Frees what the network holds. */
  dispose(): void {
    this.#net.dispose();
  }

  /** Same as {@linkcode Mlp.dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #image(x: Float32Array): { data: Float32Array; shape: number[] } {
    const n = this.batch * this.sizes[0];
    if (!(x instanceof Float32Array) || x.length !== n) {
      throw new TypeError(
        `x must be a Float32Array of batch * inputs = ${this.batch} * ${this.sizes[0]} = ${n} ` +
          `values, got ${x instanceof Float32Array ? x.length : "another type"}`,
      );
    }
    return { data: x, shape: [this.batch, 1, 1, this.sizes[0]] };
  }
}
