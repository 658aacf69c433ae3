/**
 * Copies a range of a GPU buffer back to the CPU through a pooled `MAP_READ` staging buffer.
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

/**
 * Reads `range` back: copies it into a staging buffer from `pool`, maps it, copies the bytes
 * out, and unmaps and releases the staging buffer whatever happens. Work submitted before the
 * call is finished first, since the copy is queued after it.
 *
 * @param pool The pool to take the staging buffer from (its device owns `range.buffer`).
 * @param range The buffer and the byte range to read.
 * @returns A new `ArrayBuffer` of `range.bytes` bytes, owned by the caller.
 * @throws {TypeError} When the buffer lacks `COPY_SRC` or an offset is not a whole number.
 * @throws {RangeError} When the range is not 4-byte aligned or runs past the buffer's end.
 * @example
 * ```ts
 * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
 * import { readBack } from "./readback.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const { device, pool } = await getGpu();
 *   const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
 *   const buffer = pool.acquire(16, usage, "example");
 *   device.queue.writeBuffer(buffer, 0, new Float32Array([1, 2, 3, 4]));
 *   const values = new Float32Array(await readBack(pool, { buffer, byteOffset: 4, bytes: 8 }));
 *   assert(values[0] === 2 && values[1] === 3);
 *   pool.release(buffer);
 * }
 * await releaseGpu();
 * ```
 */
export async function readBack(pool: BufferPool, range: ReadRange): Promise<ArrayBuffer> {
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
  if (bytes === 0) return new ArrayBuffer(0);

  const device = pool.device;
  const staging = pool.acquire(
    bytes,
    GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    "prism read-back staging",
  );
  try {
    const encoder = device.createCommandEncoder({ label: `prism read-back of ${buffer.label}` });
    encoder.copyBufferToBuffer(buffer, byteOffset, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ, 0, bytes);
    return staging.getMappedRange(0, bytes).slice(0);
  } finally {
    if (staging.mapState !== "unmapped") staging.unmap();
    pool.release(staging);
  }
}
