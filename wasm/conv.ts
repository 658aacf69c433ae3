/**
 * Convolution on WASM SIMD (`kernels/src/conv/`): dense convolution as an indirect GEMM, its
 * input gradient (also the forward of a transposed convolution) and its weight and bias
 * gradients, and the depthwise kernels of all three, over NHWC images and HWIO weights with
 * the geometry of `core/conv_geometry.ts`.
 *
 * Inputs whose data already lives in kernel memory (a {@linkcode WasmStorage} view, the result
 * of a previous call) are read in place; results are new kernel-memory storage, so a network's
 * layers chain without copies (free each result when done). Dense weights are packed into the
 * micro-kernel's panels by {@linkcode ConvWeights.pack}, once per layer, and reused by every
 * call. Large calls split the destination pixels across the pool's workers by batch and output
 * rows (each value is the same sum whoever computes it, so the split is bit-identical); weight
 * gradients split at the kernels' 256-pixel float32 blocks and merge in float64.
 *
 * The gradients take `dy` as the gradient of the convolution's output *before* its fused
 * activation: applying the activation's derivative is the layer's job.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import type { ConvGeometry } from "../core/conv_geometry.ts";
import { KernelArena } from "./arena.ts";
import type { HostOptions } from "./host.ts";
import type { Kernels } from "./kernels.ts";
import { loadKernels } from "./loader.ts";
import { defaultPool, type WorkerPool } from "./pool.ts";
import { kernelAddress, WasmStorage } from "./storage.ts";
import { splitRanges } from "./_split.ts";
import {
  checkSize,
  checkValues,
  type ConvActivation,
  type ConvKind,
  runConv,
  runPack,
  runWgrad,
  scratchBytes,
  writeGeometry,
} from "./_conv_calls.ts";
import { ConvWeights } from "./conv_weights.ts";
import { CONV_BLOCK } from "./kernel_exports.generated.ts";

export type { ConvActivation };
export { ConvWeights };

/**
 * Multiply-adds from which a call is split across workers: a round trip of a few jobs costs
 * about 0.2 ms, in which one core does about 2 M multiply-adds.
 */
export const CONV_PARALLEL_FROM = 2 ** 22;

/** Options of the forward and input-gradient passes. */
export interface ConvPassOptions extends HostOptions {
  /** Fused into the store step; default `"none"`. GELU is the exact erf form. */
  activation?: ConvActivation;
}

/** The operands of {@linkcode wasmConvForward}. */
export interface ConvForwardOperands {
  /** NHWC `[n, h, w, c]`; kernel-memory data is read in place. */
  readonly input: Float32Array;
  /** Packed dense weights, or raw HWIO (`[kh, kw, c, oc]`; depthwise `[kh, kw, c, 1]`). */
  readonly weights: Float32Array | ConvWeights;
  /** `oc` values; none by default. */
  readonly bias?: Float32Array;
}

/**
 * `act(conv(input, weights) + bias)`, NHWC `[n, oh, ow, oc]`, in kernel memory.
 *
 * @param g The geometry (`convGeometry()`), dense or depthwise.
 * @param operands Input, weights (packed or raw) and bias.
 * @param options `activation`, `operation`, `signal`, `pool`.
 * @returns The output, new kernel-memory storage (free it when done).
 * @throws {TypeError} When a length disagrees with the geometry (naming which), or packed
 *   weights were packed for another geometry or direction.
 * @throws {InvalidDataError} When input, weights or bias hold NaN or infinity.
 * @throws {RangeError} When a buffer would pass 4 GiB of kernel memory.
 * @throws {AbortedError} When `signal` aborts before the work starts.
 * @example
 * ```ts
 * import { convGeometry } from "../core/conv_geometry.ts";
 * import { wasmConvForward } from "./conv.ts";
 * import assert from "node:assert";
 * const g = convGeometry({ input: [1, 3, 3, 1], kernel: [3, 3], outChannels: 1,
 *   padding: "same" });
 * using y = await wasmConvForward(g, {
 *   input: new Float32Array(9).fill(1), weights: new Float32Array(9).fill(1),
 *   bias: new Float32Array([-5]) }, { activation: "relu", operation: "conv2d()" });
 * assert.deepStrictEqual([...y.view()], [0, 1, 0, 1, 4, 1, 0, 1, 0]);
 * ```
 */
export async function wasmConvForward(
  g: ConvGeometry,
  operands: ConvForwardOperands,
  options: ConvPassOptions,
): Promise<WasmStorage> {
  const op = options.operation;
  checkValues(op, "input", operands.input, [g.n, g.h, g.w, g.c]);
  return await destinationPass(g, { src: operands.input, ...operands }, {
    ...options,
    transposed: false,
  });
}

/** The operands of {@linkcode wasmConvBackwardInput}. */
export interface ConvBackwardInputOperands {
  /** NHWC `[n, oh, ow, oc]`: the gradient of the convolution's output (or a transposed layer's input). */
  readonly dy: Float32Array;
  /** Packed with `transposed: true`, or raw HWIO weights of the forward convolution. */
  readonly weights: Float32Array | ConvWeights;
  /** `c` values added to the result (a transposed-convolution layer's bias); none by default. */
  readonly bias?: Float32Array;
}

/**
 * The gradient of a convolution's input, `[n, h, w, c]`: the transposed convolution of `dy`
 * with the forward's weights. With `bias` and `activation` it is the forward of a transposed
 * convolution layer (PyTorch's `ConvTranspose2d(k, stride, padding=p)` is the transposed pass
 * of the convolution with that kernel, stride and padding `[p, p, p, p]`).
 *
 * @param g The forward convolution's geometry, dense or depthwise.
 * @param operands `dy`, the weights and an optional bias.
 * @param options `activation`, `operation`, `signal`, `pool`.
 * @returns The input gradient, new kernel-memory storage.
 * @throws {TypeError} When a length disagrees with the geometry, or packed weights were packed
 *   for the forward.
 * @throws {InvalidDataError} When `dy` or the weights hold NaN or infinity.
 * @throws {RangeError} When a buffer would pass 4 GiB of kernel memory.
 * @throws {AbortedError} When `signal` aborts before the work starts.
 * @example
 * ```ts
 * import { convGeometry } from "../core/conv_geometry.ts";
 * import { wasmConvBackwardInput } from "./conv.ts";
 * import assert from "node:assert";
 * // k2 s2 "valid" on 2x2: each input pixel gets dy times its own weight.
 * const g = convGeometry({ input: [1, 2, 2, 1], kernel: [2, 2], outChannels: 1, stride: 2 });
 * using dx = await wasmConvBackwardInput(g, { dy: new Float32Array([2]),
 *   weights: new Float32Array([1, 2, 3, 4]) }, { operation: "conv2d backward" });
 * assert.deepStrictEqual([...dx.view()], [2, 4, 6, 8]);
 * ```
 */
export async function wasmConvBackwardInput(
  g: ConvGeometry,
  operands: ConvBackwardInputOperands,
  options: ConvPassOptions,
): Promise<WasmStorage> {
  checkValues(options.operation, "dy", operands.dy, [g.n, g.oh, g.ow, g.oc]);
  return await destinationPass(g, { src: operands.dy, ...operands }, {
    ...options,
    transposed: true,
  });
}

/** The gradients of a convolution's parameters, in kernel memory. */
export interface ConvParameterGradients extends Disposable {
  /** `[kh, kw, c, oc]` (depthwise `[kh, kw, c, 1]`). */
  readonly dWeights: WasmStorage;
  /** `oc` values. */
  readonly dBias: WasmStorage;
}

/**
 * The gradients of a convolution's weights and bias, summed over the batch and every output
 * pixel: float32 sums over blocks of 256 pixels, merged in float64, rounded to float32 once.
 *
 * @param g The forward convolution's geometry, dense or depthwise.
 * @param operands The forward's `input` `[n, h, w, c]` and `dy` `[n, oh, ow, oc]`.
 * @param options `operation`, `signal`, `pool`.
 * @returns Both gradients (dispose them together with `using`).
 * @throws {TypeError} When a length disagrees with the geometry.
 * @throws {InvalidDataError} When a sum is NaN or infinite (NaN or infinity in the operands).
 * @throws {RangeError} When a buffer would pass 4 GiB of kernel memory.
 * @throws {AbortedError} When `signal` aborts before the work starts.
 * @example
 * ```ts
 * import { convGeometry } from "../core/conv_geometry.ts";
 * import { wasmConvBackwardWeights } from "./conv.ts";
 * import assert from "node:assert";
 * const g = convGeometry({ input: [2, 1, 1, 1], kernel: [1, 1], outChannels: 1 });
 * using grads = await wasmConvBackwardWeights(g, { input: new Float32Array([3, 4]),
 *   dy: new Float32Array([1, 2]) }, { operation: "conv2d backward" });
 * assert(grads.dWeights.view()[0] === 11 && grads.dBias.view()[0] === 3);
 * ```
 */
export async function wasmConvBackwardWeights(
  g: ConvGeometry,
  operands: { readonly input: Float32Array; readonly dy: Float32Array },
  options: HostOptions,
): Promise<ConvParameterGradients> {
  const op = options.operation;
  checkValues(op, "input", operands.input, [g.n, g.h, g.w, g.c]);
  checkValues(op, "dy", operands.dy, [g.n, g.oh, g.ow, g.oc]);
  throwIfAborted(options.signal, op);
  const kernels = await loadKernels();
  const kind: ConvKind = g.depthwise ? "depthwise" : "dense";
  const wLength = g.kh * g.kw * g.c * (g.depthwise ? 1 : g.oc);
  let dWeights: WasmStorage | undefined, dBias: WasmStorage | undefined;
  try {
    await using arena = new KernelArena(kernels);
    const geom = writeGeometry(arena, g);
    const x = kernelAddress(kernels, operands.input) ?? arena.copyIn(operands.input);
    const dy = kernelAddress(kernels, operands.dy) ?? arena.copyIn(operands.dy);
    // Allocated after the operands' addresses are taken: growing memory detaches their views.
    dWeights = new WasmStorage(kernels, wLength);
    dBias = new WasmStorage(kernels, g.oc);
    const pixels = g.n * g.oh * g.ow;
    const pool = options.pool ?? defaultPool();
    const work = pixels * g.kh * g.kw * g.c * (g.depthwise ? 1 : g.oc);
    const parts = splitRanges(pixels, parallelParts(pool, work, pixels, CONV_BLOCK), CONV_BLOCK);
    const pass = g.depthwise ? "depthwise_wgrad" : "dense_wgrad";
    const calls = parts.map(([m0, m1]) => ({
      geom,
      x,
      dy,
      dw: arena.f64(wLength, { zero: true }),
      db: arena.f64(g.oc, { zero: true }),
      scratch: arena.bytes(scratchBytes(kernels, geom, pass)),
      m0,
      m1,
    }));
    const job = g.depthwise ? "conv_depthwise_wgrad_range" : "conv_dense_wgrad_range";
    await runParts(arena, pool, calls, {
      local: (call) => runWgrad(kernels, kind, call),
      job,
    });
    // The parts' float64 sums merge into the first part's (in part order, as 0 + a + b + …
    // would), then round to float32 once, straight into the results: no host copies, which
    // cost more than the kernel for a dense layer's small batch.
    const [first, ...rest] = calls;
    const dw = kernels.f64(first.dw, wLength), db = kernels.f64(first.db, g.oc);
    for (const call of rest) {
      addInto(dw, kernels.f64(call.dw, wLength));
      addInto(db, kernels.f64(call.db, g.oc));
    }
    dWeights.view().set(dw);
    dBias.view().set(db);
  } catch (e) {
    dWeights?.free();
    dBias?.free();
    throw e;
  }
  const [w, b] = [dWeights, dBias];
  return {
    dWeights: w,
    dBias: b,
    [Symbol.dispose]() {
      w.free();
      b.free();
    },
  };
}

/** Runs a forward or transposed pass into new storage. */
async function destinationPass(
  g: ConvGeometry,
  operands: { src: Float32Array; weights: Float32Array | ConvWeights; bias?: Float32Array },
  options: ConvPassOptions & { transposed: boolean },
): Promise<WasmStorage> {
  const op = options.operation;
  const { transposed } = options;
  const [dh, dw, dc] = transposed ? [g.h, g.w, g.c] : [g.oh, g.ow, g.oc];
  const [sc] = transposed ? [g.oc] : [g.c];
  const { weights, bias } = operands;
  if (weights instanceof ConvWeights) {
    if (g.depthwise) throw new TypeError(`${op}: depthwise weights are never packed`);
    if (!weights.fits(g, transposed)) {
      throw new TypeError(
        `${op}: the packed weights were packed for another geometry or direction ` +
          `(${weights.transposed ? "transposed" : "forward"}); pack them for this call with ` +
          `ConvWeights.pack(g, w, { transposed: ${transposed} })`,
      );
    }
  } else {
    const wShape = [g.kh, g.kw, g.c, g.depthwise ? 1 : g.oc];
    checkValues(op, "weights", weights, wShape);
  }
  if (bias !== undefined) checkValues(op, "bias", bias, [dc]);
  const pixels = g.n * dh * dw;
  checkSize(op, "output", pixels * dc);
  throwIfAborted(options.signal, op);
  const kernels = await loadKernels();
  // Every destination value is written by the pass (or the call throws and frees it).
  const out = new WasmStorage(kernels, pixels * dc, { zero: false });
  try {
    await using arena = new KernelArena(kernels);
    const geom = writeGeometry(arena, g, { transposed, activation: options.activation });
    const packed = weights instanceof ConvWeights
      ? weights.storage.ptr
      : g.depthwise
      ? kernelAddress(kernels, weights) ?? arena.copyIn(weights)
      : packInto(kernels, arena, geom, weights);
    const src = kernelAddress(kernels, operands.src) ?? arena.copyIn(operands.src);
    const b = bias === undefined ? 0 : kernelAddress(kernels, bias) ?? arena.copyIn(bias);
    const pool = options.pool ?? defaultPool();
    const work = pixels * g.kh * g.kw * (g.depthwise ? dc : sc * dc);
    const kind: ConvKind = g.depthwise ? "depthwise" : "dense";
    const parts = splitRanges(pixels, parallelParts(pool, work, pixels, dw), dw);
    const calls = parts.map(([m0, m1]) => ({
      geom,
      src,
      weights: packed,
      bias: b,
      dst: out.ptr,
      scratch: g.depthwise ? 0 : arena.bytes(scratchBytes(kernels, geom, "forward")),
      m0,
      m1,
    }));
    const job = g.depthwise ? "conv_depthwise_range" : "conv_dense_range";
    await runParts(arena, pool, calls, { local: (c) => runConv(kernels, kind, c), job });
  } catch (e) {
    out.free();
    throw e;
  }
  return out;
}

/** Packs raw dense weights into the arena for one call. */
function packInto(kernels: Kernels, arena: KernelArena, geom: number, w: Float32Array): number {
  const out = arena.f32(kernels.exports.prism_conv_packed_len(geom));
  const src = kernelAddress(kernels, w) ?? arena.copyIn(w);
  runPack(kernels, { geom, w: src, out });
  return out;
}

/**
 * Parts per worker a large call is cut into. The pool hands queued parts to whichever worker is
 * free, so when another process slows one core that worker takes fewer parts, and the call no
 * longer waits on one late half (on a shared 2-core machine the halves' times often differed
 * by half).
 */
export const CONV_PARTS_PER_WORKER = 4;

/**
 * Parts to split a call into: 1 below the threshold or with less than 2 units of work; else
 * a multiple of the workers (equal shares when no other process competes), up to
 * {@linkcode CONV_PARTS_PER_WORKER} per worker while a part keeps at least
 * `8 · CONV_PARALLEL_FROM` multiply-adds (a few ms: the round trip before a worker takes its
 * next part stays near 2 % of it).
 */
function parallelParts(pool: WorkerPool, work: number, total: number, unit: number): number {
  if (pool.size <= 1 || work < CONV_PARALLEL_FROM || total < 2 * unit) return 1;
  const each = Math.floor(work / (pool.size * 8 * CONV_PARALLEL_FROM));
  return pool.size * Math.max(1, Math.min(CONV_PARTS_PER_WORKER, each));
}

/** One call on this thread, or one job per call on the pool (tracked by the arena). */
async function runParts<C>(
  arena: KernelArena,
  pool: WorkerPool,
  calls: C[],
  how: { local: (call: C) => void; job: string },
): Promise<void> {
  if (calls.length === 1) {
    how.local(calls[0]);
    return;
  }
  await Promise.all(calls.map((call) => arena.track(pool.run(how.job, call))));
}

function addInto(out: Float64Array, values: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] += values[i];
}
