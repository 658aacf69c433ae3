/**
 * A fully connected layer, `Y = act(X·W + b)`, whose weights, gradients and activations live in
 * WASM memory ({@linkcode WasmStorage}) and whose products run on `prism_sgemm` (`wasm/gemm.ts`).
 *
 * @module
 */

import type { Matrix } from "../core/types.ts";
import { checkInteger } from "../core/validate.ts";
import type { Kernels } from "../wasm/loader.ts";
import { Rng } from "../synth/rng.ts";
import { Gemm } from "../wasm/gemm.ts";
import { WasmStorage } from "../wasm/storage.ts";

/** Shape and options of a {@linkcode Dense} layer. */
export interface DenseOptions {
  /** Input features (rows of W). */
  inputs: number;
  /** Output features (columns of W). */
  outputs: number;
  /** Rows of every input batch. */
  batch: number;
  /** Apply ReLU after the affine map (default false). */
  relu?: boolean;
  /**
   * Seed of the He-normal weight initialisation, a whole number in `[0, 2^53)` (default 0).
   * Biases start at zero.
   */
  seed?: number;
  /** Compute `dX` in `backward` (default true; the first layer of a network needs none). */
  gradInput?: boolean;
  /**
   * A buffer of `batch x inputs` to read X from instead of a new one (a previous layer's
   * `output`); the layer does not free it.
   */
  input?: WasmStorage;
}

/**
 * A dense layer on WASM-resident buffers. `forward` keeps its input and output, so `backward`
 * and observers (a dimensionality tracker) can read them until the next `forward`.
 *
 * Backward, with `dZ = dY ⊙ [Y > 0]` (ReLU) or `dZ = dY`:
 * `dW = Xᵀ·dZ`, `db = Σ_rows dZ`, `dX = dZ·Wᵀ`; the transposes are GEMM flags, never copies.
 *
 * @example
 * ```ts
 * import { Dense } from "./dense.ts";
 * import { loadKernels } from "../wasm/loader.ts";
 * import assert from "node:assert";
 * const layer = new Dense(await loadKernels(), { inputs: 3, outputs: 2, batch: 1 });
 * layer.weights.view().set([1, 0, 0, 1, 1, 1]); // W = [[1, 0], [0, 1], [1, 1]]
 * layer.input.view().set([1, 2, 3]);
 * const y = layer.forward().view();
 * assert(y[0] === 4 && y[1] === 5);
 * layer.dispose();
 * ```
 */
export class Dense {
  /** Input features. */
  readonly inputs: number;
  /** Output features. */
  readonly outputs: number;
  /** Rows per batch. */
  readonly batch: number;
  /** Whether ReLU follows the affine map. */
  readonly relu: boolean;
  /** W, `inputs x outputs`, row-major. */
  readonly weights: WasmStorage;
  /** b, `outputs`. */
  readonly bias: WasmStorage;
  /** dL/dW after `backward`. */
  readonly gradWeights: WasmStorage;
  /** dL/db after `backward`. */
  readonly gradBias: WasmStorage;
  /** X, `batch x inputs`: write the batch here (or chain a previous layer's `output`). */
  readonly input: WasmStorage;
  /** Y after `forward`, `batch x outputs` (after ReLU when `relu`). */
  readonly output: WasmStorage;
  /** dL/dX after `backward`, `batch x inputs`; absent when `gradInput` is false. */
  readonly gradInput: WasmStorage | undefined;
  readonly #gemm: Gemm;
  readonly #ownsInput: boolean;

  /**
   * @param kernels The loaded kernel module (`loadKernels()`).
   * @param options Shape, activation, seed, and optionally the `input` buffer to read X from.
   * @throws {TypeError} When a size or the seed is not a whole number.
   * @throws {RangeError} When a size is below 1 or the seed is negative or not a safe integer.
   * @throws {OutOfMemoryError} When WASM memory cannot hold the buffers.
   */
  constructor(kernels: Kernels, options: DenseOptions) {
    const input = options.input;
    this.inputs = checkInteger("inputs", options.inputs, 1);
    this.outputs = checkInteger("outputs", options.outputs, 1);
    this.batch = checkInteger("batch", options.batch, 1);
    // Checked before any buffer is allocated, so a bad seed leaks nothing.
    const seed = checkInteger("seed", options.seed ?? 0, 0);
    this.relu = options.relu ?? false;
    if (input !== undefined && input.length !== this.batch * this.inputs) {
      throw new TypeError(
        `input buffer has ${input.length} values, need batch * inputs = ${
          this.batch * this.inputs
        }`,
      );
    }
    this.#gemm = new Gemm(kernels);
    this.#ownsInput = input === undefined;
    this.input = input ?? new WasmStorage(kernels, this.batch * this.inputs);
    this.weights = new WasmStorage(kernels, this.inputs * this.outputs);
    this.bias = new WasmStorage(kernels, this.outputs);
    this.gradWeights = new WasmStorage(kernels, this.inputs * this.outputs);
    this.gradBias = new WasmStorage(kernels, this.outputs);
    this.output = new WasmStorage(kernels, this.batch * this.outputs);
    this.gradInput = (options.gradInput ?? true)
      ? new WasmStorage(kernels, this.batch * this.inputs)
      : undefined;
    this.reset(seed);
  }

  /**
   * Re-initialises W with He-normal values (std `sqrt(2 / inputs)`) from `seed`, b with zeros.
   *
   * @param seed A whole number in `[0, 2^53)`; equal seeds give equal weights.
   * @throws {TypeError} When the seed is not a whole number.
   * @throws {RangeError} When the seed is negative or not a safe integer.
   */
  reset(seed: number): void {
    const rng = new Rng(seed);
    const w = this.weights.view();
    const std = Math.sqrt(2 / this.inputs);
    for (let i = 0; i < w.length; i++) w[i] = std * rng.normal();
    this.bias.view().fill(0);
  }

  /**
   * Computes `output = act(input · W + b)`.
   *
   * @returns The output buffer.
   * @throws {KernelError} When the GEMM kernel fails (a bug).
   */
  forward(): WasmStorage {
    const y = this.output.view();
    const b = this.bias.view();
    // Preload each row with b so the GEMM adds X·W to it (beta = 1): no separate bias pass.
    for (let r = 0; r < this.batch; r++) y.set(b, r * this.outputs);
    const shape = { transA: false, transB: false, m: this.batch, n: this.outputs, k: this.inputs };
    this.#gemm.run(shape, { a: this.input, b: this.weights, c: this.output, beta: 1 });
    if (this.relu) {
      const v = this.output.view();
      // `< 0` rather than `!(> 0)`: a NaN must reach the loss, not turn into a quiet zero.
      for (let i = 0; i < v.length; i++) if (v[i] < 0) v[i] = 0;
    }
    return this.output;
  }

  /**
   * Back-propagates `gradOutput` (dL/dY, `batch x outputs`) through the last `forward`: fills
   * `gradWeights`, `gradBias` and `gradInput`. With ReLU, `gradOutput` is masked in place.
   *
   * @param gradOutput dL/dY; overwritten with dL/dZ.
   * @throws {TypeError} When `gradOutput` has the wrong length.
   * @throws {KernelError} When the GEMM kernel fails (a bug).
   */
  backward(gradOutput: WasmStorage): void {
    if (gradOutput.length !== this.batch * this.outputs) {
      throw new TypeError(
        `gradOutput has ${gradOutput.length} values, need batch * outputs = ${
          this.batch * this.outputs
        }`,
      );
    }
    if (this.relu) {
      const g = gradOutput.view();
      const y = this.output.view();
      for (let i = 0; i < g.length; i++) if (y[i] <= 0) g[i] = 0;
    }
    const { batch, inputs, outputs } = this;
    const dW = { transA: true, transB: false, m: inputs, n: outputs, k: batch };
    this.#gemm.run(dW, { a: this.input, b: gradOutput, c: this.gradWeights });
    const g = gradOutput.view();
    const db = this.gradBias.view();
    for (let j = 0; j < outputs; j++) {
      let s = 0;
      for (let r = 0; r < batch; r++) s += g[r * outputs + j];
      db[j] = s;
    }
    if (this.gradInput !== undefined) {
      const dX = { transA: false, transB: true, m: batch, n: inputs, k: outputs };
      this.#gemm.run(dX, { a: gradOutput, b: this.weights, c: this.gradInput });
    }
  }

  /** @returns The last output as a `batch x outputs` matrix viewing WASM memory (no copy). */
  outputMatrix(): Matrix {
    return { data: this.output.view(), rows: this.batch, cols: this.outputs };
  }

  /** Frees every buffer the layer allocated. The layer is unusable afterwards. */
  dispose(): void {
    for (const b of [this.weights, this.bias, this.gradWeights, this.gradBias, this.output]) {
      b.free();
    }
    this.gradInput?.free();
    if (this.#ownsInput) this.input.free();
    this.#gemm.dispose();
  }
}
