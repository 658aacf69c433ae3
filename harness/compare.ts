/**
 * Regression checks between two runs, for CI: two CSV logs with the same columns (a benchmark
 * sweep's rows), or two performance records (`record.ts`). Each metric knows which way is
 * better; a change beyond the threshold the wrong way is a regression. Absolute figures (times,
 * rates, memory) are compared only when both runs name the same machine (CPU, cores, adapter);
 * ratios inside one run (prism ÷ peer, batch 16 ÷ batch 1) and quality figures (AUC) always.
 *
 * @module
 */

import type { Better, PerformanceRecord, RecordMetric } from "./record.ts";

/** A table read from a CSV: its header and its records. */
export interface CsvTable {
  /** Column names. */
  readonly header: readonly string[];
  /** Records, each as long as the header. */
  readonly rows: readonly (readonly string[])[];
}

/** One metric of one row (or of a record) in both runs. */
export interface ComparedMetric {
  /** The row's key (its configuration columns, `a=1 b=2`), `""` for a record. */
  readonly key: string;
  /** The metric's name. */
  readonly metric: string;
  /** Which way is better. */
  readonly better: Better;
  /** Its value in the first run (the baseline). */
  readonly a: number;
  /** Its value in the second run. */
  readonly b: number;
  /** `(b − a) / |a|`; `null` when `a` is 0. */
  readonly change: number | null;
  /** `regression` (worse beyond the threshold), `improved` (better beyond it), `same`, or `not compared` (an absolute figure across machines). */
  readonly verdict: "regression" | "improved" | "same" | "not compared";
}

/** What {@linkcode compareRecords} and {@linkcode compareCsv} found. */
export interface Comparison {
  /** Every metric in both runs. */
  readonly metrics: readonly ComparedMetric[];
  /** How many are regressions. */
  readonly regressions: number;
  /** `true`/`false` when both runs say where they ran; `null` when that is unknown. */
  readonly sameMachine: boolean | null;
  /** Notes: the machines differ, rows only in one run, failed rows skipped. */
  readonly notes: readonly string[];
}

/** Options of the comparisons. */
export interface CompareOptions {
  /** The relative change that counts, e.g. 0.1 for 10 % (default 0.1). */
  readonly threshold?: number;
}

/** The machine fields two runs must share for their absolute figures to be compared. */
export interface MachineKey {
  /** CPU model. */
  readonly cpu: string;
  /** Logical CPUs. */
  readonly cores: number;
  /** The GPU adapter (or `none: …`). */
  readonly adapter: string;
}

/**
 * The CSV columns a comparison reads, by name: which way each is better, whether it is absolute
 * (machine-dependent), checked in order. Columns matching none of them are the rows'
 * configuration (the key rows are matched on), except `timestamp`, `error` and `note`.
 */
const RULES: readonly { pattern: RegExp; better: Better; absolute: boolean }[] = [
  { pattern: /(^|_)ratio$/, better: "lower", absolute: false }, // prism ÷ peer
  { pattern: /(^|_)auc($|_)/, better: "higher", absolute: false },
  {
    pattern: /throughput|per_sec|per_s$|_per_second|gflops|speedup/,
    better: "higher",
    absolute: true,
  },
  {
    pattern: /(_ms|_s|_seconds|_mb|_bytes|_time|latency|memory_[a-z]+)$/,
    better: "lower",
    absolute: true,
  },
];

/** Columns that are neither a metric nor part of a row's identity. */
const IGNORED = new Set(["timestamp", "error", "note", "notes"]);

/**
 * Whether a column is neither a metric nor configuration: the bookkeeping columns above, and a
 * metric's spread (`std_*`, `*spread*`), which says how noisy a figure is, not how good.
 */
function ignored(name: string): boolean {
  return IGNORED.has(name) || name.startsWith("std_") || name.includes("spread");
}

/**
 * Which way a CSV column is better, by its name (see the rules in the module's source):
 * `*_ms`, `*_s`, `*_mb`, `*_bytes`, `*_time`, `*latency`, `memory_*` and `*ratio` (prism ÷ peer)
 * are lower-is-better; `throughput*`, `*per_sec`, `*_per_s`, `*gflops`, `*speedup` and `*auc*` are
 * higher-is-better. `model_*` columns are configuration; `std_*` and `*spread*` (noise, not
 * quality), `timestamp`, `error` and `note` are neither.
 *
 * @param column The column's name.
 * @returns The direction and whether the figure depends on the machine, or `undefined` for a
 *   column that is not a metric.
 * @throws Never.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { metricOfColumn } from "./compare.ts";
 * assert.deepStrictEqual(metricOfColumn("avg_time_ms"), { better: "lower", absolute: true });
 * assert.strictEqual(metricOfColumn("throughput_samples_per_sec")?.better, "higher");
 * assert.strictEqual(metricOfColumn("tile_size"), undefined);
 * ```
 */
export function metricOfColumn(column: string): { better: Better; absolute: boolean } | undefined {
  const name = column.toLowerCase();
  // The model's size and parameters describe the configuration, they are not a result.
  if (ignored(name) || name.startsWith("model_")) return undefined;
  const rule = RULES.find((r) => r.pattern.test(name));
  return rule === undefined ? undefined : { better: rule.better, absolute: rule.absolute };
}

function checkThreshold(threshold: number): number {
  if (!Number.isFinite(threshold) || threshold < 0) {
    throw new RangeError(
      `threshold must be a finite fraction ≥ 0 (0.1 for 10 %), got ${threshold}`,
    );
  }
  return threshold;
}

function judge(
  key: string,
  metric: string,
  values: { a: number; b: number; better: Better; compared: boolean; threshold: number },
): ComparedMetric {
  const { a, b, better, compared, threshold } = values;
  const change = a === 0 ? (b === 0 ? 0 : null) : (b - a) / Math.abs(a);
  let verdict: ComparedMetric["verdict"] = "same";
  if (!compared) verdict = "not compared";
  else {
    // Worse: up for lower-is-better, down for higher-is-better; a change from 0 counts as large.
    const worse = better === "lower" ? b - a : a - b;
    const beyond = change === null ? true : Math.abs(change) > threshold;
    if (beyond && worse > 0) verdict = "regression";
    else if (beyond && worse < 0) verdict = "improved";
  }
  return { key, metric, better, a, b, change, verdict };
}

function machineNote(a: MachineKey, b: MachineKey): string | undefined {
  const diffs = (["cpu", "cores", "adapter"] as const).filter((k) => a[k] !== b[k])
    .map((k) => `${k} "${a[k]}" vs "${b[k]}"`);
  return diffs.length === 0
    ? undefined
    : `the runs are from different machines (${
      diffs.join(", ")
    }): absolute times, rates and memory are not compared; only ratios inside each run and ` +
      "quality figures are";
}

/**
 * The machine fields of a record.
 *
 * @param r A record.
 * @returns Its CPU, cores and adapter.
 * @throws Never.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { machineKey } from "./compare.ts";
 * const key = machineKey({ machine: { cpu: "X", cores: 4 }, device: { adapter: "none" } } as never);
 * assert.deepStrictEqual(key, { cpu: "X", cores: 4, adapter: "none" });
 * ```
 */
export function machineKey(r: PerformanceRecord): MachineKey {
  return { cpu: r.machine.cpu, cores: r.machine.cores, adapter: r.device.adapter };
}

/**
 * Compares two performance records: total time, samples/s, peak RSS, WASM heap, and every
 * metric both hold.
 *
 * @param a The baseline.
 * @param b The run to judge.
 * @param options `threshold` (default 0.1).
 * @returns The comparison.
 * @throws {RangeError} On a negative or non-finite threshold.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { compareRecords } from "./compare.ts";
 * const base = {
 *   totalSeconds: 10, samplesPerSecond: 2, samples: 20, memory: { peakRssBytes: 1e8, wasmHeapBytes: 1e7 },
 *   machine: { cpu: "X", cores: 2 }, device: { adapter: "none" }, metrics: {},
 * };
 * const slower = { ...base, totalSeconds: 13, samplesPerSecond: 1.5 };
 * const c = compareRecords(base as never, slower as never);
 * assert.strictEqual(c.regressions, 2);
 * ```
 */
export function compareRecords(
  a: PerformanceRecord,
  b: PerformanceRecord,
  options: CompareOptions = {},
): Comparison {
  const threshold = checkThreshold(options.threshold ?? 0.1);
  const note = machineNote(machineKey(a), machineKey(b));
  const notes = note === undefined ? [] : [note];
  const core = (r: PerformanceRecord): Record<string, RecordMetric | undefined> => ({
    totalSeconds: { value: r.totalSeconds, unit: "s", better: "lower", absolute: true },
    samplesPerSecond: r.samplesPerSecond === null
      ? undefined
      : { value: r.samplesPerSecond, unit: "samples/s", better: "higher", absolute: true },
    peakRssBytes: { value: r.memory.peakRssBytes, unit: "bytes", better: "lower", absolute: true },
    wasmHeapBytes: {
      value: r.memory.wasmHeapBytes,
      unit: "bytes",
      better: "lower",
      absolute: true,
    },
  });
  const ma = { ...core(a), ...a.metrics };
  const mb = { ...core(b), ...b.metrics };
  const metrics: ComparedMetric[] = [];
  for (const [name, x] of Object.entries(ma)) {
    const y = mb[name];
    if (x === undefined || y === undefined) {
      if (x !== undefined) notes.push(`${name} is only in the first run`);
      continue;
    }
    metrics.push(judge("", name, {
      a: x.value,
      b: y.value,
      better: x.better,
      compared: note === undefined || !(x.absolute || y.absolute),
      threshold,
    }));
  }
  for (const name of Object.keys(mb)) {
    if (mb[name] !== undefined && ma[name] === undefined) {
      notes.push(`${name} is only in the second run`);
    }
  }
  return summary(metrics, note === undefined, notes);
}

function summary(
  metrics: ComparedMetric[],
  sameMachine: boolean | null,
  notes: string[],
): Comparison {
  return {
    metrics,
    regressions: metrics.filter((m) => m.verdict === "regression").length,
    sameMachine,
    notes,
  };
}

/**
 * Compares two CSV tables with the same columns: rows are matched on their configuration
 * columns (every column that is not a metric, `timestamp`, `error` or `note`; the last row of
 * each configuration counts, as logs append), and each metric column is judged.
 *
 * @param a The baseline table.
 * @param b The table to judge.
 * @param options `threshold` (default 0.1); `names` of the two inputs for messages; `machines`
 *   (each run's {@linkcode MachineKey}, e.g. from a `record.json` beside the CSV) when known.
 * @returns The comparison.
 * @throws {TypeError} When the headers differ (names the missing columns), no column is a metric
 *   this module knows the direction of, or a row is shorter or longer than the header.
 * @throws {RangeError} On a negative or non-finite threshold.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { compareCsv } from "./compare.ts";
 * const header = ["tile_size", "avg_time_ms"];
 * const c = compareCsv({ header, rows: [["256", "10"]] }, { header, rows: [["256", "12"]] });
 * assert.strictEqual(c.metrics[0].verdict, "regression");
 * ```
 */
export function compareCsv(
  a: CsvTable,
  b: CsvTable,
  options: CompareOptions & {
    names?: readonly [string, string];
    machines?: readonly [MachineKey | undefined, MachineKey | undefined];
  } = {},
): Comparison {
  const threshold = checkThreshold(options.threshold ?? 0.1);
  const [nameA, nameB] = options.names ?? ["the first CSV", "the second CSV"];
  const onlyA = a.header.filter((c) => !b.header.includes(c));
  const onlyB = b.header.filter((c) => !a.header.includes(c));
  if (onlyA.length > 0 || onlyB.length > 0) {
    throw new TypeError(
      `the CSVs have different columns: ${
        [
          onlyA.length > 0 ? `${nameB} lacks ${onlyA.join(", ")}` : "",
          onlyB.length > 0 ? `${nameA} lacks ${onlyB.join(", ")}` : "",
        ].filter((s) => s).join("; ")
      }; compare two logs of the same command`,
    );
  }
  const metricCols = a.header.map((c) => [c, metricOfColumn(c)] as const)
    .filter(([, m]) => m !== undefined) as [string, { better: Better; absolute: boolean }][];
  if (metricCols.length === 0) {
    throw new TypeError(
      `${nameA} has no metric column: expected columns such as avg_time_ms, total_time_ms, ` +
        "memory_peak_mb (lower is better) or throughput_samples_per_sec (higher is better); " +
        `its columns are ${a.header.join(", ")}`,
    );
  }
  const keyCols = a.header.filter((c) =>
    metricOfColumn(c) === undefined && !ignored(c.toLowerCase())
  );
  const [ma, mb] = options.machines ?? [undefined, undefined];
  const note = ma && mb ? machineNote(ma, mb) : undefined;
  const sameMachine = ma && mb ? note === undefined : null;
  const notes: string[] = note === undefined ? [] : [note];
  if (sameMachine === null) {
    notes.push(
      "the CSVs do not say which machine they ran on (no record.json beside them): absolute " +
        "figures are compared as if from the same machine",
    );
  }
  const rowsOf = (t: CsvTable, name: string) => {
    const byKey = new Map<string, Record<string, string>>();
    t.rows.forEach((row, i) => {
      if (row.length !== t.header.length) {
        throw new TypeError(
          `${name} row ${i + 2} has ${row.length} fields for ${t.header.length} columns`,
        );
      }
      const rec = Object.fromEntries(t.header.map((c, j) => [c, row[j]]));
      byKey.set(keyCols.map((c) => `${c}=${rec[c]}`).join(" "), rec);
    });
    return byKey;
  };
  const rowsA = rowsOf(a, nameA);
  const rowsB = rowsOf(b, nameB);
  const metrics: ComparedMetric[] = [];
  for (const [key, ra] of rowsA) {
    const rb = rowsB.get(key);
    if (rb === undefined) {
      notes.push(`${key || "(the row)"} is only in ${nameA}`);
      continue;
    }
    const failed = [ra, rb].find((r) => (r.error ?? "").trim() !== "");
    if (failed !== undefined) {
      notes.push(`${key}: not compared, a run failed (error ${failed.error})`);
      continue;
    }
    for (const [col, m] of metricCols) {
      const x = Number(ra[col]), y = Number(rb[col]);
      if (
        ra[col].trim() === "" || rb[col].trim() === "" || !Number.isFinite(x) || !Number.isFinite(y)
      ) {
        continue;
      }
      metrics.push(judge(key, col, {
        a: x,
        b: y,
        better: m.better,
        compared: note === undefined || !m.absolute,
        threshold,
      }));
    }
  }
  for (const key of rowsB.keys()) {
    if (!rowsA.has(key)) notes.push(`${key || "(the row)"} is only in ${nameB}`);
  }
  return summary(metrics, sameMachine, notes);
}
