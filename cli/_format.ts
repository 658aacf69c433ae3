/**
 * Number formatting shared by the CLI's reports.
 *
 * @module
 */

export { formatBytes } from "../core/budget.ts";

/**
 * Formats a duration in milliseconds with a sensible unit.
 *
 * @param ms The duration.
 * @returns The text, e.g. `"412 ms"` or `"3.20 s"`.
 */
export function formatMs(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}
