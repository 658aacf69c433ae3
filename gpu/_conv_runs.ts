/**
 * The program runs of a convolution call: which program a pass uses (GEMM or depthwise, f32,
 * packed or native f16), how a call is planned into pieces that fit the device's limits, and
 * each piece's bindings (its ranges of the whole tensors, with their base offsets).
 *
 * @module
 */

import type { ConvGeometry } from "../core/conv_geometry.ts";
import type { GpuContext } from "./context.ts";
import { conv2dProgram, convGemmOverrides, convGemmVectors } from "./programs/conv2d.ts";
import type {
  ConvActivation,
  ConvMode,
  ConvPrecision,
  F16Storage,
} from "./programs/conv2d_common.ts";
import { DEPTHWISE_OVERRIDES, depthwiseProgram } from "./programs/conv2d_depthwise.ts";
import type { ProgramRun } from "./run.ts";
import type { GpuStorage } from "./storage.ts";
import {
  bindingOf,
  type ConvLimits,
  type ConvPiece,
  type Excess,
  planPieces,
  type TensorRange,
} from "./_conv_split.ts";
import { storageWords } from "./_conv_tensor.ts";

/** How f16 calls store tensors: `"auto"` (native where the device has `shader-f16`) or forced. */
export type F16Choice = "auto" | F16Storage;

/** What fixes a pass's program. */
export interface PassSetup {
  /** The pass. */
  readonly mode: ConvMode;
  /** Storage of the tensors. */
  readonly precision: ConvPrecision;
  /** f16 storage (ignored for f32). */
  readonly f16: F16Storage;
  /** Forward: the fused activation. */
  readonly activation?: ConvActivation;
  /** Forward: a bias is bound. */
  readonly hasBias?: boolean;
}

/**
 * The f16 storage a call uses: `"auto"` (default) is native where the device has
 * `shader-f16`, else packed.
 *
 * @param gpu The context (its `status.f16`).
 * @param choice The call's choice.
 * @param operation Named in the error.
 * @returns `"native"` or `"packed"`.
 * @throws {TypeError} When `choice` is unknown, or `"native"` on a device without `shader-f16`.
 * @example
 * ```ts
 * import { f16StorageOf } from "./_conv_runs.ts";
 * import assert from "node:assert";
 * const gpu = { status: { f16: false } };
 * // deno-lint-ignore no-explicit-any
 * assert(f16StorageOf(gpu as any, "auto", "conv") === "packed");
 * // deno-lint-ignore no-explicit-any
 * assert.throws(() => f16StorageOf(gpu as any, "native", "conv"), /shader-f16/);
 * ```
 */
export function f16StorageOf(
  gpu: Pick<GpuContext, "status">,
  choice: F16Choice | undefined,
  operation: string,
): F16Storage {
  const has = gpu.status.f16 === true;
  if (choice === undefined || choice === "auto") return has ? "native" : "packed";
  if (choice !== "native" && choice !== "packed") {
    throw new TypeError(
      `${operation}: f16Storage must be "auto", "native" or "packed", got ${String(choice)}`,
    );
  }
  if (choice === "native" && !has) {
    throw new TypeError(
      `${operation}: f16Storage "native" needs the adapter feature shader-f16, which this ` +
        `device lacks; use "auto" or "packed"`,
    );
  }
  return choice;
}

/**
 * The runs of a pass over one geometry: the depthwise program for a depthwise geometry, else
 * the GEMM, whose input gradient runs once per stride phase.
 *
 * @param setup The pass, precision, f16 storage, activation and bias.
 * @param shapes The geometry, `splits` (weight gradient) and `bases` of the bindings.
 * @param buffers A binding per storage binding of the pass.
 * @returns The runs, in order.
 * @example
 * ```ts
 * import { convGeometry } from "../core/conv_geometry.ts";
 * import { passRuns } from "./_conv_runs.ts";
 * import assert from "node:assert";
 * const g = convGeometry({ input: [1, 5, 5, 3], kernel: [3, 3], outChannels: 2, stride: 2 });
 * const runs = passRuns({ mode: "input_grad", precision: "f16", f16: "native" }, { g }, {});
 * assert(runs.length === 4 && runs[0].program.name === "conv2d_input_grad_f16_native");
 * ```
 */
export function passRuns(
  setup: PassSetup,
  shapes: { g: ConvGeometry; splits?: number; bases?: readonly number[] },
  buffers: Record<string, GPUBufferBinding>,
): ProgramRun[] {
  const { mode, precision, f16 } = setup;
  const { g } = shapes;
  const all = { ...shapes, activation: setup.activation, hasBias: setup.hasBias };
  if (g.depthwise) {
    const program = depthwiseProgram(mode, precision, f16);
    return [{ program, overrides: DEPTHWISE_OVERRIDES, shapes: all, buffers }];
  }
  const program = conv2dProgram(mode, { precision, f16, ...convGemmVectors(mode, g) });
  const overrides = convGemmOverrides(mode, g);
  if (mode !== "input_grad") return [{ program, overrides, shapes: all, buffers }];
  const phases = Array.from(
    { length: g.stride * g.stride },
    (_, i) => [Math.floor(i / g.stride), i % g.stride] as const,
  );
  return phases.map((phase) => ({ program, overrides, shapes: { ...all, phase }, buffers }));
}

/** No dispatch limit: only the workgroup count is wanted. */
const UNLIMITED = { maxComputeWorkgroupsPerDimension: 2 ** 30 };

/**
 * The most workgroups one run of a pass dispatches for a geometry.
 *
 * @param setup The pass.
 * @param g The geometry.
 * @param splits Weight gradient: splits of the pixels (default 1).
 * @returns Workgroups.
 * @example
 * ```ts
 * import { convGeometry } from "../core/conv_geometry.ts";
 * import { passWorkgroups } from "./_conv_runs.ts";
 * import assert from "node:assert";
 * const g = convGeometry({ input: [1, 64, 64, 3], kernel: [3, 3], outChannels: 8 });
 * // 62 * 62 output pixels in tiles of 32 rows, one column tile.
 * assert(passWorkgroups({ mode: "forward", precision: "f32", f16: "packed" }, g) === 121);
 * ```
 */
export function passWorkgroups(setup: PassSetup, g: ConvGeometry, splits = 1): number {
  const runs = passRuns(setup, { g, splits }, {});
  return Math.max(...runs.map((r) => r.program.dispatch(r.shapes, UNLIMITED).workgroups));
}

/**
 * Plans a call into pieces whose tensor bindings and dispatches fit `limits`: the whole call
 * when it fits, else sub-batches, else row bands (forward and weight gradient by output rows,
 * input gradient by input rows).
 *
 * @param limits The planning limits (`convLimits()`).
 * @param setup The pass.
 * @param g The call's geometry (batch at least 1).
 * @param operation Named in errors.
 * @returns The pieces.
 * @throws {RangeError} When one row band is too large (see `planPieces()`).
 * @example
 * ```ts
 * import { convGeometry } from "../core/conv_geometry.ts";
 * import { planCall } from "./_conv_runs.ts";
 * import assert from "node:assert";
 * const limits = { bindingBytes: 1024, bufferBytes: 1 << 20, workgroups: 1 << 20,
 *   perDimension: 1024, align: 16 };
 * const g = convGeometry({ input: [4, 8, 8, 2], kernel: [3, 3], outChannels: 2 });
 * // 512 bytes per image in: two images per piece.
 * const pieces = planCall(limits, { mode: "forward", precision: "f32", f16: "packed" }, g, "c");
 * assert.deepStrictEqual(pieces.map((p) => p.g.n), [2, 2]);
 * ```
 */
export function planCall(
  limits: ConvLimits,
  setup: PassSetup,
  g: ConvGeometry,
  operation: string,
): ConvPiece[] {
  const { precision, mode } = setup;
  const names = mode === "input_grad"
    ? ["input gradient", "output gradient"]
    : mode === "weight_grad"
    ? ["input", "output gradient"]
    : ["input", "output"];
  const excess = (p: ConvPiece): Excess | undefined => {
    const sides = [p.input, p.output];
    for (const [i, range] of sides.entries()) {
      const { size } = bindingOf(range, { precision, align: limits.align });
      if (size > limits.bindingBytes) {
        return {
          what: `${names[i]} binding`,
          size,
          unit: "bytes",
          limit: "maxStorageBufferBindingSize",
          max: limits.bindingBytes,
        };
      }
    }
    const workgroups = passWorkgroups(setup, p.g);
    if (workgroups > limits.workgroups) {
      return {
        what: "dispatch",
        size: workgroups,
        unit: "workgroups",
        limit: `maxComputeWorkgroupsPerDimension² (${limits.perDimension}²)`,
        max: limits.workgroups,
      };
    }
    return undefined;
  };
  return planPieces(g, { drive: mode === "input_grad" ? "input" : "output", excess, operation });
}

/**
 * The binding of a range of a tensor's storage and its base offset (see `bindingOf()`).
 *
 * @param storage The whole tensor's storage.
 * @param range The piece's values.
 * @param options `precision`, `align`.
 * @returns `binding` and `base`.
 * @example
 * ```ts
 * import { rangeBinding } from "./_conv_runs.ts";
 * import assert from "node:assert";
 * const storage = { buffer: {} as GPUBuffer };
 * // deno-lint-ignore no-explicit-any
 * const r = rangeBinding(storage as any, { start: 10, count: 4 }, { precision: "f32", align: 16 });
 * assert(r.binding.offset === 32 && r.binding.size === 24 && r.base === 2);
 * ```
 */
export function rangeBinding(
  storage: Pick<GpuStorage, "buffer">,
  range: TensorRange,
  options: { precision: ConvPrecision; align: number },
): { binding: GPUBufferBinding; base: number } {
  const { offset, size, base } = bindingOf(range, options);
  return { binding: { buffer: storage.buffer, offset, size }, base };
}

/**
 * The binding of a whole tensor of `values` values in `precision`.
 *
 * @param storage Its storage.
 * @param values How many values.
 * @param precision How they are stored.
 * @returns The binding (at least 4 bytes).
 * @example
 * ```ts
 * import { wholeBinding } from "./_conv_runs.ts";
 * import assert from "node:assert";
 * // deno-lint-ignore no-explicit-any
 * assert(wholeBinding({ buffer: {} } as any, 3, "f16").size === 8);
 * ```
 */
export function wholeBinding(
  storage: Pick<GpuStorage, "buffer">,
  values: number,
  precision: ConvPrecision,
): GPUBufferBinding {
  return { buffer: storage.buffer, size: Math.max(1, storageWords(values, precision)) * 4 };
}

/**
 * Throws when a tensor that cannot be split (the weights) exceeds one binding, or one that is
 * split (an activation) exceeds one buffer.
 *
 * @param limits The planning limits.
 * @param options `operation`; `bound`: `[role, values]` bound whole; `buffers`: `[role, values]`
 *   kept in one buffer; `precision`.
 * @throws {RangeError} Naming the tensor, its bytes and the limit.
 * @example
 * ```ts
 * import { checkWhole } from "./_conv_runs.ts";
 * import assert from "node:assert";
 * const limits = { bindingBytes: 64, bufferBytes: 256, workgroups: 1, perDimension: 1, align: 16 };
 * assert.throws(() => checkWhole(limits, { operation: "conv", precision: "f32",
 *   bound: [["weights", 17]], buffers: [] }), /weights need 68 bytes.*maxStorageBufferBindingSize/);
 * ```
 */
export function checkWhole(
  limits: ConvLimits,
  options: {
    operation: string;
    precision: ConvPrecision;
    bound: readonly (readonly [string, number])[];
    buffers: readonly (readonly [string, number])[];
  },
): void {
  const { operation, precision } = options;
  const bytes = (values: number) => storageWords(values, precision) * 4;
  for (const [what, values] of options.bound) {
    if (bytes(values) > limits.bindingBytes) {
      throw new RangeError(
        `${operation}: the ${what} need ${bytes(values)} bytes, more than this device's ` +
          `maxStorageBufferBindingSize of ${limits.bindingBytes} bytes, and they cannot be ` +
          `split; use fewer channels or the wasm backend`,
      );
    }
  }
  for (const [what, values] of options.buffers) {
    if (bytes(values) > limits.bufferBytes) {
      throw new RangeError(
        `${operation}: the ${what} needs ${bytes(values)} bytes, more than this device's ` +
          `maxBufferSize of ${limits.bufferBytes} bytes; run smaller batches or tiles ` +
          `(runTiled), or use the wasm backend`,
      );
    }
  }
}

/** A tensor a piece binds a range of: its binding name and index, storage, and which side. */
export type PieceSide = readonly [
  name: string,
  index: number,
  storage: Pick<GpuStorage, "buffer">,
  side: "input" | "output",
];

/**
 * The runs of every piece of a call: each binds its ranges of the split tensors (their bases
 * in `params.base<index>`) beside the bindings shared by all, and for a weight gradient its
 * `splits` and the first of its rows of partials (`partialBase`, values, binding 2).
 *
 * @param setup The pass.
 * @param items The pieces, with `splits` and `partialBase` for a weight gradient.
 * @param options `sides`: the split tensors; `shared`: the other storage bindings; `align`.
 * @returns The runs, piece by piece.
 * @example
 * ```ts
 * import { convGeometry } from "../core/conv_geometry.ts";
 * import { pieceRuns } from "./_conv_runs.ts";
 * import assert from "node:assert";
 * const g = convGeometry({ input: [2, 4, 4, 1], kernel: [1, 1], outChannels: 1 });
 * const piece = (b: number) => ({ g: { ...g, n: 1 }, input: { start: 16 * b, count: 16 },
 *   output: { start: 16 * b, count: 16 } });
 * const buffer = {} as GPUBuffer;
 * const runs = pieceRuns({ mode: "input_grad", precision: "f32", f16: "packed" },
 *   [{ piece: piece(0) }, { piece: piece(1) }], {
 *     sides: [["dy", 0, { buffer }, "output"], ["dx", 2, { buffer }, "input"]],
 *     shared: { w: { buffer, size: 4 } }, align: 32 });
 * // The second image starts at byte 64: bound from there, base 0.
 * assert(runs.length === 2 && runs[1].buffers.dx.offset === 64);
 * ```
 */
export function pieceRuns(
  setup: PassSetup,
  items: readonly { piece: ConvPiece; splits?: number; partialBase?: number }[],
  options: {
    sides: readonly PieceSide[];
    shared: Readonly<Record<string, GPUBufferBinding>>;
    align: number;
  },
): ProgramRun[] {
  const at = { precision: setup.precision, align: options.align };
  return items.flatMap(({ piece, splits, partialBase }) => {
    const buffers = { ...options.shared };
    const bases = [0, 0, partialBase ?? 0, 0];
    for (const [name, index, storage, side] of options.sides) {
      const r = rangeBinding(storage, piece[side], at);
      buffers[name] = r.binding;
      bases[index] = r.base;
    }
    return passRuns(setup, { g: piece.g, splits, bases }, buffers);
  });
}
