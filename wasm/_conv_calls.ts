/**
 * The convolution kernels' raw calls (`kernels/src/conv/`): the one place each export is
 * called, the geometry descriptor they read, and the pool jobs that run them on a range of
 * pixels. `./conv.ts` is the host built on them.
 *
 * @module
 */

import type { ConvGeometry } from "../core/conv_geometry.ts";
import type { KernelArena } from "./arena.ts";
import { payloadIntegers, registerJobs } from "./job_registry.ts";
import type { Kernels } from "./kernels.ts";

/** The activations the kernels fuse into their store step. */
export type ConvActivation = "none" | "relu" | "gelu";

const ACTIVATIONS: Record<ConvActivation, number> = { none: 0, relu: 1, gelu: 2 };

/**
 * Writes the `u32` descriptor the kernels read (`kernels/src/conv/mod.rs`, `GEOM_LEN` values)
 * into the arena.
 *
 * @param arena Where to allocate it.
 * @param g The forward geometry.
 * @param options `transposed` (mode 1: source `dy`, destination `dx`) and `activation`.
 * @returns Its byte address.
 * @throws {TypeError} When the activation is unknown.
 * @throws {OutOfMemoryError} When the kernel memory cannot grow.
 * @example
 * ```ts
 * import { convGeometry } from "../core/conv_geometry.ts";
 * import { KernelArena } from "./arena.ts";
 * import { loadKernels } from "./loader.ts";
 * import { writeGeometry } from "./_conv_calls.ts";
 * import assert from "node:assert";
 * const kernels = await loadKernels();
 * using arena = new KernelArena(kernels);
 * const g = convGeometry({ input: [1, 4, 4, 2], kernel: [3, 3], outChannels: 3 });
 * const geom = writeGeometry(arena, g, { activation: "relu" });
 * assert(kernels.exports.prism_conv_packed_len(geom) === 9 * 8 * 2);
 * ```
 */
export function writeGeometry(
  arena: KernelArena,
  g: ConvGeometry,
  options: { transposed?: boolean; activation?: ConvActivation } = {},
): number {
  const activation = options.activation ?? "none";
  const act = ACTIVATIONS[activation];
  if (act === undefined) {
    throw new TypeError(
      `activation must be "none", "relu" or "gelu", got ${JSON.stringify(activation)}`,
    );
  }
  const ptr = arena.bytes(4 * 14);
  const fields = [g.n, g.h, g.w, g.c, g.kh, g.kw, g.oh, g.ow, g.oc, g.stride, g.padTop, g.padLeft];
  // Through `kernels.f32`, which refreshes a buffer another thread's growth left short.
  const view = new Uint32Array(arena.kernels.f32(ptr, 14).buffer, ptr, 14);
  view.set([...fields, options.transposed ? 1 : 0, act]);
  return ptr;
}

/** One dense or depthwise pass over destination pixels `m0..m1` (byte addresses). */
export interface ConvCall {
  readonly geom: number;
  readonly src: number;
  /** Packed weights (dense) or raw `[kh, kw, c]` weights (depthwise). */
  readonly weights: number;
  /** 0 for none. */
  readonly bias: number;
  readonly dst: number;
  /** Dense only: `prism_conv_forward_scratch_len` bytes. */
  readonly scratch: number;
  readonly m0: number;
  readonly m1: number;
}

/** One weight-gradient pass over output pixels `m0..m1`, adding into float64 `dw` / `db`. */
export interface WgradCall {
  readonly geom: number;
  readonly x: number;
  readonly dy: number;
  readonly dw: number;
  /** 0 for none. */
  readonly db: number;
  readonly scratch: number;
  readonly m0: number;
  readonly m1: number;
}

/** The kernels behind each job, chosen by `depthwise`. */
export type ConvKind = "dense" | "depthwise";

/**
 * Runs a forward (or transposed) pass on one instance.
 *
 * @param kernels The instance.
 * @param kind Dense (indirect GEMM) or depthwise.
 * @param call Pointers and range.
 * @throws {InvalidDataError} When a value is NaN or infinite before the activation.
 * @throws {KernelError} When the kernel rejects its arguments.
 * @example
 * ```ts
 * import { convGeometry } from "../core/conv_geometry.ts";
 * import { KernelArena } from "./arena.ts";
 * import { loadKernels } from "./loader.ts";
 * import { runConv, writeGeometry } from "./_conv_calls.ts";
 * import assert from "node:assert";
 * const kernels = await loadKernels();
 * using arena = new KernelArena(kernels);
 * const g = convGeometry({ input: [1, 1, 2, 1], kernel: [1, 1], outChannels: 1 });
 * const geom = writeGeometry(arena, g);
 * const [src, weights, dst] = [arena.copyIn(new Float32Array([2, 3])), arena.copyIn(new Float32Array([4])), arena.f32(2)];
 * runConv(kernels, "depthwise", { geom, src, weights, bias: 0, dst, scratch: 0, m0: 0, m1: 2 });
 * assert.deepStrictEqual([...kernels.f32(dst, 2)], [8, 12]);
 * ```
 */
export function runConv(kernels: Kernels, kind: ConvKind, call: ConvCall): void {
  const { geom, src, weights, bias, dst, scratch, m0, m1 } = call;
  if (kind === "dense") {
    const e = kernels.exports;
    const status = e.prism_conv_forward_f32(geom, src, weights, bias, dst, scratch, m0, m1);
    kernels.check("prism_conv_forward_f32", status);
  } else {
    const e = kernels.exports;
    const status = e.prism_conv_depthwise_f32(geom, src, weights, bias, dst, m0, m1);
    kernels.check("prism_conv_depthwise_f32", status);
  }
}

/**
 * Runs a weight-gradient pass on one instance.
 *
 * @param kernels The instance.
 * @param kind Dense (gathered blocks through sgemm) or depthwise.
 * @param call Pointers and range.
 * @throws {InvalidDataError} When a block's sum is NaN or infinite.
 * @throws {KernelError} When the kernel rejects its arguments.
 * @example
 * ```ts
 * import { convGeometry } from "../core/conv_geometry.ts";
 * import { KernelArena } from "./arena.ts";
 * import { loadKernels } from "./loader.ts";
 * import { runWgrad, scratchBytes, writeGeometry } from "./_conv_calls.ts";
 * import assert from "node:assert";
 * const kernels = await loadKernels();
 * using arena = new KernelArena(kernels);
 * const g = convGeometry({ input: [1, 1, 2, 1], kernel: [1, 1], outChannels: 1 });
 * const geom = writeGeometry(arena, g);
 * const x = arena.copyIn(new Float32Array([2, 3])), dy = arena.copyIn(new Float32Array([1, 1]));
 * const dw = arena.f64(1, { zero: true }), db = arena.f64(1, { zero: true });
 * const scratch = arena.bytes(scratchBytes(kernels, geom, "dense_wgrad"));
 * runWgrad(kernels, "dense", { geom, x, dy, dw, db, scratch, m0: 0, m1: 2 });
 * assert(kernels.f64(dw, 1)[0] === 5 && kernels.f64(db, 1)[0] === 2);
 * ```
 */
export function runWgrad(kernels: Kernels, kind: ConvKind, call: WgradCall): void {
  const { geom, x, dy, dw, db, scratch, m0, m1 } = call;
  const e = kernels.exports;
  if (kind === "dense") {
    const status = e.prism_conv_wgrad_f32(geom, x, dy, dw, db, scratch, m0, m1);
    kernels.check("prism_conv_wgrad_f32", status);
  } else {
    const status = e.prism_conv_depthwise_wgrad_f32(geom, x, dy, dw, db, scratch, m0, m1);
    kernels.check("prism_conv_depthwise_wgrad_f32", status);
  }
}

/**
 * Bytes of scratch one pass needs (per worker), by kind and direction.
 *
 * @param kernels The instance.
 * @param geom The descriptor's address.
 * @param pass Dense forward/transposed, dense weight gradient, depthwise weight gradient.
 * @returns Bytes (0 for an invalid descriptor).
 * @throws Never.
 * @example
 * ```ts
 * import { convGeometry } from "../core/conv_geometry.ts";
 * import { KernelArena } from "./arena.ts";
 * import { loadKernels } from "./loader.ts";
 * import { scratchBytes, writeGeometry } from "./_conv_calls.ts";
 * import assert from "node:assert";
 * const kernels = await loadKernels();
 * using arena = new KernelArena(kernels);
 * const g = convGeometry({ input: [1, 1, 2, 1], kernel: [1, 1], outChannels: 1 });
 * const geom = writeGeometry(arena, g);
 * assert(scratchBytes(kernels, geom, "depthwise_wgrad") === 8);
 * ```
 */
export function scratchBytes(
  kernels: Kernels,
  geom: number,
  pass: "forward" | "dense_wgrad" | "depthwise_wgrad",
): number {
  const e = kernels.exports;
  if (pass === "forward") return e.prism_conv_forward_scratch_len(geom);
  if (pass === "dense_wgrad") return e.prism_conv_wgrad_scratch_len(geom);
  return e.prism_conv_depthwise_wgrad_scratch_len(geom) * 4;
}

/**
 * Packs dense weights (`prism_conv_pack_weights`) for the descriptor's mode.
 *
 * @param kernels The instance.
 * @param call The descriptor, the HWIO weights and the output (`prism_conv_packed_len` floats).
 * @throws {InvalidDataError} When a weight is NaN or infinite.
 * @example
 * ```ts
 * import { convGeometry } from "../core/conv_geometry.ts";
 * import { KernelArena } from "./arena.ts";
 * import { loadKernels } from "./loader.ts";
 * import { runPack, writeGeometry } from "./_conv_calls.ts";
 * import assert from "node:assert";
 * const kernels = await loadKernels();
 * using arena = new KernelArena(kernels);
 * const g = convGeometry({ input: [1, 1, 2, 1], kernel: [1, 1], outChannels: 1 });
 * const geom = writeGeometry(arena, g);
 * const out = arena.f32(kernels.exports.prism_conv_packed_len(geom));
 * runPack(kernels, { geom, w: arena.copyIn(new Float32Array([7])), out });
 * assert(kernels.f32(out, 8)[0] === 7);
 * ```
 */
export function runPack(kernels: Kernels, call: { geom: number; w: number; out: number }): void {
  const status = kernels.exports.prism_conv_pack_weights(call.geom, call.w, call.out);
  kernels.check("prism_conv_pack_weights", status);
}

const CONV_KEYS = ["geom", "src", "weights", "bias", "dst", "scratch", "m0", "m1"] as const;
const WGRAD_KEYS = ["geom", "x", "dy", "dw", "db", "scratch", "m0", "m1"] as const;

registerJobs({
  conv_dense_range(kernels, payload) {
    runConv(kernels, "dense", payloadIntegers("conv_dense_range", payload, CONV_KEYS));
    return { result: null };
  },
  conv_depthwise_range(kernels, payload) {
    runConv(kernels, "depthwise", payloadIntegers("conv_depthwise_range", payload, CONV_KEYS));
    return { result: null };
  },
  conv_dense_wgrad_range(kernels, payload) {
    runWgrad(kernels, "dense", payloadIntegers("conv_dense_wgrad_range", payload, WGRAD_KEYS));
    return { result: null };
  },
  conv_depthwise_wgrad_range(kernels, payload) {
    const p = payloadIntegers("conv_depthwise_wgrad_range", payload, WGRAD_KEYS);
    runWgrad(kernels, "depthwise", p);
    return { result: null };
  },
});

/** The most float32 values one kernel-memory buffer may hold (4 GiB of wasm32 memory). */
const MAX_VALUES = 2 ** 30 - 1;

/**
 * Checks that `data` is a Float32Array of the shape's size, naming the operand.
 *
 * @param op The operation, for messages.
 * @param name The operand (`"input"`, `"weights"`, `"bias"`, `"dy"`).
 * @param data The values.
 * @param shape The shape the geometry expects.
 * @throws {TypeError} When `data` is not a Float32Array or its length differs.
 * @throws {RangeError} When the shape passes 4 GiB of kernel memory.
 * @example
 * ```ts
 * import { checkValues } from "./_conv_calls.ts";
 * import assert from "node:assert";
 * checkValues("conv2d()", "bias", new Float32Array(3), [3]);
 * assert.throws(() => checkValues("conv2d()", "bias", new Float32Array(2), [3]), /bias has 2/);
 * ```
 */
export function checkValues(op: string, name: string, data: unknown, shape: number[]): void {
  if (!(data instanceof Float32Array)) {
    throw new TypeError(
      `${op}: ${name} must be a Float32Array, got ${Object.prototype.toString.call(data)}`,
    );
  }
  const need = shape.reduce((a, b) => a * b, 1);
  checkSize(op, name, need);
  if (data.length !== need) {
    throw new TypeError(
      `${op}: ${name} has ${data.length} values but the convolution's geometry needs ` +
        `[${shape.join(", ")}] = ${need}; check the shapes passed`,
    );
  }
}

/**
 * Refuses buffers beyond 4 GiB of kernel memory.
 *
 * @param op The operation, for messages.
 * @param name The buffer.
 * @param values Its float32 count.
 * @throws {RangeError} When it passes the limit.
 * @example
 * ```ts
 * import { checkSize } from "./_conv_calls.ts";
 * import assert from "node:assert";
 * assert.throws(() => checkSize("conv2d()", "output", 2 ** 31), /4 GiB/);
 * ```
 */
export function checkSize(op: string, name: string, values: number): void {
  if (values > MAX_VALUES) {
    throw new RangeError(
      `${op}: ${name} would hold ${values} float32 values, beyond the 4 GiB limit of WASM ` +
        `kernel memory (${MAX_VALUES} values); split the batch or the image into tiles`,
    );
  }
}
