/**
 * Splitting a convolution call that is too large for one dispatch: when a tensor's binding
 * would exceed the device's `maxStorageBufferBindingSize` (or a dispatch its
 * `maxComputeWorkgroupsPerDimension`), the batch is split into sub-batches, and when one image
 * alone is too large, into row bands with the halo the kernel needs. Each piece binds its range
 * of the whole tensors' buffers (which may be larger than a binding, up to `maxBufferSize`) from
 * an aligned offset, the remainder passed to the shader as `params.base<binding>`, and sees a
 * geometry whose padding is the part of the original padding its band reaches, so every output
 * value is computed from the same values in the same order as unsplit.
 *
 * @module
 */

import type { ConvGeometry } from "../core/conv_geometry.ts";
import type { ConvPrecision } from "./programs/conv2d_common.ts";

/** The limits a split respects, from the device's (lowered by {@linkcode capConvLimitsForTesting}). */
export interface ConvLimits {
  /** Bytes one storage binding may span: `min(maxStorageBufferBindingSize, maxBufferSize)`. */
  readonly bindingBytes: number;
  /** Bytes one buffer (a whole tensor) may hold: `maxBufferSize`. */
  readonly bufferBytes: number;
  /** Workgroups one dispatch may hold: `maxComputeWorkgroupsPerDimension²` (2-D dispatch). */
  readonly workgroups: number;
  /** `maxComputeWorkgroupsPerDimension`, named in errors. */
  readonly perDimension: number;
  /** Binding offsets are multiples of this (`minStorageBufferOffsetAlignment`, at least 16). */
  readonly align: number;
}

/** Lowered limits for tests; see {@linkcode capConvLimitsForTesting}. */
let caps: { bindingBytes?: number; workgroupsPerDimension?: number } | undefined;

/**
 * Test hook: lowers the binding size and workgroups per dimension the convolution hosts plan
 * with (never raises them), so the split paths run on any adapter; `undefined` restores the
 * device's own limits.
 *
 * @param next `bindingBytes` and `workgroupsPerDimension` caps, or `undefined`.
 * @throws {RangeError} When a cap is not a whole number of at least 64 (bytes) or 1.
 * @example
 * ```ts
 * import { capConvLimitsForTesting, convLimits } from "./_conv_split.ts";
 * import assert from "node:assert";
 * const device = { maxStorageBufferBindingSize: 1 << 27, maxBufferSize: 1 << 30,
 *   maxComputeWorkgroupsPerDimension: 65535, minStorageBufferOffsetAlignment: 256 };
 * capConvLimitsForTesting({ bindingBytes: 4096 });
 * assert(convLimits(device as GPUSupportedLimits).bindingBytes === 4096);
 * capConvLimitsForTesting(undefined);
 * assert(convLimits(device as GPUSupportedLimits).bindingBytes === 1 << 27);
 * ```
 */
export function capConvLimitsForTesting(
  next: { bindingBytes?: number; workgroupsPerDimension?: number } | undefined,
): void {
  const ok = (v: number | undefined, min: number) =>
    v === undefined || (Number.isInteger(v) && v >= min);
  if (next !== undefined && (!ok(next.bindingBytes, 64) || !ok(next.workgroupsPerDimension, 1))) {
    throw new RangeError(
      `capConvLimitsForTesting(): caps must be whole numbers (bindingBytes at least 64, ` +
        `workgroupsPerDimension at least 1), got ${JSON.stringify(next)}`,
    );
  }
  caps = next;
}

/**
 * The limits a convolution call plans with.
 *
 * @param limits The device's limits.
 * @returns {@linkcode ConvLimits}, lowered by any test caps.
 * @example
 * ```ts
 * import { convLimits } from "./_conv_split.ts";
 * import assert from "node:assert";
 * const l = convLimits({ maxStorageBufferBindingSize: 1 << 27, maxBufferSize: 2 ** 31,
 *   maxComputeWorkgroupsPerDimension: 65535, minStorageBufferOffsetAlignment: 32 } as
 *   GPUSupportedLimits);
 * assert(l.bindingBytes === 1 << 27 && l.align === 32 && l.workgroups === 65535 ** 2);
 * ```
 */
export function convLimits(limits: GPUSupportedLimits): ConvLimits {
  const perDimension = Math.min(
    limits.maxComputeWorkgroupsPerDimension,
    caps?.workgroupsPerDimension ?? Infinity,
  );
  return {
    bindingBytes: Math.min(
      limits.maxStorageBufferBindingSize,
      limits.maxBufferSize,
      caps?.bindingBytes ?? Infinity,
    ),
    bufferBytes: limits.maxBufferSize,
    workgroups: perDimension * perDimension,
    perDimension,
    // At least 16 so a vec4 binding's base stays a multiple of 4 values.
    align: Math.max(16, limits.minStorageBufferOffsetAlignment ?? 256),
  };
}

/** A run of values of a tensor: the first value's index and how many. */
export interface TensorRange {
  /** Index of the first value. */
  readonly start: number;
  /** Values. */
  readonly count: number;
}

/**
 * One piece of a split call, in the forward convolution's terms: `input` is the range of the
 * `[n, h, w, c]` tensor (x, or dx of an input gradient), `output` of the `[n, oh, ow, oc]` one
 * (y, or dy).
 */
export interface ConvPiece {
  /** The piece's own geometry: its batch, rows, and the padding its band reaches. */
  readonly g: ConvGeometry;
  /** Its range of the input-side tensor. */
  readonly input: TensorRange;
  /** Its range of the output-side tensor. */
  readonly output: TensorRange;
}

/** What exceeds a limit: the role, its size, the limit's name and value. */
export interface Excess {
  /** E.g. `"input"`. */
  readonly what: string;
  /** Bytes or workgroups it needs. */
  readonly size: number;
  /** Unit of `size` and `max`. */
  readonly unit: "bytes" | "workgroups";
  /** The device limit, e.g. `"maxStorageBufferBindingSize"`. */
  readonly limit: string;
  /** The limit's value. */
  readonly max: number;
}

/**
 * The binding of `range` of a tensor stored in `precision`: from the aligned offset at or below
 * its first word, with the element offset of its first value there.
 *
 * @param range The values.
 * @param options `precision` of the storage, `align` of binding offsets (bytes).
 * @returns `offset` and `size` in bytes, and `base`, the index of `range.start` in the binding.
 * @example
 * ```ts
 * import { bindingOf } from "./_conv_split.ts";
 * import assert from "node:assert";
 * // f16 values 101..110 are words 50..55; bound from byte 192 (word 48), value 101 is at 5.
 * assert.deepStrictEqual(bindingOf({ start: 101, count: 10 }, { precision: "f16", align: 64 }),
 *   { offset: 192, size: 32, base: 5 });
 * ```
 */
export function bindingOf(
  range: TensorRange,
  options: { precision: ConvPrecision; align: number },
): { offset: number; size: number; base: number } {
  const { precision, align } = options;
  const half = precision === "f16";
  const first = half ? Math.floor(range.start / 2) : range.start;
  const end = half ? Math.ceil((range.start + range.count) / 2) : range.start + range.count;
  const offset = Math.floor((first * 4) / align) * align;
  const base = range.start - (offset / 4) * (half ? 2 : 1);
  return { offset, size: Math.max(4, end * 4 - offset), base };
}

/** The piece of images `[b0, b0 + nb)`, whole. */
function batchPiece(g: ConvGeometry, b0: number, nb: number): ConvPiece {
  const image = g.h * g.w * g.c;
  const out = g.oh * g.ow * g.oc;
  return {
    g: { ...g, n: nb },
    input: { start: b0 * image, count: nb * image },
    output: { start: b0 * out, count: nb * out },
  };
}

/**
 * The piece of image `b` whose rows are `[i0, i1)` of the input side and `[o0, o1)` of the
 * output side, with the padding above that makes `iy = oy·s + ky − padTop` hold in the piece.
 */
function bandPiece(
  g: ConvGeometry,
  b: number,
  rows: { i0: number; i1: number; o0: number; o1: number; padTop: number },
): ConvPiece {
  const { i0, i1, o0, o1, padTop } = rows;
  const h = i1 - i0;
  const oh = o1 - o0;
  const rowIn = g.w * g.c;
  const rowOut = g.ow * g.oc;
  return {
    g: {
      ...g,
      n: 1,
      h,
      oh,
      padTop,
      padBottom: Math.max(0, (oh - 1) * g.stride + g.kh - h - padTop),
    },
    input: { start: (b * g.h + i0) * rowIn, count: h * rowIn },
    output: { start: (b * g.oh + o0) * rowOut, count: oh * rowOut },
  };
}

/**
 * Output rows `[r0, r1)` of image `b` and the input rows their windows read (forward and weight
 * gradient). A band wholly in the padding binds one input row and pads it out of reach.
 */
function outputBand(g: ConvGeometry, b: number, r0: number, r1: number): ConvPiece {
  const s = g.stride;
  const top = r0 * s - g.padTop; // input row of the band's first window
  const bottom = (r1 - 1) * s - g.padTop + g.kh; // one past its last
  if (top >= g.h) {
    // Only bottom padding: every tap of the band must miss the one row bound.
    const padTop = (r1 - r0 - 1) * s + g.kh;
    return bandPiece(g, b, { i0: g.h - 1, i1: g.h, o0: r0, o1: r1, padTop });
  }
  const i0 = Math.max(0, top);
  const i1 = Math.min(g.h, Math.max(bottom, i0 + 1));
  return bandPiece(g, b, { i0, i1, o0: r0, o1: r1, padTop: i0 - top });
}

/**
 * Input rows `[i0, i1)` of image `b` and the output rows whose windows reach them (input
 * gradient): `oy` reaches `iy` when `oy·s = iy + padTop − ky` for a tap `ky`. Rows no window
 * reaches still bind one output row, which no tap of theirs matches.
 */
function inputBand(g: ConvGeometry, b: number, i0: number, i1: number): ConvPiece {
  const s = g.stride;
  let o0 = Math.max(0, Math.floor((i0 + g.padTop - g.kh + 1) / s));
  const o1 = Math.max(
    Math.min(g.oh, Math.floor((i1 - 1 + g.padTop) / s) + 1),
    Math.min(o0, g.oh - 1) + 1,
  );
  o0 = Math.min(o0, o1 - 1);
  return bandPiece(g, b, { i0, i1, o0, o1, padTop: g.padTop + i0 - o0 * s });
}

/** The bands of `size` rows of every image. */
function bands(g: ConvGeometry, drive: "input" | "output", size: number): ConvPiece[] {
  const rows = drive === "output" ? g.oh : g.h;
  const out: ConvPiece[] = [];
  for (let b = 0; b < g.n; b++) {
    for (let r = 0; r < rows; r += size) {
      const end = Math.min(rows, r + size);
      out.push(drive === "output" ? outputBand(g, b, r, end) : inputBand(g, b, r, end));
    }
  }
  return out;
}

/** The largest `v` in `[1, hi]` with `ok(v)`, assuming `ok` holds below any `v` it holds for. */
function largest(hi: number, ok: (v: number) => boolean): number {
  let lo = 0;
  while (lo < hi) {
    const m = Math.ceil((lo + hi) / 2);
    if (ok(m)) lo = m;
    else hi = m - 1;
  }
  return lo;
}

/**
 * Splits a call into the fewest pieces (whole, then sub-batches, then row bands of one image)
 * that all fit the limits `excess` checks.
 *
 * @param g The call's geometry (batch at least 1).
 * @param options `drive`: whose rows a band counts, `"output"` (forward, weight gradient) or
 *   `"input"` (input gradient); `excess(piece)`: what of a piece exceeds a limit, or
 *   `undefined` when it fits; `operation`, named in the error.
 * @returns The pieces, in memory order.
 * @throws {RangeError} When even a band of one row is too large, naming what, its size and
 *   the limit.
 * @example
 * ```ts
 * import { convGeometry } from "../core/conv_geometry.ts";
 * import { planPieces } from "./_conv_split.ts";
 * import assert from "node:assert";
 * const g = convGeometry({ input: [2, 8, 8, 1], kernel: [3, 3], outChannels: 1, padding: "same" });
 * // At most 32 input values (4 rows of 8) per piece: bands of 2 output rows, which read 3 or 4.
 * const pieces = planPieces(g, { drive: "output", operation: "conv",
 *   excess: (p) => p.input.count > 32
 *     ? { what: "input", size: p.input.count * 4, unit: "bytes", limit: "cap", max: 128 }
 *     : undefined });
 * assert.deepStrictEqual(pieces.map((p) => p.g.oh), [2, 2, 2, 2, 2, 2, 2, 2]);
 * assert.deepStrictEqual(pieces.slice(0, 2).map((p) => p.g.padTop), [1, 0]);
 * ```
 */
export function planPieces(
  g: ConvGeometry,
  options: {
    drive: "input" | "output";
    excess: (piece: ConvPiece) => Excess | undefined;
    operation: string;
  },
): ConvPiece[] {
  const { drive, excess } = options;
  const whole = batchPiece(g, 0, g.n);
  if (excess(whole) === undefined) return [whole];
  const batch = largest(g.n - 1, (nb) => excess(batchPiece(g, 0, nb)) === undefined);
  if (batch >= 1) {
    return Array.from(
      { length: Math.ceil(g.n / batch) },
      (_, i) => batchPiece(g, i * batch, Math.min(batch, g.n - i * batch)),
    );
  }
  const rows = drive === "output" ? g.oh : g.h;
  const fits = (size: number) => bands({ ...g, n: 1 }, drive, size).every((p) => !excess(p));
  const size = largest(rows - 1, fits);
  if (size < 1) {
    const e = bands({ ...g, n: 1 }, drive, 1).map(excess).find((x) => x !== undefined)!;
    throw new RangeError(
      `${options.operation}: even one ${drive} row of one image is too large for this device: ` +
        `the ${e.what} needs ${e.size} ${e.unit}, more than its ${e.limit} of ${e.max}; use ` +
        `narrower images (cut them into tiles) or the wasm backend`,
    );
  }
  return bands(g, drive, size);
}
