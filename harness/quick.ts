/**
 * Quick mode: `PRISM_BENCH_QUICK=1` (set by CI) or a command's `--quick` shrinks every problem so
 * a benchmark or sweep proves it runs in seconds; without it problems have the sizes the
 * experiments quote. The benchmarks (`bench/_config.ts`) and the CLI's sweeps read it here.
 *
 * @module
 */

function readQuick(): boolean {
  try {
    return Deno.env.get("PRISM_BENCH_QUICK") === "1";
  } catch {
    return false; // no --allow-env: full sizes
  }
}

/** True when `PRISM_BENCH_QUICK=1` is set: problems are shrunk. */
export const QUICK: boolean = readQuick();

/**
 * Picks the full-size value, or the quick one in quick mode.
 *
 * @param full The size the experiments quote.
 * @param quick The CI size.
 * @param quickMode Whether quick mode is on; default {@linkcode QUICK}.
 * @returns One of the two.
 * @throws Never.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { size } from "./quick.ts";
 * assert.strictEqual(size(1024, 16, true), 16);
 * assert.strictEqual(size(1024, 16, false), 1024);
 * ```
 */
export function size(full: number, quick: number, quickMode: boolean = QUICK): number {
  return quickMode ? quick : full;
}
