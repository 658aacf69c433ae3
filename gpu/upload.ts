/**
 * Every host-to-device move of the GPU hosts: a matrix's rows bound chunk by chunk (plain arrays
 * written through the queue, GPU-resident matrices bound in place at aligned offsets or copied by
 * row range), the rows that fit one binding, and small parameter vectors.
 *
 * @module
 */

import type { Matrix, RunOptions } from "../core/types.ts";
import { checkMatrix } from "../core/validate.ts";
import type { GpuContext } from "./context.ts";
import { checkGpuMatrix, type GpuMatrix, isGpuMatrix } from "./storage.ts";

/** What a GPU host takes: a plain (or kernel-memory) matrix, or a GPU-resident one. */
export type MatrixInput = Matrix | GpuMatrix;

/** The options every GPU host shares. */
export interface GpuHostOptions extends Pick<RunOptions, "signal" | "onProgress"> {
  /** The user-facing operation, e.g. `"covariance()"`: named when the call is aborted. */
  operation: string;
}

/**
 * Checks a host's input: a well-formed plain matrix, or live GPU storage of `gpu`.
 *
 * @param gpu The context the work runs on.
 * @param input The matrix.
 * @returns `input`.
 * @throws {TypeError} When malformed, freed or from another context.
 * @example
 * ```ts
 * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
 * import { checkInput } from "./upload.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const gpu = await getGpu();
 *   assert.throws(() => checkInput(gpu, { data: new Float32Array(3), rows: 2, cols: 2 }));
 * }
 * await releaseGpu();
 * ```
 */
export function checkInput(gpu: GpuContext, input: MatrixInput): MatrixInput {
  return isGpuMatrix(input) ? checkGpuMatrix(input, gpu) : checkMatrix(input);
}

/**
 * The most bytes one storage binding of `gpu` can hold.
 *
 * @param limits The device's limits.
 * @returns `min(maxStorageBufferBindingSize, maxBufferSize)`.
 * @example
 * ```ts
 * import { bindingBytes } from "./upload.ts";
 * import assert from "node:assert";
 * const limits = { maxStorageBufferBindingSize: 128, maxBufferSize: 256 } as GPUSupportedLimits;
 * assert(bindingBytes(limits) === 128);
 * ```
 */
export function bindingBytes(limits: GPUSupportedLimits): number {
  return Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
}

/**
 * The rows of `cols` f32 values that fit one storage binding.
 *
 * @param limits The device's limits.
 * @param cols Values per row (at least 1).
 * @param what The work, for the error, e.g. `"sum columns"`.
 * @returns At least 1.
 * @throws {RangeError} When one row does not fit a binding (use the wasm backend).
 * @example
 * ```ts
 * import { rowsPerBinding } from "./upload.ts";
 * import assert from "node:assert";
 * const limits = { maxStorageBufferBindingSize: 400, maxBufferSize: 800 } as GPUSupportedLimits;
 * assert(rowsPerBinding(limits, 10, "sum columns") === 10);
 * assert.throws(() => rowsPerBinding(limits, 101, "sum columns"), RangeError);
 * ```
 */
export function rowsPerBinding(limits: GPUSupportedLimits, cols: number, what: string): number {
  const max = bindingBytes(limits);
  const fit = Math.floor(max / (cols * 4));
  if (fit === 0) {
    throw new RangeError(
      `Cannot ${what} on the GPU: one row of ${cols} columns is ${cols * 4} bytes, more than ` +
        `this device's storage binding of ${max} bytes; use the wasm backend`,
    );
  }
  return fit;
}

/**
 * Binds the rows of a host's input chunk by chunk, the one place chunked uploads happen:
 *
 * - a plain matrix is written through the queue into one pooled buffer of `chunkRows` rows,
 *   counted in `gpu.stats.uploads`. Before that buffer is written again, the pending work is
 *   submitted (the one split this forces: queue writes run before the pending commands);
 * - a GPU-resident matrix is bound in place, at the chunk's byte offset when that is a multiple
 *   of `minStorageBufferOffsetAlignment`, else its rows are copied (`copyBufferToBuffer`, in the
 *   pending encoder, so no submit) into a pooled buffer.
 *
 * @example
 * ```ts
 * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
 * import { RowChunks } from "./upload.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const gpu = await getGpu();
 *   const m = { data: new Float32Array([1, 2, 3, 4, 5, 6]), rows: 3, cols: 2 };
 *   const chunks = new RowChunks(gpu, m, { chunkRows: 2 });
 *   const binding = chunks.bind(2, 1);
 *   assert(binding.size === 8);
 *   assert(new Float32Array(await gpu.readBack(binding.buffer, { bytes: 8 }))[1] === 6);
 *   chunks.release();
 * }
 * await releaseGpu();
 * ```
 */
export class RowChunks {
  readonly #gpu: GpuContext;
  readonly #input: MatrixInput;
  readonly #chunkRows: number;
  readonly #label: string;
  #staging: GPUBuffer | undefined;
  #written = false;

  /**
   * @param gpu The context.
   * @param input The checked input (see {@linkcode checkInput}).
   * @param options `chunkRows`: the most rows one `bind` covers; `label` of the staging buffer.
   */
  constructor(
    gpu: GpuContext,
    input: MatrixInput,
    options: { chunkRows: number; label?: string },
  ) {
    this.#gpu = gpu;
    this.#input = input;
    this.#chunkRows = options.chunkRows;
    this.#label = `${options.label ?? "prism"} input`;
  }

  /**
   * Rows `start .. start + count` (`count <= chunkRows`, at least 1) as a storage binding.
   *
   * @param start The first row.
   * @param count How many rows.
   * @returns The binding; valid until the next `bind` or `release`.
   */
  bind(start: number, count: number): GPUBufferBinding {
    const { cols } = this.#input;
    const offset = start * cols * 4;
    const size = count * cols * 4;
    if (isGpuMatrix(this.#input)) {
      const source = this.#input.storage.buffer;
      if (offset % this.#gpu.limits.minStorageBufferOffsetAlignment === 0) {
        return { buffer: source, offset, size };
      }
      const staging = this.#stagingBuffer();
      this.#gpu.encoder().copyBufferToBuffer(source, offset, staging, 0, size);
      return { buffer: staging, offset: 0, size };
    }
    const staging = this.#stagingBuffer();
    if (this.#written) this.#gpu.flush();
    // The types reject SharedArrayBuffer-backed views; the runtime copies them all the same.
    const data = this.#input.data as Float32Array<ArrayBuffer>;
    this.#gpu.device.queue.writeBuffer(staging, 0, data, start * cols, count * cols);
    this.#gpu.stats.uploads++;
    this.#written = true;
    return { buffer: staging, offset: 0, size };
  }

  /** Gives the staging buffer back once the pending work is submitted. */
  release(): void {
    if (this.#staging !== undefined) this.#gpu.releaseAfterSubmit(this.#staging);
    this.#staging = undefined;
  }

  #stagingBuffer(): GPUBuffer {
    this.#staging ??= this.#gpu.pool.acquire(
      this.#chunkRows * this.#input.cols * 4,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
      this.#label,
    );
    return this.#staging;
  }
}

/**
 * Writes a small parameter vector (a shift, a mean, a whitening matrix) to a pooled storage
 * buffer as f32. Not counted as an upload (see `GpuRunStats`). Give the buffer back with
 * `gpu.releaseAfterSubmit`.
 *
 * @param gpu The context.
 * @param values The values (f64 values are rounded to f32).
 * @param label The buffer's label.
 * @returns A binding of exactly the values.
 * @example
 * ```ts
 * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
 * import { uploadVector } from "./upload.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const gpu = await getGpu();
 *   const { buffer, size } = uploadVector(gpu, new Float64Array([0.5, 2]), "shift");
 *   assert(size === 8);
 *   gpu.releaseAfterSubmit(buffer);
 * }
 * await releaseGpu();
 * ```
 */
export function uploadVector(
  gpu: GpuContext,
  values: Float32Array | Float64Array,
  label: string,
): { buffer: GPUBuffer; size: number } {
  const f32 = values instanceof Float32Array ? values : Float32Array.from(values);
  const size = Math.max(4, f32.byteLength);
  const buffer = gpu.pool.acquire(
    size,
    GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    label,
  );
  gpu.device.queue.writeBuffer(buffer, 0, f32 as Float32Array<ArrayBuffer>);
  return { buffer, size };
}
