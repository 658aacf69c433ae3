/**
 * Matrix products on the GPU (`programs/matmul.ts`), recorded and left on the device: a chain of
 * products submits once, when its result is read.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import { getGpu } from "./device.ts";
import type { GpuContext } from "./context.ts";
import {
  MATMUL_NAME,
  MATMUL_OVERRIDES,
  MATMUL_PROGRAM,
  type MatmulShapes,
} from "./programs/matmul.ts";
import { record } from "./run.ts";
import { type GpuMatrix, GpuStorage, isGpuMatrix } from "./storage.ts";
import { bindingBytes, checkInput, type GpuHostOptions, type MatrixInput } from "./upload.ts";

/** Options of {@linkcode gpuMatmul}. */
export interface GpuMatmulOptions extends Pick<GpuHostOptions, "signal" | "operation"> {
  /** Multiply by `Aᵀ` (A stored `k × m`); default false. */
  transposeA?: boolean;
  /** Multiply by `Bᵀ` (B stored `n × k`); default false. */
  transposeB?: boolean;
}

/**
 * `C = op(A) · op(B)` in f32 on the GPU, recorded into the pending work without a submit; the
 * result stays on the device until read (`c.storage.read()` submits everything pending once).
 * Plain inputs are uploaded whole; GPU-resident ones are bound in place.
 *
 * @param operands `a`: `m × k` (or `k × m` with `transposeA`); `b`: `k × n` (or `n × k` with
 *   `transposeB`); each plain or GPU-resident.
 * @param options `operation` (named when aborted), `transposeA`, `transposeB`, `signal`.
 * @returns `C` as a GPU-resident `m × n` matrix; the caller frees its storage.
 * @throws {TypeError} When an input is malformed or the inner dimensions differ.
 * @throws {RangeError} When an input or `C` does not fit one storage binding.
 * @throws {BackendUnavailableError} When WebGPU is unavailable.
 * @throws {KernelError} When WebGPU reports a validation error while recording.
 * @throws {AbortedError} When `signal` has aborted.
 * @example
 * ```ts
 * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
 * import { gpuMatmul } from "./matmul.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const gpu = await getGpu();
 *   const a = { data: new Float32Array([1, 2, 3, 4]), rows: 2, cols: 2 };
 *   const counts = () => [gpu.stats.submits, gpu.stats.readBacks];
 *   gpu.stats.reset();
 *   const ab = await gpuMatmul({ a, b: a }, { operation: "example" });
 *   const abb = await gpuMatmul({ a: ab, b: a }, { operation: "example", transposeB: true });
 *   assert.deepStrictEqual(counts(), [0, 0]);
 *   // [[7, 10], [15, 22]] · [[1, 3], [2, 4]]
 *   assert.deepStrictEqual(Array.from(await abb.storage.read()), [27, 61, 59, 133]);
 *   assert.deepStrictEqual(counts(), [1, 1]);
 *   ab.storage.free();
 *   abb.storage.free();
 * }
 * await releaseGpu();
 * ```
 */
export async function gpuMatmul(
  operands: { readonly a: MatrixInput; readonly b: MatrixInput },
  options: GpuMatmulOptions,
): Promise<GpuMatrix> {
  const { a, b } = operands;
  const gpu = await getGpu();
  checkInput(gpu, a);
  checkInput(gpu, b);
  throwIfAborted(options.signal, options.operation);
  const transposeA = options.transposeA === true;
  const transposeB = options.transposeB === true;
  const [m, k] = transposeA ? [a.cols, a.rows] : [a.rows, a.cols];
  const [kb, n] = transposeB ? [b.cols, b.rows] : [b.rows, b.cols];
  if (k !== kb) {
    throw new TypeError(
      `${options.operation}: cannot multiply ${m} × ${k} by ${kb} × ${n} (after transposes); ` +
        `the inner dimensions must agree`,
    );
  }
  const max = bindingBytes(gpu.limits);
  for (const [what, values] of [["A", m * k], ["B", k * n], ["C", m * n]] as const) {
    if (values * 4 > max) {
      throw new RangeError(
        `${options.operation}: ${what} holds ${values * 4} bytes, more than this device's ` +
          `storage binding of ${max} bytes; split the product into blocks`,
      );
    }
  }
  const label = `prism ${MATMUL_NAME}`;
  const c = GpuStorage.allocate(gpu, m * n, { label: `${label} C` });
  if (m === 0 || n === 0) return { storage: c, rows: m, cols: n };
  try {
    await gpu.scoped(
      MATMUL_NAME,
      () => recordProduct(gpu, a, b, c, { m, n, k, transposeA, transposeB }),
    );
  } catch (e) {
    c.free();
    throw e;
  }
  return { storage: c, rows: m, cols: n };
}

/** Records `c = op(a) · op(b)`; inputs uploaded here are freed after the submit. */
async function recordProduct(
  gpu: GpuContext,
  a: MatrixInput,
  b: MatrixInput,
  c: GpuStorage,
  shapes: MatmulShapes,
): Promise<void> {
  const { m, n, k } = shapes;
  if (k === 0) {
    gpu.encoder().clearBuffer(c.buffer, 0, m * n * 4);
    return;
  }
  const label = `prism ${MATMUL_NAME}`;
  const sa = isGpuMatrix(a) ? a.storage : GpuStorage.fromArray(gpu, a.data, { label });
  const sb = isGpuMatrix(b) ? b.storage : GpuStorage.fromArray(gpu, b.data, { label });
  try {
    await record(gpu, [{
      program: MATMUL_PROGRAM,
      overrides: MATMUL_OVERRIDES,
      shapes,
      buffers: {
        a: { buffer: sa.buffer, size: m * k * 4 },
        b: { buffer: sb.buffer, size: k * n * 4 },
        c: { buffer: c.buffer, size: m * n * 4 },
      },
    }]);
  } finally {
    // Freed after the submit that reads them (see GpuContext.releaseAfterSubmit).
    if (sa !== (a as GpuMatrix).storage) sa.free();
    if (sb !== (b as GpuMatrix).storage) sb.free();
  }
}
