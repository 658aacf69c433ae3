/**
 * The CSV logs the sweeps append to: one row per configuration, the experiment's own columns
 * first in its order (§2's for `bench conv`, so a log the original tools read stays readable)
 * and prism's extra columns after them. Every append rewrites the whole file through
 * `io/atomic.ts`, so an interrupted sweep leaves the rows it finished and never half a row.
 *
 * @module
 */

import { writeFileAtomic } from "../io/atomic.ts";
import { type CsvValue, formatCsv, parseCsv } from "../io/csv.ts";
import { InvalidDataError } from "../core/errors.ts";

/** One logged configuration: a value per column name (missing ones are written empty). */
export type SweepRow = Readonly<Record<string, CsvValue>>;

/**
 * The columns of EXPERIMENTS.md §2's log, in its order: a `bench conv` log starts with exactly
 * these.
 */
export const CONV_COLUMNS: readonly string[] = Object.freeze([
  "timestamp",
  "mode",
  "tile_size",
  "batch_size",
  "device",
  "model_params",
  "model_size_mb",
  "avg_time_ms",
  "std_time_ms",
  "throughput_samples_per_sec",
  "memory_allocated_mb",
  "memory_reserved_mb",
  "memory_peak_mb",
  "forward_time_ms",
  "backward_time_ms",
  "total_time_ms",
  "error",
]);

/** prism's columns after §2's in a `bench conv` log. */
export const CONV_EXTRA_COLUMNS: readonly string[] = Object.freeze([
  "model",
  "backend",
  "median_time_ms",
  "spread_time_ms",
  "warmup",
  "iterations",
  "pixels_per_sec",
]);

/**
 * The columns of a `bench cov|rx|spectrum` log (§1's channel and spatial sweeps, §3's shapes),
 * in the same conventions as §2's: timestamp first, times in ms, `error` for a failed row.
 */
export const OP_COLUMNS: readonly string[] = Object.freeze([
  "timestamp",
  "experiment",
  "sweep",
  "rows",
  "cols",
  "device",
  "avg_time_ms",
  "std_time_ms",
  "median_time_ms",
  "spread_time_ms",
  "throughput_rows_per_sec",
  "memory_peak_mb",
  "warmup",
  "iterations",
  "error",
]);

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/**
 * Checks that `path` can take rows with `columns`: absent, empty, or a CSV whose header is
 * exactly `columns`. Run it before a sweep starts so a wrong log fails before any work.
 *
 * @param path The log file.
 * @param columns The header the rows will have.
 * @returns The rows already in the file (header excluded), as text fields.
 * @throws {InvalidDataError} When the file holds another header (the message names the first
 *   column that differs and says to choose a new file).
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { checkLog } from "./sweep_log.ts";
 * const path = `${await Deno.makeTempDir()}/log.csv`;
 * await Deno.writeTextFile(path, "a,b\r\n1,2\r\n");
 * assert.deepStrictEqual(await checkLog(path, ["a", "b"]), [["1", "2"]]);
 * await assert.rejects(checkLog(path, ["a", "c"]), /column 2 is "b"/);
 * ```
 */
export async function checkLog(path: string, columns: readonly string[]): Promise<string[][]> {
  const text = await readOrNull(path);
  if (text === null || text.trim() === "") return [];
  const [header, ...rows] = parseCsv(text);
  const differs = columns.findIndex((c, i) => header[i] !== c);
  if (differs >= 0 || header.length !== columns.length) {
    const at = differs >= 0 ? differs : Math.min(header.length, columns.length);
    throw new InvalidDataError(
      `${path} is a CSV log with other columns: column ${at + 1} is ` +
        `${header[at] === undefined ? "missing" : `"${header[at]}"`} where this log needs ` +
        `${columns[at] === undefined ? "no more columns" : `"${columns[at]}"`}; give a new ` +
        `--output file (or move the old one away)`,
    );
  }
  return rows;
}

/**
 * Appends `rows` to the CSV log at `path` (creating it with `columns` as header). The file is
 * rewritten whole and renamed into place, so a reader, or an interrupt, sees either the old log
 * or the new one.
 *
 * @param path The log file; its folder must exist.
 * @param columns The header.
 * @param rows The rows to add; a value for a name not in `columns` is an error.
 * @returns Resolves once the file is in place.
 * @throws {InvalidDataError} When the file holds another header (see {@linkcode checkLog}).
 * @throws {TypeError} When a row names a column the log does not have.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { appendRows } from "./sweep_log.ts";
 * const path = `${await Deno.makeTempDir()}/log.csv`;
 * await appendRows(path, ["a", "b"], [{ a: 1, b: "x" }]);
 * await appendRows(path, ["a", "b"], [{ a: 2 }]);
 * assert.strictEqual(await Deno.readTextFile(path), "a,b\r\n1,x\r\n2,\r\n");
 * ```
 */
export async function appendRows(
  path: string,
  columns: readonly string[],
  rows: readonly SweepRow[],
): Promise<void> {
  const old = await checkLog(path, columns);
  const known = new Set(columns);
  const added = rows.map((row, r) => {
    const stray = Object.keys(row).find((k) => !known.has(k));
    if (stray !== undefined) {
      throw new TypeError(`row ${r} has a value for "${stray}", which is not a column of ${path}`);
    }
    return columns.map((c) => row[c]);
  });
  const text = formatCsv(columns, [...old, ...added]);
  await writeFileAtomic(path, new TextEncoder().encode(text));
}

/**
 * Reads a CSV log into rows keyed by column, checking that it has `required` columns.
 *
 * @param path The CSV file.
 * @param required Columns the caller needs.
 * @returns The header and one record per data row.
 * @throws {InvalidDataError} When the file is empty or lacks columns (all missing ones are
 *   named).
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { readLog } from "./sweep_log.ts";
 * const path = `${await Deno.makeTempDir()}/log.csv`;
 * await Deno.writeTextFile(path, "a,b\r\n1,2\r\n");
 * assert.strictEqual((await readLog(path, ["a"])).rows[0].b, "2");
 * await assert.rejects(readLog(path, ["a", "c", "d"]), /missing the columns c, d/);
 * ```
 */
export async function readLog(
  path: string,
  required: readonly string[],
): Promise<{ header: string[]; rows: Record<string, string>[] }> {
  const records = parseCsv(await Deno.readTextFile(path));
  if (records.length === 0) {
    throw new InvalidDataError(`${path} is empty: it holds no CSV header`);
  }
  const [header, ...data] = records;
  const missing = required.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw new InvalidDataError(
      `${path} is missing the columns ${missing.join(", ")} (it has ${header.join(", ")}); ` +
        "give a log written by `cli.ts bench`",
    );
  }
  return {
    header,
    rows: data.map((r) => Object.fromEntries(header.map((c, i) => [c, r[i] ?? ""]))),
  };
}
