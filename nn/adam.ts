/**
 * The Adam optimiser (Kingma & Ba 2015) over float32 parameters, held in WASM memory
 * (`WasmStorage`) or in plain `Float32Array`s (a `ConvNet`'s, and so the MLP's).
 *
 * @module
 */

import type { WasmStorage } from "../wasm/storage.ts";

/** A parameter and its gradient, equal lengths. */
export interface Parameter {
  /** The values, updated in place. */
  readonly value: WasmStorage | Float32Array;
  /** dL/dvalue from the last backward pass. */
  readonly grad: WasmStorage | Float32Array;
}

/** The values of a WASM buffer (viewed in place) or a plain array. */
function valuesOf(b: WasmStorage | Float32Array): Float32Array {
  return b instanceof Float32Array ? b : b.view();
}

/** Hyper-parameters of {@linkcode Adam}. */
export interface AdamOptions {
  /** Step size (default 1e-3). */
  lr?: number;
  /** Decay of the first-moment estimate (default 0.9). */
  beta1?: number;
  /** Decay of the second-moment estimate (default 0.999). */
  beta2?: number;
  /** Added to `sqrt(v̂)` (default 1e-8). */
  eps?: number;
}

/**
 * Adam: `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
 * `θ ← θ − lr · m̂ / (sqrt(v̂) + eps)` with bias-corrected `m̂ = m / (1−β₁ᵗ)`, `v̂ = v / (1−β₂ᵗ)`.
 * The moments are plain float32 arrays (only the optimiser reads them).
 *
 * Made with parameters, `step()` updates those. Made with none (`new Adam([], { lr })`),
 * `step(params)` updates the parameters it is given, keeping moments per parameter (by its
 * `value`): the form `ConvNet.trainStep` takes.
 *
 * @example
 * ```ts
 * import { Adam } from "./adam.ts";
 * import { WasmStorage } from "../wasm/storage.ts";
 * import { loadKernels } from "../wasm/loader.ts";
 * import assert from "node:assert";
 * const k = await loadKernels();
 * const value = new WasmStorage(k, 1), grad = new WasmStorage(k, 1);
 * grad.view()[0] = 5;
 * new Adam([{ value, grad }], { lr: 0.1 }).step();
 * assert(Math.abs(value.view()[0] + 0.1) < 1e-6); // the first step is lr · sign(g)
 * value.free();
 * grad.free();
 *
 * const theta = new Float32Array([1, 2]);
 * const adam = new Adam([], { lr: 0.5 });
 * adam.step([{ value: theta, grad: new Float32Array([1, -1]) }]);
 * assert.deepStrictEqual([...theta], [0.5, 2.5]);
 * ```
 */
export class Adam {
  readonly #params: readonly Parameter[];
  /** First and second moments per parameter, keyed by its value buffer. */
  readonly #moments = new Map<WasmStorage | Float32Array, { m: Float32Array; v: Float32Array }>();
  readonly #lr: number;
  readonly #beta1: number;
  readonly #beta2: number;
  readonly #eps: number;
  #t = 0;

  /**
   * Makes the optimiser with zeroed moments.
   *
   * @param params The parameters `step()` updates (default none: pass them to `step`).
   * @param options Hyper-parameters.
   * @throws {TypeError} When a value and its gradient differ in length.
   * @throws {RangeError} When a hyper-parameter is out of range.
   */
  constructor(params: readonly Parameter[] = [], options: AdamOptions = {}) {
    this.#lr = options.lr ?? 1e-3;
    this.#beta1 = options.beta1 ?? 0.9;
    this.#beta2 = options.beta2 ?? 0.999;
    this.#eps = options.eps ?? 1e-8;
    if (!(this.#lr > 0)) throw new RangeError(`lr must be > 0, got ${this.#lr}`);
    for (const [name, b] of [["beta1", this.#beta1], ["beta2", this.#beta2]] as const) {
      if (!(b >= 0 && b < 1)) throw new RangeError(`${name} must be in [0, 1), got ${b}`);
    }
    if (!(this.#eps > 0)) throw new RangeError(`eps must be > 0, got ${this.#eps}`);
    checkLengths(params);
    this.#params = params;
    for (const p of params) this.#momentsOf(p);
  }

  /**
   * Applies one update from the current gradients.
   *
   * @param params The parameters to update (default: those given to the constructor); moments
   *   are kept per parameter, so pass the same buffers every step.
   * @throws {TypeError} When a value and its gradient differ in length, or a parameter changed
   *   length since the last step.
   */
  step(params: readonly Parameter[] = this.#params): void {
    checkLengths(params);
    this.#t++;
    const b1 = this.#beta1, b2 = this.#beta2, eps = this.#eps;
    const c1 = 1 - b1 ** this.#t, c2 = 1 - b2 ** this.#t;
    // lr·m̂/(√v̂+eps) = (lr/c1)·m / (√v/√c2 + eps)
    const lrc = this.#lr / c1, rc2 = 1 / Math.sqrt(c2);
    for (const param of params) {
      const theta = valuesOf(param.value);
      const g = valuesOf(param.grad);
      const { m, v } = this.#momentsOf(param);
      for (let i = 0; i < theta.length; i++) {
        const gi = g[i];
        const mi = (m[i] = b1 * m[i] + (1 - b1) * gi);
        const vi = (v[i] = b2 * v[i] + (1 - b2) * gi * gi);
        theta[i] -= lrc * mi / (Math.sqrt(vi) * rc2 + eps);
      }
    }
  }

  /** Forgets the moments and the step count, as if newly made. */
  reset(): void {
    this.#t = 0;
    for (const { m, v } of this.#moments.values()) {
      m.fill(0);
      v.fill(0);
    }
  }

  #momentsOf(p: Parameter): { m: Float32Array; v: Float32Array } {
    let moments = this.#moments.get(p.value);
    if (moments === undefined) {
      moments = { m: new Float32Array(p.value.length), v: new Float32Array(p.value.length) };
      this.#moments.set(p.value, moments);
    } else if (moments.m.length !== p.value.length) {
      throw new TypeError(
        `a parameter of ${moments.m.length} values now has ${p.value.length}; make a new Adam`,
      );
    }
    return moments;
  }
}

function checkLengths(params: readonly Parameter[]): void {
  for (const [i, p] of params.entries()) {
    if (p.value.length !== p.grad.length) {
      throw new TypeError(
        `parameter ${i} has ${p.value.length} values but ${p.grad.length} gradients`,
      );
    }
  }
}
