/**
 * Copies ranges of GPU buffers back to the CPU through one pooled `MAP_READ` staging buffer:
 * the copies ride in the caller's command encoder, so pending work and the read-back go to the
 * queue in one submit and come back in one map.
 *
 * @module
 */

import { checkInteger } from "../core/validate.ts";
import type { BufferPool } from "./buffer_pool.ts";

/** The part of a buffer to read. */
export interface ReadRange {
  /** The source; it needs `GPUBufferUsage.COPY_SRC`. */
  readonly buffer: GPUBuffer;
  /** Where to start, a multiple of 4 (default 0). */
  readonly byteOffset?: number;
  /** How many bytes, a multiple of 4 (default: to the end of the buffer). */
  readonly bytes?: number;
}

/** A range with its defaults filled in and checked. */
export type CheckedRange = Required<ReadRange>;

/**
 * Checks a range against its buffer and fills in the defaults.
 *
 * @param range The buffer and the byte range to read.
 * @returns `{ buffer, byteOffset, bytes }`.
 * @throws {TypeError} When the buffer lacks `COPY_SRC` or an offset is not a whole number.
 * @throws {RangeError} When the range is not 4-byte aligned or runs past the buffer's end.
 * @example
 * ```ts
 * import { checkReadRange } from "./readback.ts";
 * import assert from "node:assert";
 * const buffer = { size: 16, usage: GPUBufferUsage.COPY_SRC, label: "x" } as GPUBuffer;
 * assert(checkReadRange({ buffer, byteOffset: 4 }).bytes === 12);
 * assert.throws(() => checkReadRange({ buffer, byteOffset: 2, bytes: 4 }), RangeError);
 * ```
 */
export function checkReadRange(range: ReadRange): CheckedRange {
  const { buffer } = range;
  if (buffer === null || typeof buffer !== "object" || typeof buffer.size !== "number") {
    throw new TypeError(`range.buffer must be a GPUBuffer, got ${String(buffer)}`);
  }
  if ((buffer.usage & GPUBufferUsage.COPY_SRC) === 0) {
    throw new TypeError(
      `Cannot read back buffer "${buffer.label}": it was created without ` +
        `GPUBufferUsage.COPY_SRC; add that usage when creating it`,
    );
  }
  const byteOffset = checkInteger("range.byteOffset", range.byteOffset ?? 0, 0, buffer.size);
  const bytes = checkInteger(
    "range.bytes",
    range.bytes ?? buffer.size - byteOffset,
    0,
    buffer.size - byteOffset,
  );
  if (byteOffset % 4 !== 0 || bytes % 4 !== 0) {
    throw new RangeError(
      `Cannot read back ${bytes} bytes at offset ${byteOffset}: WebGPU copies need both to be ` +
        `multiples of 4`,
    );
  }
  return { buffer, byteOffset, bytes };
}

/**
 * Records copies of `ranges` (checked, together at most `maxBufferSize`) into `encoder`, calls
 * `submit` (which finishes and submits the encoder), maps the staging buffer once and copies each
 * range out. The staging buffer is unmapped and released whatever happens.
 *
 * @param pool The pool to take the staging buffer from (its device owns the buffers).
 * @param encoder The encoder holding the pending work; the copies are recorded after it.
 * @param ranges The ranges to read, from {@linkcode checkReadRange}.
 * @param submit Submits `encoder`.
 * @returns One new `ArrayBuffer` per range, owned by the caller.
 * @example
 * ```ts
 * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
 * import { checkReadRange, readRanges } from "./readback.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const { device, pool } = await getGpu();
 *   const buffer = pool.acquire(16, GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, "example");
 *   device.queue.writeBuffer(buffer, 0, new Float32Array([1, 2, 3, 4]));
 *   const encoder = device.createCommandEncoder();
 *   const ranges = [{ buffer, byteOffset: 4, bytes: 4 }, { buffer, byteOffset: 12, bytes: 4 }];
 *   const [a, b] = await readRanges(pool, encoder, ranges.map(checkReadRange), () => {
 *     device.queue.submit([encoder.finish()]);
 *   });
 *   assert(new Float32Array(a)[0] === 2 && new Float32Array(b)[0] === 4);
 *   pool.release(buffer);
 * }
 * await releaseGpu();
 * ```
 */
export async function readRanges(
  pool: BufferPool,
  encoder: GPUCommandEncoder,
  ranges: readonly CheckedRange[],
  submit: () => void,
): Promise<ArrayBuffer[]> {
  const total = ranges.reduce((sum, r) => sum + r.bytes, 0);
  const staging = pool.acquire(
    Math.max(total, 4),
    GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    "prism read-back staging",
  );
  try {
    let at = 0;
    for (const r of ranges) {
      if (r.bytes > 0) encoder.copyBufferToBuffer(r.buffer, r.byteOffset, staging, at, r.bytes);
      at += r.bytes;
    }
    submit();
    await staging.mapAsync(GPUMapMode.READ, 0, Math.max(total, 4));
    const mapped = staging.getMappedRange(0, Math.max(total, 4));
    at = 0;
    return ranges.map((r) => {
      at += r.bytes;
      return mapped.slice(at - r.bytes, at);
    });
  } finally {
    if (staging.mapState !== "unmapped") staging.unmap();
    pool.release(staging);
  }
}
