/**
 * `bench conv` (EXPERIMENTS.md §2's tile × batch sweep) and `bench cov|rx|spectrum` (§1's channel
 * and spatial sweeps, §3's shapes): the sweeps of `harness/`, one CSV row appended per
 * configuration as soon as it is measured, so Ctrl-C keeps every finished row.
 *
 * @module
 */

import { type CommandOutput, UsageError } from "./_command.ts";
import { intListOption, joinListValues, numberOption, parseCommandArgs } from "./_args.ts";
import { prepareOutputPath } from "./_out_path.ts";
import { handleInterrupts } from "./_signals.ts";
import { type ConvMode, type ConvModel, convSweep, planConvSweep } from "../harness/conv_sweep.ts";
import { type OpExperiment, opSweep } from "../harness/op_sweep.ts";
import {
  appendRows,
  checkLog,
  CONV_COLUMNS,
  CONV_EXTRA_COLUMNS,
  OP_COLUMNS,
  type SweepRow,
} from "../harness/sweep_log.ts";
import { growthExponent } from "../harness/growth.ts";
import { QUICK } from "../harness/quick.ts";
import { releaseGpu } from "../gpu/device.ts";

/** The default log, as §2's. */
const DEFAULT_OUTPUT = "logs/bench.csv";

export const SWEEP_USAGE = `  conv        §2's tile × batch sweep of a network (refiner or small)
  cov         covariance over §1's channel sweep (32², 20 samples, C 10-200) and spatial
              sweep (10 channels, 10 samples, 64²-256²)
  rx          RX fit + score over the same sweeps
  spectrum    singular values + metrics (§3) of activation shapes 128×512 … 4096×1024

  Sweep flags (every sweep appends one row per configuration to --output):
  --output F          CSV log (default ${DEFAULT_OUTPUT}; its folder is created); an existing
                      file must have the same columns
  --device D          cpu (WASM) | gpu (WebGPU); default cpu
  --warmup N          untimed runs per configuration (conv: 10, train 5; others: 2)
  --iterations N      timed runs per configuration (conv: 50, train 20; others: 7)
  --quick             small problems (also PRISM_BENCH_QUICK=1)
  conv only:
  --tile-sizes N...   tile sides in pixels (default 256 384)
  --batch-sizes N...  tiles per step (default 1 2 4)
  --mode M            inference | train (forward + backward + Adam lr 1e-3); default inference
  --model M           refiner | small; default refiner
  conv logs §2's columns first, then model, backend, median/spread, counts, pixels/s; an
  out-of-memory configuration is a row with error=OOM and the sweep goes on.`;

/** The flags every sweep takes. */
const SWEEP_OPTIONS = {
  output: { type: "string", default: DEFAULT_OUTPUT },
  device: { type: "string", default: "cpu" },
  warmup: { type: "string" },
  iterations: { type: "string" },
  quick: { type: "boolean" },
} as const;

/** `bench conv`'s flags. */
const CONV_OPTIONS = {
  ...SWEEP_OPTIONS,
  "tile-sizes": { type: "string" },
  "batch-sizes": { type: "string" },
  mode: { type: "string", default: "inference" },
  model: { type: "string", default: "refiner" },
} as const;

function count(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = numberOption(name, { value, fallback: NaN });
  if (!Number.isInteger(n) || n < 0) {
    throw new UsageError(`--${name} must be a whole number, got "${value}"`);
  }
  return n;
}

function device(value: string): "cpu" | "gpu" {
  if (value !== "cpu" && value !== "gpu") {
    throw new UsageError(`--device must be cpu or gpu, got "${value}"`);
  }
  return value;
}

/** Checks the log before any work: its folder (made when missing) writable, its columns right. */
async function prepareLog(path: string, columns: readonly string[]): Promise<number> {
  await prepareOutputPath(path, { allowed: ["csv"], flag: "--output" });
  return (await checkLog(path, columns)).length;
}

/** Runs a sweep's rows into the log, one append per row, with progress and a line per row. */
async function logRows(
  name: string,
  rows: (onStart: (i: number, n: number, label: string) => void) => AsyncGenerator<SweepRow>,
  options: { output: string; columns: readonly string[]; out: CommandOutput },
  describe: (row: SweepRow) => string,
): Promise<SweepRow[]> {
  const { output, columns, out } = options;
  const before = await prepareLog(output, columns);
  using _signals = handleInterrupts(name);
  const progress = out.progress(name);
  const done: SweepRow[] = [];
  let label = "";
  let total = 0;
  for await (
    const row of rows((i, n, l) => {
      label = l;
      total = n;
      progress(i, n, "configurations");
    })
  ) {
    await appendRows(output, columns, [row]);
    done.push(row);
    out.say(`[${done.length}/${total}] ${label}: ${describe(row)}`);
  }
  progress(done.length, total, "configurations");
  out.note(`${done.length} rows appended to ${output} (${before} were there before)`);
  return done;
}

const ms = (v: unknown) => Number(v).toFixed(Number(v) < 10 ? 2 : 1);

/**
 * `bench conv`: §2's sweep into the CSV log.
 *
 * @param args The arguments after `conv`.
 * @param out The command's output.
 * @returns The exit code: 0, or 1 when a configuration failed (its row says why).
 */
export async function runConvSweep(args: string[], out: CommandOutput): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    joinListValues(args, ["tile-sizes", "batch-sizes"]),
    CONV_OPTIONS,
  );
  if (positionals.length > 0) {
    throw new UsageError(`bench conv takes only flags, got "${positionals.join(" ")}"`);
  }
  const quick = values.quick === true || QUICK;
  let plan;
  try {
    plan = planConvSweep({
      tileSizes: intListOption("tile-sizes", values["tile-sizes"]) ??
        (quick ? [32, 48] : undefined),
      batchSizes: intListOption("batch-sizes", values["batch-sizes"]) ??
        (quick ? [1, 2] : undefined),
      mode: values.mode as ConvMode,
      device: device(values.device),
      model: values.model as ConvModel,
      warmup: count("warmup", values.warmup) ?? (quick ? 1 : undefined),
      iterations: count("iterations", values.iterations) ?? (quick ? 2 : undefined),
    });
  } catch (error) {
    if (error instanceof RangeError || error instanceof TypeError) {
      throw new UsageError(error.message.replace(/^(tile|batch) sizes/, "--$1-sizes"));
    }
    throw error;
  }
  out.say(
    `bench conv: ${plan.mode} ${plan.model} on ${plan.device}, tiles ${
      plan.tileSizes.join(" ")
    }, ` +
      `batches ${plan.batchSizes.join(" ")}, warm-up ${plan.warmup}, timed ${plan.iterations}`,
  );
  try {
    const rows = await logRows(
      "bench conv",
      (onStart) => convSweep({ ...plan, onStart }),
      { output: values.output, columns: [...CONV_COLUMNS, ...CONV_EXTRA_COLUMNS], out },
      (r) =>
        r.error
          ? `error ${r.error}`
          : `${ms(r.avg_time_ms)} ± ${ms(r.std_time_ms)} ms, ${
            Number(r.throughput_samples_per_sec).toFixed(2)
          } samples/s, peak ${Number(r.memory_peak_mb).toFixed(1)} MiB`,
    );
    out.summary({ output: values.output, rows });
    return rows.some((r) => r.error) ? 1 : 0;
  } finally {
    await releaseGpu();
  }
}

/**
 * `bench cov|rx|spectrum`: §1's sweeps or §3's shapes into the CSV log, then the growth
 * exponents of §1's sweeps.
 *
 * @param experiment Which operation.
 * @param args The arguments after the experiment's name.
 * @param out The command's output.
 * @returns The exit code: 0, or 1 when a problem failed.
 */
export async function runOpSweep(
  experiment: OpExperiment,
  args: string[],
  out: CommandOutput,
): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, SWEEP_OPTIONS);
  if (positionals.length > 0) {
    throw new UsageError(`bench ${experiment} takes only flags, got "${positionals.join(" ")}"`);
  }
  const options = {
    device: device(values.device),
    warmup: count("warmup", values.warmup),
    iterations: count("iterations", values.iterations),
    quick: values.quick === true || QUICK,
  };
  if (options.iterations === 0) throw new UsageError("--iterations must be at least 1");
  try {
    const rows = await logRows(
      `bench ${experiment}`,
      (onStart) => opSweep(experiment, { ...options, onStart }),
      { output: values.output, columns: OP_COLUMNS, out },
      (r) =>
        r.error
          ? `error ${r.error}`
          : `median ${ms(r.median_time_ms)} ms (mean ${ms(r.avg_time_ms)} ± ${
            ms(r.std_time_ms)
          }), peak ${Number(r.memory_peak_mb).toFixed(1)} MiB`,
    );
    const exponents: Record<string, number> = {};
    for (const [sweep, x] of [["channels", "cols"], ["spatial", "rows"]] as const) {
      const ok = rows.filter((r) => r.sweep === sweep && !r.error);
      if (ok.length < 2) continue;
      exponents[sweep] = growthExponent(
        ok.map((r) => Number(r[x])),
        ok.map((r) => Number(r.median_time_ms)),
      ).exponent;
      out.say(
        `${sweep} sweep: time grows as ${sweep === "channels" ? "C" : "pixels"}^` +
          `${exponents[sweep].toFixed(2)} (least squares on log-log; §1 expects ` +
          `${sweep === "channels" ? "~2" : "~1"})`,
      );
    }
    out.summary({ output: values.output, rows, exponents });
    return rows.some((r) => r.error) ? 1 : 0;
  } finally {
    await releaseGpu();
  }
}
