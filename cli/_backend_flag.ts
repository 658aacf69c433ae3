/**
 * The `--backend` flag's check, shared by the commands that run one operation on a chosen backend
 * (`cov`, `rx`, `pca`, `conv`, `shard`, `stress`).
 *
 * @module
 */

import type { Backend } from "../core/types.ts";
import { UsageError } from "./_command.ts";

/**
 * Checks a `--backend` value.
 *
 * @param value The option's text.
 * @returns The backend.
 * @throws {UsageError} When it is not auto, wasm or webgpu.
 */
export function checkBackend(value: string | undefined): Backend {
  if (value !== "auto" && value !== "wasm" && value !== "webgpu") {
    throw new UsageError(`--backend must be auto, wasm or webgpu, got "${value}"`);
  }
  return value;
}
