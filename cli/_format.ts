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

const PREFIXES: readonly [number, string][] = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];

/**
 * Formats a rate: `amount` units done in `ms` milliseconds, per second with an SI prefix.
 *
 * @param amount How much work (pixels, FLOP, steps).
 * @param ms How long it took.
 * @param unit The unit of `amount`.
 * @returns The text, e.g. `"61.4 Mpx/s"`, or `""` when `ms` is not positive.
 */
export function formatRate(amount: number, ms: number, unit: string): string {
  if (!(ms > 0)) return "";
  const perSecond = amount / (ms / 1000);
  const [scale, prefix] = PREFIXES.find(([s]) => perSecond >= s) ?? [1, ""];
  const value = perSecond / scale;
  return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${prefix}${unit}/s`;
}
