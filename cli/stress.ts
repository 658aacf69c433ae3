/**
 * `deno run -A cli.ts stress --scale small|medium|large|xl`: the RX stress suite of
 * `EXPERIMENTS.md` §1 (`harness/stress.ts`), printed as §1-style tables and written as a
 * performance record (`harness/record.ts`): JSON with every section's results, and a text
 * report beside it.
 *
 * For tests only, `--scale tiny` runs every section at a few pixels (about a second); `--help`
 * does not list it.
 *
 * @module
 */

import { type Command, UsageError } from "./_command.ts";
import { numberOption, parseCommandArgs } from "./_args.ts";
import { checkBackend } from "./_backend_flag.ts";
import { checkOutputPath } from "./_out_path.ts";
import { stopOnInterrupt } from "./_signals.ts";
import { didYouMean } from "./_suggest.ts";
import { STRESS_SCALES, stressPlan, type StressScale } from "../harness/stress_plan.ts";
import { runStress } from "../harness/stress.ts";
import { stressMetrics, stressTables } from "../harness/stress_report.ts";
import { buildRecord, writeRecord } from "../harness/record.ts";

const USAGE = `usage: deno run -A cli.ts stress --scale NAME [options]

Runs the RX stress suite: the scale's synthetic dataset streamed one sample at a time through
min-max normalisation, RX fit and scoring (throughput, memory, detection AUC), then forward
latency at batch 1/4/8/16 (64x64x10), the channel sweep (32x32, 20 samples, C = 10..200) and
the spatial sweep (10 channels, 10 samples, 64..256 square) with fitted growth exponents, and
the convolution net's gradient check. Prints the tables; writes a JSON record and a text report.

  --scale NAME        small (10 x 64x64x10), medium (100 x 128x128x50),
                      large (1,000 x 256x256x100), xl (10,000 x 512x512x200, 2.1 TB: runs
                      as far as --max-time allows and projects the rest)
  --max-time SECONDS  stop the stream after this long; report the rate and the projected total
                      (the fixed-size sections after it take seconds more)
  --out FILE.json     the record (default stress-SCALE.json); the text report goes beside it
                      (FILE.txt)
  --backend B         auto (default), wasm or webgpu
  --seed S            dataset and network seed (default 0)

Ctrl-C ends the stream after the current sample, skips the sections not begun and writes the
record of what is done; a second Ctrl-C quits at once.

example: deno run -A cli.ts stress --scale medium
         deno run -A cli.ts stress --scale xl --max-time 60`;

/** The `stress` command. */
export const stressCommand: Command = {
  name: "stress",
  summary: "the RX stress suite at a scale: throughput, memory, latency, sweeps, AUC, gradients",
  example: "deno run -A cli.ts stress --scale small --out stress.json",
  usage: USAGE,
  async run(args, out) {
    const { values, positionals } = parseCommandArgs(args, {
      scale: { type: "string" },
      "max-time": { type: "string" },
      out: { type: "string" },
      backend: { type: "string", default: "auto" },
      seed: { type: "string" },
    });
    if (positionals.length > 0) {
      throw new UsageError(`unexpected argument "${positionals[0]}"; give the scale as --scale`);
    }
    const scale = checkScale(values.scale);
    const maxTime = values["max-time"] === undefined
      ? undefined
      : numberOption("max-time", { value: values["max-time"], fallback: 0 });
    if (maxTime !== undefined && !(maxTime > 0)) {
      throw new UsageError(`--max-time must be a positive number of seconds, got ${maxTime}`);
    }
    const seed = numberOption("seed", { value: values.seed, fallback: 0 });
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new UsageError(`--seed must be a whole number ≥ 0, got ${values.seed}`);
    }
    const backend = checkBackend(values.backend);
    const path = values.out ?? `stress-${scale}.json`;
    // Before any work: a typo in --out costs a second, not a whole run.
    await checkOutputPath(path, { allowed: ["json"] });

    const plan = stressPlan(scale);
    using stop = stopOnInterrupt();
    const progress = out.progress(`stress ${scale}`);
    // On a terminal a stream stopped early leaves its bar on the line: the next note replaces it.
    const clearBar = Deno.stderr.isTerminal() ? "\r\x1b[K" : "";
    const report = await runStress(plan, {
      backend,
      seed,
      maxSeconds: maxTime,
      signal: stop.signal,
      onProgress: (done, total) => progress(done, total, "samples"),
      onSection: (name) => name !== "stream" && out.note(`${clearBar}stress ${scale}: ${name}`),
    });
    const tables = stressTables(report);
    out.say(tables);
    const record = await buildRecord({
      command: `stress --scale ${scale}${maxTime === undefined ? "" : ` --max-time ${maxTime}`}`,
      startedAt: report.startedAt,
      totalSeconds: report.seconds,
      samples: report.stream.done,
      sampleSeconds: report.stream.seconds,
      backend,
      // `auto` may have sent work to a GPU: then the pool's counters say how much.
      gpuUsed: backend !== "wasm",
      rss: report.rss,
      model: report.gradient === null ? undefined : {
        name: report.gradient.spec,
        parameters: report.gradient.parameters,
        sizeMb: report.gradient.parameters * 4 / 1e6,
      },
      metrics: stressMetrics(report),
      details: report,
    });
    const written = await writeRecord(path, record, tables + "\n");
    out.note(`stress ${scale}: record ${written.json}, report ${written.text}`);
    const s = report.stream;
    out.summary({
      scale,
      end: s.end,
      samples: s.done,
      planned: s.planned,
      samplesPerSecond: s.samplesPerSecond,
      projectedSeconds: s.projectedSeconds,
      peakRssBytes: report.rss.peakBytes,
      gradientPassed: report.gradient === null
        ? null
        : report.gradient.maxRelativeError < report.gradient.tolerance,
      outputs: [written.json, written.text],
    });
    if (stop.signal.aborted) return 130;
    return report.gradient !== null &&
        !(report.gradient.maxRelativeError < report.gradient.tolerance)
      ? 1
      : 0;
  },
};

function checkScale(value: string | undefined): StressScale | "tiny" {
  if (value === undefined) {
    throw new UsageError(`--scale is required: one of ${STRESS_SCALES.join(", ")}`);
  }
  if (value === "tiny" || (STRESS_SCALES as readonly string[]).includes(value)) {
    return value as StressScale | "tiny";
  }
  // §1 and `synth` call the largest one extra-large.
  if (value === "extra-large") return "xl";
  throw new UsageError(
    `unknown scale "${value}"${didYouMean(value, { known: STRESS_SCALES })} ` +
      `(choose from ${STRESS_SCALES.join(", ")})`,
  );
}
