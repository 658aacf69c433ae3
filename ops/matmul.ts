/**
 * Matrix products that stay on the device: `C = op(A)·op(B)` in float32 on WASM SIMD or
 * WebGPU, taking plain matrices or device tensors and returning a device tensor, so a chain of
 * products (a network's dense layers) records on the GPU without a submit until the caller reads
 * the result.
 *
 * @module
 */

import { operationOf } from "../core/operation.ts";
import type { Matrix, RunOptions } from "../core/types.ts";
import type { DeviceTensor } from "../tensor/device_tensor.ts";
import { FAMILIES } from "./families.ts";
import { chooseBackend } from "./route.ts";
import { asTensor, livesOn, type MatrixLike, place, shapeOf } from "./_placement.ts";

/** Options of {@linkcode matmul}. */
export interface MatmulOptions extends Pick<RunOptions, "backend" | "signal"> {
  /** Multiply by `Aᵀ` (A stored `k × m`); default false. */
  transposeA?: boolean;
  /** Multiply by `Bᵀ` (B stored `n × k`); default false. */
  transposeB?: boolean;
}

/**
 * Multiplies two float32 matrices: `C = op(A)·op(B)`, `m × n`, as a device tensor on the backend
 * that ran. With `backend: "auto"` the product runs where a device-tensor operand lives (on
 * WASM for two plain matrices, or on a hardware GPU for large products); operands living on the
 * other backend are moved for the call.
 *
 * @param a `m × k` (or `k × m` with `transposeA`): a matrix or a device tensor.
 * @param b `k × n` (or `n × k` with `transposeB`): a matrix or a device tensor.
 * @param options `transposeA`, `transposeB`, `backend`, `signal`.
 * @returns C as a device tensor `[m, n]`; the caller disposes it.
 * @throws {TypeError} When an operand is malformed or the inner dimensions differ.
 * @throws {RangeError} When an operand does not fit one GPU storage binding (on WebGPU).
 * @throws {BackendUnavailableError} When `"webgpu"` is asked for and there is no adapter.
 * @throws {OutOfMemoryError} When the backend cannot hold the operands and C.
 * @throws {AbortedError} When `signal` has aborted.
 * @example
 * ```ts
 * import { matmul } from "./matmul.ts";
 * import assert from "node:assert";
 * const a = { data: new Float32Array([1, 2, 3, 4, 5, 6]), rows: 2, cols: 3 };
 * using c = await matmul(a, a, { transposeB: true }); // A·Aᵀ, 2 × 2, in kernel memory
 * using d = await matmul(c, c); // reads c in place
 * assert.deepStrictEqual([...await c.read()], [14, 32, 32, 77]);
 * assert((await d.read())[0] === 14 * 14 + 32 * 32);
 * ```
 */
export async function matmul(
  a: MatrixLike,
  b: MatrixLike,
  options: MatmulOptions = {},
): Promise<DeviceTensor> {
  const sa = shapeOf(a, "a");
  const sb = shapeOf(b, "b");
  const [m, k] = options.transposeA ? [sa.cols, sa.rows] : [sa.rows, sa.cols];
  const [kb, n] = options.transposeB ? [sb.cols, sb.rows] : [sb.rows, sb.cols];
  if (k !== kb) {
    throw new TypeError(
      `matmul(): op(a) is ${m} × ${k} but op(b) is ${kb} × ${n}; the inner dimensions must ` +
        `agree (check transposeA / transposeB)`,
    );
  }
  const route = await chooseBackend("matmul", {
    backend: options.backend,
    work: m * n * k,
    lives: livesOn(a) ?? livesOn(b),
  });
  const pa = await place(a, route.backend);
  const pb = await place(b, route.backend);
  const run = {
    transposeA: options.transposeA,
    transposeB: options.transposeB,
    signal: options.signal,
    operation: operationOf(options, "matmul()"),
  };
  // Both operands are placed on the routed backend, so the branch is one backend's host.
  const c = pa.backend === "webgpu" && pb.backend === "webgpu"
    ? await FAMILIES.matmul.webgpu({ a: pa.matrix, b: pb.matrix }, run)
    : await FAMILIES.matmul.wasm({ a: pa.matrix as Matrix, b: pb.matrix as Matrix }, run);
  return asTensor(c, [m, n]);
}
