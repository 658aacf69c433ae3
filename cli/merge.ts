/**
 * `deno run -A cli.ts merge STATE... --out OUT [--finish]`: merges shard states (`cli.ts shard`)
 * exactly, refusing states that do not belong together, and writes the merged state or, with
 * `--finish`, what the shards' operation asks for: a covariance, an RX detector or singular
 * values.
 *
 * @module
 */

import { type Command, UsageError } from "./_command.ts";
import { numberOption, parseCommandArgs } from "./_args.ts";
import { checkOutputPath } from "./_out_path.ts";
import { writeCovarianceFile } from "./_cov_output.ts";
import { PRISM } from "./_version.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { writeNpy } from "../io/npy.ts";
import { writeHdf5 } from "../io/hdf5.ts";
import { InvalidDataError } from "../core/errors.ts";
import type { ShardState } from "../ops/shard_state.ts";
import { readShardFile, writeShardFile } from "../ops/_shard_file.ts";

const USAGE = `usage: deno run -A cli.ts merge STATE... --out OUT [options]

Merges shard states written by 'cli.ts shard' (Chan's update in float64: the result equals one
pass over all pixels up to the float32 rounding inside the kernels' blocks). States of different
operations, band counts, selections or prism versions, and shards that share pixels (a shard
given twice, overlapping --rows), are refused with the shards named.

  STATE...     .json or .h5 states (at least one)
  --out OUT    without --finish: the merged state (.json or .h5), to merge again later;
               with --finish, by the shards' --op:
                 cov     .json, .h5 or .npy: count, mean and covariance (as 'cli.ts cov')
                 rx-fit  .json or .h5: the RX detector ('shard --op rx-score --model OUT')
                 gram    .json, .h5 or .npy: the singular values of all pixels, largest first
  --finish     finish the merged state as above
  --eps E      rx-fit: diagonal regularisation of the covariance (default 1e-6)
  --ddof D     cov: delta degrees of freedom (default 1)`;

/** What `--finish` writes, by operation. */
const FINISH_FORMATS: Readonly<Record<string, readonly string[]>> = {
  cov: ["json", "h5", "npy"],
  "rx-fit": ["json", "h5"],
  gram: ["json", "h5", "npy"],
};

/** The `merge` command. */
export const mergeCommand: Command = {
  name: "merge",
  summary: "merge shard states exactly; --finish into covariance, RX detector or singular values",
  example: "deno run -A cli.ts merge part.json --finish --out rx_model.json",
  usage: USAGE,
  async run(args, out) {
    const { values, positionals } = parseCommandArgs(args, {
      out: { type: "string" },
      finish: { type: "boolean", default: false },
      eps: { type: "string" },
      ddof: { type: "string" },
    });
    if (positionals.length === 0) throw new UsageError("give at least one STATE file to merge");
    if (!values.out) throw new UsageError("--out is required");
    const eps = numberOption("eps", { value: values.eps, fallback: 1e-6 });
    const ddof = numberOption("ddof", { value: values.ddof, fallback: 1 });
    if (!values.finish && (values.eps !== undefined || values.ddof !== undefined)) {
      throw new UsageError("--eps and --ddof apply to --finish only");
    }
    // The output is checked before any state is read, and again for the operation it needs.
    const allowed = values.finish ? ["json", "h5", "npy"] : ["json", "h5"];
    await checkOutputPath(values.out, { allowed });
    const t0 = performance.now();
    const state = await mergeFiles(positionals);
    if (!values.finish) {
      await writeShardFile(values.out, state);
    } else {
      const format = await checkOutputPath(values.out, { allowed: FINISH_FORMATS[state.op] });
      await finish(state, { path: values.out, format, eps, ddof });
    }
    const seconds = (performance.now() - t0) / 1000;
    out.summary({
      op: state.op,
      states: positionals.length,
      shards: state.sources.length,
      count: state.count,
      bands: state.bands,
      outputs: [values.out],
      seconds,
    });
    out.say(
      `merge ${state.op}: ${positionals.length} states (${state.sources.length} shards, ` +
        `${state.count} pixels x ${state.bands} bands) in ${seconds.toFixed(2)} s -> ${values.out}`,
    );
    return 0;
  },
};

/** Reads the states in order and merges each into the first; a refusal names the file. */
async function mergeFiles(paths: string[]): Promise<ShardState> {
  const state = await readShardFile(paths[0]);
  for (const path of paths.slice(1)) {
    const next = await readShardFile(path);
    try {
      state.merge(next);
    } catch (error) {
      if (!(error instanceof InvalidDataError)) throw error;
      throw new InvalidDataError(`merging ${path}: ${error.message}`, { cause: error });
    }
  }
  return state;
}

async function finish(
  state: ShardState,
  options: { path: string; format: string; eps: number; ddof: number },
): Promise<void> {
  const { path, format, eps, ddof } = options;
  const attrs = {
    shards: state.sources.length,
    prism_version: PRISM.version,
    inputs: [...new Set(state.sources.map((s) => s.input))],
  };
  if (state.op === "cov") {
    const fields = state.toJSON().selection;
    await writeCovarianceFile(path, { format, result: state.covariance(ddof), fields, attrs });
  } else if (state.op === "rx-fit") {
    await (await state.detector({ eps })).save(path);
  } else {
    const s = await state.singularValues();
    if (format === "npy") await writeNpy(path, { data: s, shape: [s.length] });
    else if (format === "json") {
      const json = { count: state.count, bands: state.bands, singular_values: [...s] };
      await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(json)));
    } else {
      await writeHdf5(path, {
        attrs: { count: state.count, bands: state.bands, ...attrs },
        datasets: [{ path: "singular_values", data: s, shape: [s.length] }],
      });
    }
  }
}
