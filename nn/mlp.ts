/**
 * A multi-layer perceptron (ReLU hidden layers, softmax cross-entropy, Adam) whose parameters
 * and activations stay in WASM memory for the whole run.
 *
 * @module
 */

import type { Matrix } from "../core/types.ts";
import { checkInteger } from "../core/validate.ts";
import type { Kernels } from "../wasm/loader.ts";
import { Adam } from "./adam.ts";
import { Dense } from "./dense.ts";
import { WasmStorage } from "../wasm/storage.ts";
import { softmaxCrossEntropy } from "./loss.ts";

/** Options of {@linkcode Mlp}. */
export interface MlpOptions {
  /** Layer widths from input to logits (default `[784, 256, 128, 10]`). */
  sizes?: readonly number[];
  /** Rows per training batch (default 64). */
  batch?: number;
  /** Seed of the weight initialisation (default 0); layer `i` uses `seed * 1000 + i`. */
  seed?: number;
  /** Adam's step size (default 1e-3). */
  lr?: number;
}

/** What one training step measured. */
export interface StepResult {
  /** Mean softmax cross-entropy of the batch, before the update. */
  readonly loss: number;
  /** L2 norm of the gradient over every parameter, before the update. */
  readonly gradNorm: number;
}

/** One layer's activations after a forward pass. */
export interface LayerActivations {
  /** `hidden1`, `hidden2`, … for ReLU layers, `logits` for the last. */
  readonly layer: string;
  /** `batch x width`, viewing WASM memory: read it before the next step, copy to keep it. */
  readonly activations: Matrix;
}

/**
 * A ReLU MLP trained with softmax cross-entropy and Adam. After `trainStep`, each layer's output
 * from that step's forward pass stays readable through `activations()` until the next step:
 * the hook a dimensionality tracker needs.
 *
 * The step is deterministic: the same seed and batches give bit-identical weights, whatever
 * reads the activations in between.
 *
 * @example
 * ```ts
 * import { Mlp } from "./mlp.ts";
 * import { loadKernels } from "../wasm/loader.ts";
 * import assert from "node:assert";
 * const net = new Mlp(await loadKernels(), { sizes: [4, 8, 3], batch: 2 });
 * const x = new Float32Array([1, 0, 0, 0, 0, 1, 0, 0]);
 * const { loss } = net.trainStep(x, new Int32Array([0, 2]));
 * assert(loss > 0);
 * assert(net.activations()[0].layer === "hidden1");
 * net.dispose();
 * ```
 */
export class Mlp {
  /** Layer widths, input first. */
  readonly sizes: readonly number[];
  /** Rows per batch. */
  readonly batch: number;
  /** The dense layers, input side first. */
  readonly layers: readonly Dense[];
  readonly #gradLogits: WasmStorage;
  readonly #adam: Adam;

  /**
   * @param kernels The loaded kernel module (`loadKernels()`).
   * @param options Widths, batch size, seed and learning rate.
   * @throws {TypeError} When a size or the seed is not a whole number.
   * @throws {RangeError} When there are fewer than 2 widths, a width or the batch is below 1,
   *   `lr` is not positive, or the seed is negative or so large that `seed * 1000 + i` is not a
   *   safe integer.
   * @throws {OutOfMemoryError} When WASM memory cannot hold the network.
   */
  constructor(kernels: Kernels, options: MlpOptions = {}) {
    const sizes = options.sizes ?? [784, 256, 128, 10];
    if (sizes.length < 2) {
      throw new RangeError(`sizes needs at least 2 widths (input and output), got ${sizes.length}`);
    }
    sizes.forEach((s, i) => checkInteger(`sizes[${i}]`, s, 1));
    this.sizes = [...sizes];
    this.batch = checkInteger("batch", options.batch ?? 64, 1);
    // Checked before any layer is allocated: layer i is seeded with seed * 1000 + i.
    const seed = checkInteger(
      "seed",
      options.seed ?? 0,
      0,
      Math.floor(Number.MAX_SAFE_INTEGER / 1000) - 1,
    );
    const layers: Dense[] = [];
    for (let i = 0; i + 1 < sizes.length; i++) {
      layers.push(
        new Dense(kernels, {
          inputs: sizes[i],
          outputs: sizes[i + 1],
          batch: this.batch,
          relu: i + 2 < sizes.length,
          seed: seed * 1000 + i,
          gradInput: i > 0,
          input: i > 0 ? layers[i - 1].output : undefined,
        }),
      );
    }
    this.layers = layers;
    this.#gradLogits = new WasmStorage(kernels, this.batch * sizes[sizes.length - 1]);
    this.#adam = new Adam(
      layers.flatMap((l) => [
        { value: l.weights, grad: l.gradWeights },
        { value: l.bias, grad: l.gradBias },
      ]),
      { lr: options.lr ?? 1e-3 },
    );
  }

  /**
   * Re-initialises every weight from `seed` and clears Adam's state, as if newly made.
   *
   * @param seed The initialisation seed.
   */
  reset(seed: number): void {
    this.layers.forEach((l, i) => l.reset(seed * 1000 + i));
    this.#adam.reset();
  }

  /**
   * Runs the forward pass on `x` without training.
   *
   * @param x `batch x sizes[0]` inputs.
   * @returns The logits, `batch x classes`, viewing WASM memory.
   * @throws {TypeError} When `x` has the wrong length.
   */
  forward(x: Float32Array): Matrix {
    const first = this.layers[0];
    if (!(x instanceof Float32Array) || x.length !== first.input.length) {
      throw new TypeError(
        `x must be a Float32Array of batch * inputs = ${first.input.length} values, got ${x?.length}`,
      );
    }
    first.input.view().set(x);
    for (const layer of this.layers) layer.forward();
    return this.layers[this.layers.length - 1].outputMatrix();
  }

  /**
   * One step of training: forward, loss, backward, Adam update.
   *
   * @param x `batch x sizes[0]` inputs.
   * @param labels `batch` class indices.
   * @returns The batch loss and gradient norm before the update.
   * @throws {TypeError} When `x` or `labels` has the wrong length.
   * @throws {RangeError} When a label is not a class index.
   */
  trainStep(x: Float32Array, labels: Int32Array): StepResult {
    const logits = this.forward(x);
    const loss = softmaxCrossEntropy(logits, labels, { grad: this.#gradLogits.view() });
    let grad = this.#gradLogits;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const layer = this.layers[i];
      layer.backward(grad);
      if (layer.gradInput !== undefined) grad = layer.gradInput;
    }
    let sq = 0;
    for (const l of this.layers) {
      for (const b of [l.gradWeights, l.gradBias]) {
        const g = b.view();
        for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
      }
    }
    this.#adam.step();
    return { loss, gradNorm: Math.sqrt(sq) };
  }

  /** @returns Each layer's output of the last forward pass, named `hidden1`, …, `logits`. */
  activations(): LayerActivations[] {
    return this.layers.map((l, i) => ({
      layer: i + 1 === this.layers.length ? "logits" : `hidden${i + 1}`,
      activations: l.outputMatrix(),
    }));
  }

  /** Frees every WASM buffer of the network. */
  dispose(): void {
    for (const l of this.layers) l.dispose();
    this.#gradLogits.free();
  }
}
