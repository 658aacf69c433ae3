/**
 * `cli.ts track-demo`: the reference dimensionality-tracking experiment
 * with the real singular-value solver, printed like the reference's tables.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { type Command, UsageError } from "./_command.ts";
import { numberOption, parseCommandArgs } from "./_args.ts";
import {
  type ExperimentTracker,
  runTrackingExperiment,
  type TrackerFactory,
} from "../track/experiment.ts";
import { DimensionalityTracker, TRACKER_BYTES_PER_MEASUREMENT } from "../track/tracker.ts";
import { checkOutputFolder } from "./_out_path.ts";

const DEFAULT_STEPS = 800;
const REFERENCE_STEPS = 8000;

const USAGE = `usage: deno run -A cli.ts track-demo [options]

Trains a 784-256-128-10 MLP on a synthetic task untracked and tracked (hidden1, hidden2, logits)
at each sampling frequency, as twin networks taking turns every 10 steps, and prints the
tracking overhead, measurements, memory, jumps and the CSV / JSON / HDF5 export sizes and times.
Progress goes to stderr.

  --steps N         training steps per run (default ${DEFAULT_STEPS}, about a minute in all;
                    the reference is --steps ${REFERENCE_STEPS}, about 15 minutes)
  --sampling LIST   sampling frequencies, comma-separated (default 1,5,10,20,50,100)
  --out-dir DIR     where the exports of the sampling-5 run go (default: a new temporary folder)`;

/** The `track-demo` command. */
export const trackDemoCommand: Command = {
  name: "track-demo",
  summary: "the reference dimensionality-tracking experiment: overhead, memory, jumps, exports",
  example: "deno run -A cli.ts track-demo --steps 40 --sampling 5 --out-dir tracking",
  usage: USAGE,
  async run(args, out) {
    const { values, positionals } = parseCommandArgs(args, {
      steps: { type: "string" },
      sampling: { type: "string", default: "1,5,10,20,50,100" },
      "out-dir": { type: "string" },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const steps = numberOption("steps", { value: values.steps, fallback: DEFAULT_STEPS });
    if (!Number.isInteger(steps) || steps < 1) {
      throw new UsageError(`--steps must be a whole number >= 1, got ${values.steps}`);
    }
    const sampling = values.sampling.split(",").map((v) =>
      numberOption("sampling", { value: v, fallback: NaN })
    );
    if (sampling.some((f) => !Number.isInteger(f) || f < 1)) {
      throw new UsageError(`--sampling must list whole numbers >= 1, got "${values.sampling}"`);
    }
    const outDir = values["out-dir"] === undefined
      ? await Deno.makeTempDir({ prefix: "prism-track-demo-" })
      : resolve(values["out-dir"]);
    await Deno.mkdir(outDir, { recursive: true });
    await checkOutputFolder(outDir, { flag: "--out-dir" });
    const exportFrequency = sampling.includes(5) ? 5 : sampling[0];

    // Keep the tracker of the export frequency so its rows can be written to --out-dir too.
    let kept: DimensionalityTracker | undefined;
    const tracker: TrackerFactory = (o): ExperimentTracker => {
      const t = new DimensionalityTracker({ ...o, metadata: { model: "784-256-128-10" } });
      if (o.samplingFrequency === exportFrequency) kept = t;
      return t;
    };
    out.note(
      `track-demo: ${sampling.length} pairs of twin runs x ${steps} steps (reference: --steps ` +
        `${REFERENCE_STEPS}); progress on stderr`,
    );
    let lastPercent = -1;
    const result = await runTrackingExperiment({
      steps,
      samplingFrequencies: sampling,
      exportFrequency,
      tracker,
      onProgress: ({ done, total }) => {
        const percent = Math.floor((100 * done) / (total ?? done));
        if (percent !== lastPercent && percent % 5 === 0) {
          lastPercent = percent;
          out.note(`  ${percent}% (${done} / ${total} steps)`);
        }
      },
    });

    out.summary({ outDir, ...result });
    out.say(
      `MLP 784-256-128-10, batch ${result.batch}, ${result.steps} steps per run, ` +
        `${result.stepMs.toFixed(2)} ms per untracked step, loss ${result.loss.first.toFixed(3)} ` +
        `-> ${result.loss.last.toFixed(3)}; tracked and untracked runs bit-identical: ` +
        `${result.identicalTraining}`,
    );
    out.say("");
    out.say(
      "sampling  overhead %  in observe %  measurements  stored bytes  allocated  jumps",
    );
    for (const f of result.frequencies) {
      out.say(
        [
          String(f.samplingFrequency).padStart(8),
          f.overheadPercent.toFixed(2).padStart(10),
          f.observeOverheadPercent.toFixed(2).padStart(12),
          String(f.measurements).padStart(13),
          String(f.measurements * TRACKER_BYTES_PER_MEASUREMENT).padStart(13),
          String(f.memoryBytes).padStart(10),
          String(f.jumps).padStart(6),
        ].join(" "),
      );
    }
    out.say(
      `\nEach measurement stores ${TRACKER_BYTES_PER_MEASUREMENT} bytes; storage is allocated in ` +
        "blocks of rows per layer, so small runs allocate more than they store.",
    );
    const exported = result.frequencies.find((f) => f.exports !== undefined);
    if (exported?.exports !== undefined) {
      out.say("");
      out.say(
        `exports of the sampling-${exported.samplingFrequency} run (${exported.measurements} ` +
          `measurements):`,
      );
      out.say("format       bytes   write ms");
      for (const e of exported.exports) {
        out.say(
          `${e.format.padEnd(6)} ${String(e.bytes).padStart(11)} ${
            (e.seconds * 1000).toFixed(1).padStart(10)
          }`,
        );
      }
    }
    if (kept !== undefined) {
      const files = ["track.csv", "track.json", "track.h5"].map((f) => join(outDir, f));
      for (const file of files) await kept.export(file);
      out.summary({ files });
      out.say("");
      out.say(`files: ${files.join(", ")}`);
    }
    if (steps < REFERENCE_STEPS) {
      out.say("");
      out.say(
        `The reference experiment runs ${REFERENCE_STEPS} steps: ` +
          `deno run -A cli.ts track-demo --steps ${REFERENCE_STEPS} (about 15 minutes).`,
      );
    }
    return 0;
  },
};
