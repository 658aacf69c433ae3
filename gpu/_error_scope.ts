/**
 * Runs GPU work inside validation, out-of-memory and internal error scopes and turns what they
 * catch into thrown errors, so a WebGPU error never passes silently as a console warning.
 *
 * @module
 */

import { KernelError, OutOfMemoryError } from "../core/errors.ts";

/**
 * Runs `fn` inside the three error scopes and throws the first GPU error they caught:
 * {@linkcode OutOfMemoryError} for `out-of-memory`, else `KernelError(label, message)` (status -1).
 * A GPU error wins over an error `fn` threw, since the latter is usually its consequence
 * (a map of an invalid buffer, say); `fn`'s error is then the `cause`.
 *
 * Error scopes are a per-device stack: GPU work another async task issues on the same device
 * while `fn` awaits is caught by these scopes too.
 *
 * @param onOutOfMemory Called before an `OutOfMemoryError` is thrown (the pool purges itself).
 */
export async function withErrorScopes<T>(
  device: GPUDevice,
  label: string,
  fn: () => T | Promise<T>,
  onOutOfMemory?: () => void,
): Promise<T> {
  device.pushErrorScope("validation");
  device.pushErrorScope("out-of-memory");
  device.pushErrorScope("internal");
  let result: T | undefined;
  let failed = false;
  let failure: unknown;
  try {
    result = await fn();
  } catch (e) {
    failed = true;
    failure = e;
  }
  // Popped innermost first; all three are popped whatever happened, or the stack would leak.
  const [internal, outOfMemory, validation] = await Promise.all([
    device.popErrorScope(),
    device.popErrorScope(),
    device.popErrorScope(),
  ]);
  const cause = failed ? { cause: failure } : undefined;
  if (outOfMemory !== null) {
    onOutOfMemory?.();
    throw new OutOfMemoryError(
      `${label}: ${outOfMemory.message.trim()}; free GPU memory or process the data in ` +
        `smaller chunks`,
      cause,
    );
  }
  const gpuError = validation ?? internal;
  if (gpuError !== null) throw new KernelError(label, gpuError.message.trim(), { ...cause });
  if (failed) throw failure;
  return result as T;
}
