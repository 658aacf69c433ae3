/**
 * `deno run -A cli.ts shard --op cov|rx-fit|gram --input FILE [--rows a:b] --out state.json|h5`:
 * one shard's mergeable state, written atomically, for any engine that maps work over files or
 * row ranges (Dask: `integrations/dask/`); `--op rx-score --model rx.json` scores a shard with a
 * fitted detector instead. A shard is idempotent: running it again writes the same file.
 *
 * @module
 */

import { resolve } from "node:path";
import { type Command, UsageError } from "./_command.ts";
import {
  CUBE_FILE_OPTIONS,
  LAYOUT_HELP,
  parseCommandArgs,
  PIXEL_SELECTION_OPTIONS,
  PIXEL_SELECTION_USAGE,
} from "./_args.ts";
import { checkBackend } from "./_backend_flag.ts";
import { checkOutputPath } from "./_out_path.ts";
import { selectionFields } from "./_selection.ts";
import { CHUNK_ROWS, openCubeInput } from "./_cube_input.ts";
import type { CubeSource, PixelRange } from "../io/cube_source.ts";
import { writeNpy } from "../io/npy.ts";
import { writeHdf5 } from "../io/hdf5.ts";
import { CovarianceAccumulator } from "../ops/covariance_accumulator.ts";
import { RxDetector } from "../ops/rx.ts";
import { SHARD_OPS, type ShardOp, ShardState } from "../ops/shard_state.ts";
import { writeShardFile } from "../ops/_shard_file.ts";
import type { Backend } from "../core/types.ts";

const USAGE = `usage: deno run -A cli.ts shard --op OP --input FILE --out OUT [options]

Computes one shard's state (all pixels of FILE, or --rows a:b of them) for 'cli.ts merge', which
merges states exactly (Chan's update in float64) and finishes them. The state records its input,
row range, bands, selection, host and prism version, so wrong merges are refused.

  --op OP          cov | rx-fit | gram: what the merged state finishes into (a covariance, an
                   RX detector, singular values); rx-score: score the pixels with --model
  --input FILE     .npy, .h5/.hdf5 (with --dataset) or an ENVI .hdr
  --dataset PATH   the dataset inside an HDF5 input (default: its only candidate)
${LAYOUT_HELP}
  --rows A:B       pixels A to B-1 only (in file order: line by line); A: or :B leave an end
                   open; default all
  --allow-external let the input read other files (trusted inputs only)
  --out OUT        the state: .json or .h5; for rx-score the scores: .npy or .h5 (float32,
                   one per pixel of the shard, NaN where left out)
  --model FILE     rx-score: the fitted detector (.json/.h5 from 'merge --finish' or rx)
  --backend B      auto | wasm | webgpu (default auto)
  --skip-invalid   leave pixels with NaN or infinity out of the state (counted as skipped)
${PIXEL_SELECTION_USAGE}`;

/** The `shard` command. */
export const shardCommand: Command = {
  name: "shard",
  summary: "one shard's mergeable state (cov, rx-fit, gram) or RX scores, for clusters",
  example: "deno run -A cli.ts shard --op rx-fit --input cube.npy --rows 0:4096 --out part.json",
  usage: USAGE,
  async run(args, out) {
    const { values } = parseCommandArgs(args, {
      ...CUBE_FILE_OPTIONS,
      ...PIXEL_SELECTION_OPTIONS,
      op: { type: "string" },
      rows: { type: "string" },
      model: { type: "string" },
      "skip-invalid": { type: "boolean", default: false },
    });
    const op = values.op;
    if (op === undefined) throw new UsageError(`--op is required: ${[...OPS].join(", ")}`);
    if (!OPS.includes(op)) {
      throw new UsageError(`--op must be ${OPS.join(", ")}, got "${op}"`);
    }
    if (!values.input) throw new UsageError("--input is required");
    if (!values.out) throw new UsageError("--out is required");
    const scoring = op === "rx-score";
    if (scoring !== (values.model !== undefined)) {
      throw new UsageError(
        scoring ? "--op rx-score needs --model FILE" : `--model is for --op rx-score only`,
      );
    }
    const format = await checkOutputPath(values.out, {
      allowed: scoring ? ["npy", "h5"] : ["json", "h5"],
    });
    const backend = checkBackend(values.backend);
    const model = values.model === undefined ? undefined : await RxDetector.load(values.model);
    const input = values.input;
    const opened = await openCubeInput("shard", { ...values, input }, out);
    const { source, dataset } = opened;
    const t0 = performance.now();
    let pixels: number;
    try {
      const range = parseRows(values.rows, source.rows, input);
      pixels = range.end - range.start;
      if (model !== undefined) {
        const scores = await scoreShard(source, { range, model, backend });
        await writeScores(values.out, scores, { format, range, source, input });
      } else {
        const acc = await accumulate(source, {
          range,
          backend,
          skipInvalid: values["skip-invalid"],
        });
        const selection = Object.fromEntries(
          Object.entries(selectionFields(source.selection)).map(([k, v]) => [k, String(v)]),
        );
        const state = ShardState.of(acc, {
          op: op as ShardOp,
          selection,
          sources: [{
            input: resolve(input),
            ...(dataset === undefined ? {} : { dataset }),
            rows: [range.start, range.end],
            host: Deno.hostname(),
          }],
        });
        await writeShardFile(values.out, state);
      }
    } finally {
      source.close();
    }
    const seconds = (performance.now() - t0) / 1000;
    // file_pixels: what --rows counts, so a scheduler can cut the file into row ranges.
    out.summary({
      op,
      input,
      outputs: [values.out],
      pixels,
      file_pixels: source.rows,
      bands: source.bands,
      seconds,
    });
    out.say(
      `shard ${op}: ${pixels} pixels x ${source.bands} bands of ${input} in ` +
        `${seconds.toFixed(2)} s -> ${values.out}`,
    );
    return 0;
  },
};

/** `shard`'s operations: the state ones and scoring. */
const OPS: readonly string[] = [...SHARD_OPS, "rx-score"];

/**
 * Parses `--rows A:B` (either end may be left open) against a source of `rows` pixels.
 *
 * @throws {UsageError} When it is not `A:B` of whole numbers within `0..rows`, `A <= B`.
 */
function parseRows(text: string | undefined, rows: number, input: string): PixelRange {
  if (text === undefined) return { start: 0, end: rows };
  const m = /^\s*(\d*)\s*:\s*(\d*)\s*$/.exec(text);
  const start = m === null ? NaN : m[1] === "" ? 0 : Number(m[1]);
  const end = m === null ? NaN : m[2] === "" ? rows : Number(m[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) {
    throw new UsageError(
      `--rows must be A:B with whole numbers A <= B, e.g. 0:65536; got "${text}"`,
    );
  }
  if (start > end || end > rows) {
    throw new UsageError(
      `--rows ${text} does not fit ${input}, which holds ${rows} pixels; give 0 <= A <= B <= ${rows}`,
    );
  }
  return { start, end };
}

async function accumulate(
  source: CubeSource,
  options: { range: PixelRange; backend: Backend; skipInvalid: boolean },
): Promise<CovarianceAccumulator> {
  const acc = new CovarianceAccumulator(source.bands, {
    backend: options.backend,
    skipInvalid: options.skipInvalid,
  });
  for await (const chunk of source.chunks(CHUNK_ROWS, options.range)) await acc.add(chunk);
  return acc;
}

async function scoreShard(
  source: CubeSource,
  options: { range: PixelRange; model: RxDetector; backend: Backend },
): Promise<Float32Array> {
  const { range, model, backend } = options;
  const scores = new Float32Array(range.end - range.start);
  let done = 0;
  for await (const chunk of source.chunks(CHUNK_ROWS, range)) {
    // One score per pixel the chunk covers, NaN where the selection left it out.
    scores.set(await model.score(chunk, { backend }), done);
    done += chunk.pixels;
  }
  return scores;
}

/** The scores: the source's pixel shape for the whole file, else one value per shard pixel. */
async function writeScores(
  path: string,
  scores: Float32Array,
  context: { format: string; range: PixelRange; source: CubeSource; input: string },
): Promise<void> {
  const { format, range, source, input } = context;
  const whole = range.start === 0 && range.end === source.rows;
  const shape = whole ? [...source.pixelShape] : [scores.length];
  if (format === "npy") {
    await writeNpy(path, { data: scores, shape });
    return;
  }
  await writeHdf5(path, {
    attrs: { input, rows: [range.start, range.end] },
    datasets: [{ path: "scores", data: scores, shape }],
  });
}
