/**
 * Shared benchmark settings. `PRISM_BENCH_QUICK=1` (set by CI) shrinks every problem so the
 * suites prove they run in seconds; without it they run at the sizes the issues quote.
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

/** True in quick mode (CI): problems are shrunk. */
export const QUICK: boolean = readQuick();

/**
 * Picks the full-size value, or the quick one in quick mode.
 *
 * @param full The size the issues quote.
 * @param quick The CI size.
 * @returns One of the two.
 */
export function size(full: number, quick: number): number {
  return QUICK ? quick : full;
}
