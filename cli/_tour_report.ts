/**
 * The tour's table and its files: one row per operation and backend (time, throughput, peak
 * memory, agreement with the first backend), printed, and written to the run folder as
 * `results.csv` (pandas reads it) and `report.h5` (h5py reads it).
 *
 * @module
 */

import { formatCsv } from "../io/csv.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { writeHdf5 } from "../io/hdf5_write.ts";
import { formatBytes, formatMs, formatRate } from "./_format.ts";
import type { TourLine } from "./_tour_types.ts";
import type { RecordMetric } from "../harness/record.ts";

/** One row of the table: a tour line with its agreement worked out. */
export interface TourRow extends TourLine {
  /**
   * Largest |this − first backend| over the first backend's largest |value|, for an operation
   * that ran on several backends; `undefined` for the first backend and single-backend rows.
   */
  readonly agreement?: number;
}

/** The largest absolute difference, over the reference's largest magnitude. */
function relativeMaxDiff(
  a: Float32Array | Float64Array,
  reference: Float32Array | Float64Array,
): number {
  if (a.length !== reference.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - reference[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/**
 * Turns the tour's lines into rows, comparing each line's result with the first line of the same
 * title that had one.
 *
 * @param lines The lines, in the order they ran.
 * @returns One row per line.
 */
export function tourRows(lines: readonly TourLine[]): TourRow[] {
  const first = new Map<string, Float32Array | Float64Array>();
  return lines.map((line) => {
    if (line.result === undefined) return line;
    const reference = first.get(line.title);
    if (reference === undefined) {
      first.set(line.title, line.result);
      return line;
    }
    return { ...line, agreement: relativeMaxDiff(line.result, reference) };
  });
}

function throughput(row: TourRow): string {
  return row.work && row.ms !== undefined ? formatRate(row.work.amount, row.ms, row.work.unit) : "";
}

/** The columns after the operation's, with their widths. */
const COLUMNS = [
  ["backend", 7],
  ["time", 9],
  ["throughput", 14],
  ["peak RSS", 9],
  ["agreement", 9],
] as const;

/**
 * The table as text lines: a header, then one line per row with what the result says at the end.
 *
 * @param rows The rows.
 * @returns The lines to print.
 */
export function formatTourTable(rows: readonly TourRow[]): string[] {
  const cells = (row: TourRow): string[] => [
    row.title,
    row.backend ?? "",
    row.ms === undefined ? "" : formatMs(row.ms),
    throughput(row),
    row.peakRssBytes === undefined ? "" : formatBytes(row.peakRssBytes),
    row.agreement === undefined ? "" : row.agreement.toExponential(1),
  ];
  const widths = [Math.max(9, ...rows.map((r) => r.title.length)), ...COLUMNS.map(([, w]) => w)];
  const line = (values: readonly string[], rest: string) =>
    values.map((v, i) => i >= 2 ? v.padStart(widths[i]) : v.padEnd(widths[i])).join(" ") +
    (rest === "" ? "" : `  ${rest}`);
  return [
    line(["operation", ...COLUMNS.map(([name]) => name)], "result"),
    ...rows.map((row) => line(cells(row), row.detail)),
  ];
}

/**
 * The table's figures as a performance record's metrics (`harness/record.ts`), so `compare` can
 * set two tours side by side: each timed row's milliseconds (lower is better, machine-dependent)
 * and each agreement between backends (lower is better, comparable across machines).
 *
 * @param rows The table.
 * @returns Metrics named `<operation> [<backend>] time_ms` and `... agreement`.
 */
export function tourMetrics(rows: readonly TourRow[]): Record<string, RecordMetric> {
  const metrics: Record<string, RecordMetric> = {};
  for (const row of rows) {
    const name = `${row.title} [${row.backend ?? "-"}]`;
    if (row.ms !== undefined) {
      metrics[`${name} time_ms`] = { value: row.ms, unit: "ms", better: "lower", absolute: true };
    }
    if (row.agreement !== undefined && Number.isFinite(row.agreement)) {
      metrics[`${name} agreement`] = {
        value: row.agreement,
        unit: "1",
        better: "lower",
        absolute: false,
      };
    }
  }
  return metrics;
}

/** Facts about the run that go into the report's attributes. */
export interface TourFacts {
  readonly prismVersion: string;
  readonly startedAt: string;
  readonly totalSeconds: number;
  readonly gpuAdapter: string;
}

/** The per-second rate of a row in its unit, or NaN. */
function perSecond(row: TourRow): number {
  return row.work && row.ms ? row.work.amount / (row.ms / 1000) : NaN;
}

/**
 * Writes `results.csv` and `report.h5` into the run folder.
 *
 * @param dir The run folder (it exists).
 * @param rows The table.
 * @param facts The run's facts, as HDF5 root attributes.
 * @returns The files written.
 */
export async function writeTourResults(
  dir: string,
  rows: readonly TourRow[],
  facts: TourFacts,
): Promise<string[]> {
  const csv = `${dir}/results.csv`;
  const header = [
    "operation",
    "backend",
    "time_ms",
    "throughput_per_s",
    "throughput_unit",
    "peak_rss_bytes",
    "agreement",
    "result",
  ];
  await writeFileAtomic(
    csv,
    new TextEncoder().encode(formatCsv(
      header,
      rows.map((r) => [
        r.title,
        r.backend ?? null,
        r.ms ?? null,
        Number.isNaN(perSecond(r)) ? null : perSecond(r),
        r.work?.unit ?? null,
        r.peakRssBytes ?? null,
        r.agreement ?? null,
        r.detail,
      ]),
    )),
  );
  const h5 = `${dir}/report.h5`;
  const column = (f: (r: TourRow) => number | undefined) =>
    Float64Array.from(rows, (r) => f(r) ?? NaN);
  const n = rows.length;
  await writeHdf5(h5, {
    attrs: {
      prism_version: facts.prismVersion,
      started_at: facts.startedAt,
      total_seconds: facts.totalSeconds,
      gpu_adapter: facts.gpuAdapter,
    },
    groups: [{
      path: "results",
      attrs: {
        description: "one entry per tour row; NaN where a value does not apply",
        operation: rows.map((r) => r.title),
        backend: rows.map((r) => r.backend ?? ""),
        throughput_unit: rows.map((r) => r.work?.unit ?? ""),
        result: rows.map((r) => r.detail),
      },
    }],
    datasets: [
      { path: "results/time_ms", data: column((r) => r.ms), shape: [n] },
      { path: "results/throughput_per_s", data: column(perSecond), shape: [n] },
      { path: "results/peak_rss_bytes", data: column((r) => r.peakRssBytes), shape: [n] },
      { path: "results/agreement", data: column((r) => r.agreement), shape: [n] },
    ],
  });
  return [csv, h5];
}
