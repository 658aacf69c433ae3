/**
 * `deno run -A cli.ts plot --input logs/bench.csv --output reports/bench.png`: the charts of an
 * experiment's log as PNG and SVG (`harness/plot.ts`): §2's four panels from a `bench conv` log,
 * §1's sweeps from a `bench cov|rx|spectrum` log, a tracker run's metrics from its export.
 *
 * @module
 */

import { extname } from "node:path";
import { type Command, UsageError } from "./_command.ts";
import { parseCommandArgs } from "./_args.ts";
import { prepareOutputPath } from "./_out_path.ts";
import { handleInterrupts } from "./_signals.ts";
import { CONV_COLUMNS, OP_COLUMNS, readLog } from "../harness/sweep_log.ts";
import { convPanels, sweepPanels, trackPanels } from "../harness/plot_specs.ts";
import { type ChartSpec, renderChart, writeChart } from "../harness/plot.ts";
import { readTrack } from "../track/export.ts";
import { parseCsv } from "../io/csv.ts";
import { InvalidDataError } from "../core/errors.ts";

const USAGE = `usage: deno run -A cli.ts plot --input FILE [--output reports/bench.png]

Draws an experiment's charts as PNG and SVG (the SVG beside the PNG), with Vega-Lite rendered
headless (the charting libraries are fetched from npm on first use).

  --input FILE    a bench conv log (§2: peak memory and throughput vs tile size per batch,
                  time breakdown per configuration, memory vs throughput), a bench
                  cov|rx|spectrum log (§1: time vs channels and vs pixels with the fitted
                  growth exponent), or a tracker export (.csv with a layer column, .json,
                  .h5: metrics over steps per layer, jumps marked)
  --output F.png  default reports/<input name>.png; its folder is created

e.g. deno run -A cli.ts bench conv --model small --quick --output logs/bench.csv
     deno run -A cli.ts plot --input logs/bench.csv --output reports/bench.png`;

/** Columns that make a CSV a tracker export (with one `layer` column). */
const TRACK_CSV_COLUMNS = ["layer", "step", "stable_rank", "participation_ratio", "cumulative_90"];

/** What a CSV's header says it is, or which columns each kind would still need. */
function csvKind(path: string, header: readonly string[]): "conv" | "sweep" | "track" {
  const kinds = [
    ["conv", CONV_COLUMNS, "a bench conv log (§2)"],
    ["sweep", OP_COLUMNS, "a bench cov|rx|spectrum log"],
    ["track", TRACK_CSV_COLUMNS, "a tracker export"],
  ] as const;
  const missing = kinds.map(([kind, columns, what]) => ({
    kind,
    what,
    missing: columns.filter((c) => !header.includes(c)),
    present: columns.filter((c) => header.includes(c)).length,
  }));
  const full = missing.find((m) => m.missing.length === 0);
  if (full !== undefined) return full.kind;
  // The kind the file shares most columns with is the one its author most likely meant.
  const nearest = missing.reduce((a, b) => b.present > a.present ? b : a);
  throw new InvalidDataError(
    `${path} is not a log plot knows: as ${nearest.what} it is missing the columns ` +
      `${nearest.missing.join(", ")}; give a CSV written by \`cli.ts bench\` or a tracker export`,
  );
}

async function chartOf(input: string): Promise<{ spec: ChartSpec; kind: string }> {
  const ext = extname(input).toLowerCase();
  if (ext === ".json" || ext === ".h5" || ext === ".hdf5") {
    return { spec: trackPanels(await readTrack(input)), kind: "track" };
  }
  if (ext !== ".csv") {
    throw new UsageError(`--input ${input}: give a .csv log, or a tracker .json or .h5 export`);
  }
  const [header = []] = parseCsv(await Deno.readTextFile(input));
  const kind = csvKind(input, header);
  if (kind === "track") return { spec: trackPanels(await readTrack(input)), kind };
  const { rows } = await readLog(input, kind === "conv" ? CONV_COLUMNS : OP_COLUMNS);
  return { spec: kind === "conv" ? convPanels(rows) : sweepPanels(rows), kind };
}

/** The `plot` command. */
export const plotCommand: Command = {
  name: "plot",
  summary: "charts of a bench log or tracker export as PNG + SVG (Vega-Lite)",
  example: "deno run -A cli.ts plot --input logs/bench.csv --output reports/bench.png",
  usage: USAGE,
  async run(args, out) {
    const { values, positionals } = parseCommandArgs(args, {
      input: { type: "string" },
      output: { type: "string" },
    });
    if (positionals.length > 0) {
      throw new UsageError(`plot takes only flags, got "${positionals.join(" ")}"`);
    }
    if (!values.input) throw new UsageError("--input is required (a bench log or tracker export)");
    const stem = values.input.replace(/^.*[\\/]/, "").replace(/\.[^.]*$/, "");
    const output = values.output ?? `reports/${stem}.png`;
    await Deno.stat(values.input).catch((error) => {
      throw new Deno.errors.NotFound(`--input ${values.input}: ${(error as Error).message}`);
    });
    await prepareOutputPath(output, { allowed: ["png"], flag: "--output" });
    const { spec, kind } = await chartOf(values.input);
    using _signals = handleInterrupts("plot");
    const chart = await renderChart(spec);
    const written = await writeChart(output, chart);
    out.summary({ input: values.input, kind, outputs: written, pngBytes: chart.png.length });
    out.say(`plot: ${kind} charts of ${values.input} in ${written.join(" and ")}`);
    return 0;
  },
};
