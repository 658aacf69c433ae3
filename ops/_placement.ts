/**
 * Inputs meet backends: a plain matrix or a device tensor, placed on the backend the route
 * chose, and the one place that calls a family's WASM or WebGPU host.
 *
 * @module
 */

import type { Matrix } from "../core/types.ts";
import { checkMatrix } from "../core/validate.ts";
import { type GpuMatrix, GpuStorage } from "../gpu/storage.ts";
import { DeviceTensor } from "../tensor/device_tensor.ts";
import { WasmStorage } from "../wasm/storage.ts";

/** What operations take: a row-major matrix, or a device tensor (rows = all axes but the last). */
export type MatrixLike = Matrix | DeviceTensor;

/** An input placed on one backend: what that backend's host takes. */
export type Placed =
  | { readonly backend: "wasm"; readonly matrix: Matrix }
  | { readonly backend: "webgpu"; readonly matrix: Matrix | GpuMatrix };

/**
 * Where a device tensor lives (for `auto`), or `undefined` for a plain matrix.
 *
 * @param input The operation's input.
 * @returns `"wasm"`, `"webgpu"` or `undefined`.
 */
export function livesOn(input: unknown): "wasm" | "webgpu" | undefined {
  return input instanceof DeviceTensor ? input.backend : undefined;
}

/**
 * Rows and columns of an input, validating a plain matrix.
 *
 * @param input A matrix or a device tensor.
 * @param what Names the input in errors.
 * @returns `{ rows, cols }`.
 * @throws {TypeError} When a plain matrix is malformed or a tensor was disposed.
 */
export function shapeOf(input: MatrixLike, what = "matrix"): { rows: number; cols: number } {
  if (input instanceof DeviceTensor) {
    input.storage; // throws when disposed
    if (input.dtype !== "f32") {
      throw new TypeError(
        `${what} is an ${input.dtype} tensor; this operation takes float32: read() it, or ` +
          `toWasm() it (which widens it to float32)`,
      );
    }
    return input.matrixShape();
  }
  const { rows, cols } = checkMatrix(input, what);
  return { rows, cols };
}

/**
 * Places an input on `backend`. Plain matrices pass as they are (the hosts copy or upload them in
 * chunks); a tensor is read in place where it lives; a tensor on the other backend is moved for
 * this call (a GPU tensor used on WASM is read back once; a WASM tensor used on WebGPU is
 * uploaded from kernel memory by the host).
 *
 * @param input A matrix or a device tensor.
 * @param backend The backend the route chose.
 * @returns The placed input.
 */
export async function place(input: MatrixLike, backend: "wasm" | "webgpu"): Promise<Placed> {
  if (!(input instanceof DeviceTensor)) return { backend, matrix: checkMatrix(input) };
  const { rows, cols } = shapeOf(input); // refuses a disposed or f16 tensor
  const storage = input.storage;
  if (storage instanceof GpuStorage) {
    if (backend === "webgpu") return { backend, matrix: { storage, rows, cols } };
    return { backend, matrix: { data: await storage.read(), rows, cols } };
  }
  if (storage instanceof WasmStorage) {
    return { backend, matrix: { data: storage.view(), rows, cols } };
  }
  throw new TypeError(`unknown tensor storage on ${storage.backend}`);
}

/**
 * Calls the host of the placed input's backend: the one branch between the two backends.
 *
 * @param hosts A family's `{ wasm, webgpu }` hosts (from `./families.ts`).
 * @param placed The input, placed by {@linkcode place}.
 * @param options The hosts' options.
 * @returns What the host returns.
 */
export function runHost<O, A, B>(
  hosts: {
    readonly wasm: (m: Matrix, o: O) => Promise<A>;
    readonly webgpu: (m: Matrix | GpuMatrix, o: O) => Promise<B>;
  },
  placed: Placed,
  options: O,
): Promise<A | B> {
  return placed.backend === "webgpu"
    ? hosts.webgpu(placed.matrix, options)
    : hosts.wasm(placed.matrix, options);
}

/**
 * Wraps a host's result matrix as a device tensor of `shape`.
 *
 * @param result A GPU-resident matrix or kernel-memory storage.
 * @param shape The tensor's shape.
 * @returns The tensor (the caller disposes it).
 */
export function asTensor(
  result: GpuMatrix | { storage: WasmStorage },
  shape: readonly number[],
): DeviceTensor {
  return new DeviceTensor(result.storage, shape);
}

/**
 * The values of an input as a plain matrix the CPU can read: a plain matrix as it is, a WASM
 * tensor as a view of kernel memory (no copy), a GPU tensor read back once.
 *
 * @param input A matrix or a device tensor.
 * @returns A row-major matrix.
 */
export async function hostMatrix(input: MatrixLike): Promise<Matrix> {
  const placed = await place(input, "wasm");
  return placed.backend === "wasm" ? placed.matrix : checkMatrix(placed.matrix as Matrix);
}
