/**
 * Plain-text tables for reports: a header, a rule, and columns padded to their widest cell
 * (numbers right-aligned, text left-aligned), as the experiments' reference tables print.
 *
 * @module
 */

/**
 * Formats rows under a header.
 *
 * @param header The column titles.
 * @param rows The cells, as text; each row as long as the header.
 * @returns The table's lines joined with `\n`.
 * @throws {TypeError} When a row's length differs from the header's.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { formatTable } from "./table.ts";
 * const text = formatTable(["batch", "ms"], [["1", "8.5"], ["16", "67.2"]]);
 * assert.strictEqual(text.split("\n")[3], "   16  67.2");
 * ```
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const bad = rows.findIndex((r) => r.length !== header.length);
  if (bad >= 0) {
    throw new TypeError(`row ${bad} has ${rows[bad].length} cells for ${header.length} columns`);
  }
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const numeric = (cell: string) => /^[-+]?[\d.,]+(e[-+]?\d+)?\s*%?$/i.test(cell);
  const line = (cells: readonly string[]) =>
    cells.map((cell, c) => numeric(cell) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))
      .join("  ").trimEnd();
  return [
    line(header),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map(line),
  ].join("\n");
}
