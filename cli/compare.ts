/**
 * `deno run -A cli.ts compare a b`: flags regressions between two runs for CI
 * (`harness/compare.ts`): two CSV logs with the same columns, or two performance records
 * (`record.json`, `stress-*.json`). Exits 1 when a metric got worse beyond `--threshold`.
 *
 * @module
 */

import { dirname, extname, join } from "node:path";
import { type Command, UsageError } from "./_command.ts";
import { numberOption, parseCommandArgs } from "./_args.ts";
import { parseCsv } from "../io/csv.ts";
import { InvalidDataError } from "../core/errors.ts";
import {
  compareCsv,
  compareRecords,
  type Comparison,
  type CsvTable,
  type MachineKey,
  machineKey,
} from "../harness/compare.ts";
import { parseRecord, type PerformanceRecord } from "../harness/record.ts";
import { formatTable } from "../harness/table.ts";

const USAGE = `usage: deno run -A cli.ts compare BASELINE NEW [--threshold PERCENT]

Compares two runs and exits 1 when a metric got worse by more than the threshold (for CI):
two CSV logs with the same columns (rows matched on their configuration columns; the last row
of each configuration counts), or two performance records (.json, as stress writes).

Lower is better: columns ending _ms, _s, _seconds, _time, _mb, _bytes, latency, memory_*, and
ratios (*ratio: prism ÷ peer); total time, peak RSS and WASM heap of a record.
Higher is better: throughput*, *per_sec, *_per_s, gflops, speedup, *auc*; samples/s of a record.
A record's own metrics say their direction. model_*, std_* and *spread* columns are not judged.

Runs from different machines (CPU, cores or GPU adapter differ; a CSV's machine comes from a
record.json beside it) are not compared on absolute times, rates or memory: it says so and
compares only ratios and quality figures.

  --threshold PERCENT   the change that counts, in percent (default 10)

example: deno run -A cli.ts compare logs/main.csv logs/branch.csv --threshold 15`;

/** The `compare` command. */
export const compareCommand: Command = {
  name: "compare",
  summary: "flag regressions between two CSV logs or two performance records (CI exit code)",
  example: "deno run -A cli.ts compare logs/bench.csv logs/bench.csv --threshold 5",
  usage: USAGE,
  async run(args, out) {
    const { values, positionals } = parseCommandArgs(args, { threshold: { type: "string" } });
    if (positionals.length !== 2) {
      throw new UsageError(
        `give exactly two files to compare (baseline, then new), got ${positionals.length}`,
      );
    }
    const percent = numberOption("threshold", {
      value: values.threshold?.replace(/%$/, ""),
      fallback: 10,
    });
    if (!(percent >= 0)) {
      throw new UsageError(`--threshold must be a percentage ≥ 0, got ${values.threshold}`);
    }
    const [pathA, pathB] = positionals;
    const kinds = positionals.map(kindOf);
    if (kinds[0] !== kinds[1]) {
      throw new UsageError(
        `${pathA} is a ${kinds[0]} and ${pathB} a ${kinds[1]}: compare two CSV logs or two records`,
      );
    }
    const threshold = percent / 100;
    let result: Comparison;
    if (kinds[0] === "record") {
      const [a, b] = await Promise.all(positionals.map(readRecord));
      result = compareRecords(a, b, { threshold });
    } else {
      const [a, b] = await Promise.all(positionals.map(readTable));
      const machines = await Promise.all(positionals.map(machineBeside));
      result = compareCsv(a, b, {
        threshold,
        names: [pathA, pathB],
        machines: [machines[0], machines[1]],
      });
    }
    report(result, { out, percent, paths: [pathA, pathB] });
    out.summary({
      threshold: percent,
      sameMachine: result.sameMachine,
      regressions: result.regressions,
      metrics: result.metrics,
      notes: result.notes,
    });
    return result.regressions > 0 ? 1 : 0;
  },
};

function kindOf(path: string): "CSV" | "record" {
  const ext = extname(path).toLowerCase();
  if (ext === ".csv") return "CSV";
  if (ext === ".json") return "record";
  throw new UsageError(
    `${path}: compare reads .csv logs or .json performance records, not ${
      ext || "a file without an extension"
    }`,
  );
}

async function readRecord(path: string): Promise<PerformanceRecord> {
  const text = await Deno.readTextFile(path);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidDataError(`${path} is not JSON (${(error as Error).message})`);
  }
  return parseRecord(value, path);
}

async function readTable(path: string): Promise<CsvTable> {
  const records = parseCsv(await Deno.readTextFile(path))
    .filter((r) => !(r.length === 1 && r[0].trim() === ""));
  if (records.length < 2) {
    throw new InvalidDataError(`${path} holds no rows under its header: nothing to compare`);
  }
  return { header: records[0], rows: records.slice(1) };
}

/** The machine of a CSV log, from the `record.json` of its run folder when there is one. */
async function machineBeside(path: string): Promise<MachineKey | undefined> {
  const beside = join(dirname(path), "record.json");
  try {
    return machineKey(parseRecord(JSON.parse(await Deno.readTextFile(beside)), beside));
  } catch {
    return undefined; // None, or not a record: the CSV's machine is unknown, and a note says so.
  }
}

function report(
  result: Comparison,
  context: { out: Parameters<Command["run"]>[1]; percent: number; paths: string[] },
): void {
  const { out, percent, paths } = context;
  const value = (v: number) => Math.abs(v) >= 1e5 ? v.toExponential(3) : String(+v.toPrecision(5));
  out.say(`compare ${paths[0]} (baseline) -> ${paths[1]}, threshold ${percent} %`);
  for (const note of result.notes) out.say(`note: ${note}`);
  // A record's metrics have no row; a CSV's are per configuration row.
  const rows = result.metrics.some((m) => m.key !== "");
  out.say(formatTable(
    [...rows ? ["row"] : [], "metric", "better", "baseline", "new", "change", "verdict"],
    result.metrics.map((m) => [
      ...rows ? [m.key] : [],
      m.metric,
      m.better,
      value(m.a),
      value(m.b),
      m.change === null ? "from 0" : `${(m.change * 100).toFixed(1)} %`,
      m.verdict,
    ]),
  ));
  const compared = result.metrics.filter((m) => m.verdict !== "not compared").length;
  out.say(
    result.regressions > 0
      ? `${result.regressions} regression(s) beyond ${percent} % (of ${compared} compared)`
      : `no regression beyond ${percent} % (${compared} metric(s) compared)`,
  );
}
