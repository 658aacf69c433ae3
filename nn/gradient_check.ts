/**
 * A finite-difference gradient checker: a network's backward pass against float64 central
 * differences of a float64 forward pass of the same spec and values.
 *
 * @module
 */

import type { Backend, Tensor } from "../core/types.ts";
import { checkInteger } from "../core/validate.ts";
import { Rng } from "../synth/rng.ts";
import type { ConvNet } from "./convnet.ts";
import { type Image64, referenceForward } from "./_reference.ts";

/** Options of {@linkcode checkGradients}. */
export interface GradientCheckOptions {
  /** The input batch `[n, h, w, c]` (small: every sample runs two float64 forward passes). */
  input: Tensor;
  /** Elements checked per parameter tensor and of the input (default 12; all when fewer). */
  samples?: number;
  /** The central-difference step (default 1e-5). */
  epsilon?: number;
  /** Seed of the loss weights and of the sampled elements (default 0). */
  seed?: number;
  /** Where the network's backward pass runs (default `"auto"`). */
  backend?: Backend;
}

/** What {@linkcode checkGradients} found. */
export interface GradientCheckResult {
  /** The largest relative error over every checked element. */
  maxRelativeError: number;
  /** The largest relative error per parameter, by dotted name. */
  parameters: Map<string, number>;
  /** The largest relative error of the input's gradient. */
  input: number;
}

/**
 * Checks `net.backward` on the loss `L = Σ y·r` (`r` fixed random weights, so every output
 * counts): each sampled element's analytic gradient against `(L(θ+ε) − L(θ−ε)) / 2ε` computed in
 * float64 with batch statistics (the training forward). The relative error of an element is
 * `|a − n| / max(|a|, |n|, 1e-3 · m, 1e-6 · M)`, `m` the largest |gradient| of that tensor and `M`
 * of all of them, so elements whose gradient is nearly zero are judged against the tensor's
 * scale, and a tensor whose gradient is zero (a bias before batch norm) against the network's.
 *
 * @param net The network (its parameters are read, not changed; batch norm's running statistics
 *   move by one training forward pass).
 * @param options `input`, `samples`, `epsilon`, `seed`, `backend`.
 * @returns The worst relative error overall, per parameter and for the input.
 * @throws {TypeError} When the input does not fit the network.
 * @example
 * ```ts
 * import { ConvNet } from "./convnet.ts";
 * import { checkGradients } from "./gradient_check.ts";
 * import assert from "node:assert";
 * const net = await ConvNet.fromSpec({
 *   format: "prism-convnet", version: 1, name: "tiny", input: { channels: 2 },
 *   layers: [{
 *     type: "conv2d", name: "c", inChannels: 2, outChannels: 3, kernel: [3, 3], stride: 1,
 *     padding: [1, 1, 1, 1], groups: 1, bias: true, norm: null, activation: "none",
 *   }],
 * });
 * const input = { data: Float32Array.from({ length: 32 }, (_, i) => Math.sin(i)), shape: [1, 4, 4, 2] };
 * const r = await checkGradients(net, { input });
 * assert(r.maxRelativeError < 1e-3);
 * ```
 */
export async function checkGradients(
  net: ConvNet,
  options: GradientCheckOptions,
): Promise<GradientCheckResult> {
  const samples = checkInteger("samples", options.samples ?? 12, 1);
  const eps = options.epsilon ?? 1e-5;
  if (!(eps > 0)) throw new RangeError(`epsilon must be > 0, got ${eps}`);
  const seed = checkInteger("seed", options.seed ?? 0, 0);
  const input = options.input;
  const params = net.parameters();
  // Analytic: the network's own training forward and backward.
  const y = await net.forward(input, { training: true, backend: options.backend });
  const rng = new Rng(seed, 0);
  const r = Float32Array.from({ length: y.size }, () => 2 * rng.uniform() - 1);
  const outShape = [...y.shape];
  y.dispose();
  const grads = await net.backward({ data: r, shape: outShape });
  const dInput = await grads.input.read();
  grads.input.dispose();
  // Numeric: float64 values the perturbations change in place.
  const values = new Map<string, Float64Array>();
  for (const [name, p] of params) values.set(name, Float64Array.from(p.data));
  const x: Image64 = {
    data: Float64Array.from(input.data),
    shape: input.shape as [number, number, number, number],
  };
  const loss = () => {
    const out = referenceForward(net.spec.layers, values, x, true).data;
    let total = 0;
    for (let i = 0; i < out.length; i++) total += out[i] * r[i];
    return total;
  };
  const largest = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const global = Math.max(largest(dInput), ...[...grads.parameters.values()].map(largest));
  const worst = (target: Float64Array, analytic: Float32Array, stream: number) => {
    const scale = Math.max(largest(analytic), 1e-3 * global);
    let max = 0;
    for (const i of sampleIndices(target.length, samples, new Rng(seed, stream))) {
      const keep = target[i];
      target[i] = keep + eps;
      const up = loss();
      target[i] = keep - eps;
      const down = loss();
      target[i] = keep;
      const numeric = (up - down) / (2 * eps);
      const a = analytic[i];
      const denom = Math.max(Math.abs(a), Math.abs(numeric), 1e-3 * scale, 1e-30);
      max = Math.max(max, Math.abs(a - numeric) / denom);
    }
    return max;
  };
  const parameters = new Map<string, number>();
  let stream = 1;
  for (const [name, g] of grads.parameters) {
    parameters.set(name, worst(values.get(name)!, g, stream++));
  }
  const inputError = worst(x.data, dInput, stream);
  return {
    maxRelativeError: Math.max(inputError, ...parameters.values()),
    parameters,
    input: inputError,
  };
}

/** `k` distinct indices below `n` (all of them when `n ≤ k`), in increasing order. */
function sampleIndices(n: number, k: number, rng: Rng): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  const chosen = new Set<number>();
  while (chosen.size < k) chosen.add(rng.int(0, n - 1));
  return [...chosen].sort((a, b) => a - b);
}
