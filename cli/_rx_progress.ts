/**
 * Progress lines on stderr for the long-running commands (`cov`, `rx`, `synth`): at most one a
 * second, never one per chunk, and nothing for runs that finish within the first second.
 *
 * @module
 */

import type { Backend } from "../core/types.ts";
import { UsageError } from "./_command.ts";

/** Reports `done` of `total` units; call as often as you like. */
export type ProgressLine = (done: number, total: number | undefined, unit: string) => void;

/**
 * Makes a throttled progress reporter that writes to stderr.
 *
 * @param label What is running, e.g. `"rx fit"`.
 * @param intervalMs The least time between lines; default 1000.
 * @returns The reporter.
 */
export function progressLine(label: string, intervalMs = 1000): ProgressLine {
  const start = performance.now();
  let last = start;
  const encoder = new TextEncoder();
  return (done, total, unit) => {
    const now = performance.now();
    if (now - last < intervalMs) return;
    last = now;
    const secs = (now - start) / 1000;
    const pct = total ? ` (${(100 * done / total).toFixed(1)}%)` : "";
    const rate = (done / secs).toFixed(0);
    Deno.stderr.writeSync(
      encoder.encode(
        `${label}: ${done}${total ? ` / ${total}` : ""} ${unit}${pct}, ` +
          `${secs.toFixed(1)} s, ${rate} ${unit}/s\n`,
      ),
    );
  };
}

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
