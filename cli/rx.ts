/**
 * `deno run -A cli.ts rx --input cube --out scores.(npy|h5|hdr)`: global RX (streamed fit, then
 * scoring chunk by chunk) or, with `--window inner,outer`, local RX; `--top K` also writes the K
 * highest-scoring pixels as CSV. Writing the outputs is in `./_rx_output.ts`.
 *
 * @module
 */

import { type Command, type CommandOutput, UsageError } from "./_command.ts";
import {
  CUBE_FILE_OPTIONS,
  LAYOUT_HELP,
  numberOption,
  parseCommandArgs,
  PIXEL_SELECTION_OPTIONS,
  PIXEL_SELECTION_USAGE,
} from "./_args.ts";
import { selectionNote } from "./_selection.ts";
import { checkBackend } from "./_backend_flag.ts";
import { checkOutputPath } from "./_out_path.ts";
import { type RxRun, topPath, writeRxOutputs } from "./_rx_output.ts";
import { CHUNK_ROWS, openCubeInput } from "./_cube_input.ts";
import type { CubeSource } from "../io/cube_source.ts";
import { RxDetector } from "../ops/rx.ts";
import { rxLocal } from "../ops/rx_local.ts";
import { releaseGpu } from "../gpu/device.ts";

const USAGE = `usage: deno run -A cli.ts rx --input FILE --out OUT [options]

Scores every pixel of FILE by RX (squared Mahalanobis distance to the background).

  --input FILE       .npy, .h5/.hdf5 (with --dataset) or an ENVI .hdr
  --dataset PATH     the dataset inside an HDF5 input, e.g. /cube (default: its only
                     numeric dataset of 2 to 4 axes, else the only float one)
${LAYOUT_HELP}
  --allow-external   let the input read other files (an ENVI data file outside the header's
                     folder; HDF5 external links, external storage, virtual datasets); refused by
                     default: trusted inputs only
  --out OUT          .npy, .h5 (dataset /scores, chunked, gzip, with the run's attributes:
                     eps, rank, condition_number, input, bands_used, prism_version, ...) or
                     ENVI .hdr/.img (an H x W float32 image; map info, description and the
                     input's wavelengths kept from an ENVI input); H x W for cubes
  --top K            also write the K highest scores as CSV (x, y, sample, score)
  --top-out FILE     where the --top table goes (default: OUT with .top.csv)
  --backend B        auto | wasm | webgpu (default auto)
  --eps E            diagonal regularisation of the covariance (default 1e-6)
  --window I,O       local RX with inner and outer odd window sizes, e.g. 3,9
  --skip-invalid     fit without pixels holding NaN or infinity (they still fail at scoring)
  --robust           fit the background without outliers (reweighted MCD, support 0.75): reads
                     the file several times (passes are reported); for many pixels sharing one
                     anomaly signature, which plain RX scores lowest
${PIXEL_SELECTION_USAGE}
  Pixels left out (no-data, masked) are not in the fit and score NaN in OUT.`;

/** The `rx` command. */
export const rxCommand: Command = {
  name: "rx",
  summary: "RX anomaly scores of a cube file (global, or local with --window)",
  example: "deno run -A cli.ts rx --input cube.npy --out rx.h5 --top 5",
  usage: USAGE,
  async run(args, out) {
    const { values } = parseCommandArgs(args, {
      ...CUBE_FILE_OPTIONS,
      ...PIXEL_SELECTION_OPTIONS,
      eps: { type: "string" },
      window: { type: "string" },
      "skip-invalid": { type: "boolean", default: false },
      robust: { type: "boolean", default: false },
      top: { type: "string" },
      "top-out": { type: "string" },
    });
    if (!values.input) throw new UsageError("--input is required");
    if (!values.out) throw new UsageError("--out is required");
    const format = await checkOutputPath(values.out, { allowed: ["npy", "h5", "hdr"] });
    const top = values.top === undefined ? undefined : topCount(values.top);
    if (values["top-out"] !== undefined && top === undefined) {
      throw new UsageError("--top-out names the file of the --top table: give --top K too");
    }
    const topOut = top === undefined ? undefined : values["top-out"] ?? topPath(values.out);
    if (topOut !== undefined) {
      await checkOutputPath(topOut, {
        allowed: ["csv"],
        flag: values["top-out"] ? "--top-out" : "--top",
      });
    }
    const backend = checkBackend(values.backend);
    const eps = numberOption("eps", { value: values.eps, fallback: 1e-6 });
    if (eps < 0) throw new UsageError(`--eps must be ≥ 0, got ${eps}`);
    const window = values.window === undefined ? undefined : parseWindow(values.window);
    if (window && values.robust) {
      throw new UsageError("--robust fits global RX; it does not apply to local RX (--window)");
    }
    const { source, dataset } = await openCubeInput("rx", { ...values, input: values.input }, out);
    if (format === "hdr" && source.height === undefined) {
      source.close();
      throw new UsageError(
        `--out ${values.out}: an ENVI image needs an image input (H x W x C); ${values.input} ` +
          `is a pixel list: write .npy or .h5`,
      );
    }
    const t0 = performance.now();
    let scores: Float32Array;
    let run: RxRun["fit"];
    try {
      if (window) {
        if (source.height === undefined || source.width === undefined) {
          throw new UsageError(
            `--window needs an image (H x W x C), ${values.input} is a pixel list`,
          );
        }
        scores = await localScores(source, { window, eps, input: values.input, out });
        out.say(`rx local (${window.join(", ")}): ${source.rows} pixels x ${source.bands} bands`);
        run = { eps, window };
      } else {
        const fitProgress = out.progress("rx fit");
        // A robust fit reads the file once per pass, so it gets the source, not one stream.
        const rows = { chunks: () => source.chunks(CHUNK_ROWS) };
        const rx = await new RxDetector().fit(values.robust ? rows : rows.chunks(), {
          eps,
          backend,
          skipInvalid: values["skip-invalid"],
          robust: values.robust,
          onProgress: (p) => fitProgress(p.done, source.rows, p.unit),
        });
        const scoreProgress = out.progress("rx score");
        scores = new Float32Array(source.rows);
        let done = 0;
        for await (const chunk of source.chunks(CHUNK_ROWS)) {
          // A selected chunk scores every pixel it covers: NaN where one was left out.
          scores.set(await rx.score(chunk, { backend }), chunk.start);
          done += chunk.pixels;
          scoreProgress(done, source.rows, "pixels");
        }
        const s = rx.stats;
        run = {
          eps: s.eps,
          rank: s.rank,
          conditionNumber: s.conditionNumber,
          count: s.count,
          skipped: s.skipped,
          excluded: s.excluded,
        };
        out.say(
          `rx: ${s.count} pixels x ${s.bands} bands${s.skipped ? ` (${s.skipped} skipped)` : ""}${
            selectionNote(s.excluded, source.selection)
          }, ` +
            `rank ${s.rank}, condition number ${s.conditionNumber.toExponential(3)}, eps ${s.eps}`,
        );
        if (s.robust) {
          const r = s.robust;
          out.say(
            `robust fit: kept ${r.kept} of ${r.pixels} pixels (${(r.trimmed * 100).toFixed(1)} % ` +
              `trimmed), support ${r.support}, ${r.steps} C-steps, ${r.passes} passes` +
              (r.converged ? "" : " (not converged: raise maxSteps)"),
          );
        }
      }
    } finally {
      source.close();
      await releaseGpu();
    }
    const secs = (performance.now() - t0) / 1000;
    const shape = [...source.pixelShape];
    const written = await writeRxOutputs(scores, {
      out: values.out,
      format,
      top: top === undefined ? undefined : { k: top, path: topOut! },
      input: values.input,
      dataset,
      allowExternal: values["allow-external"],
      source,
      fit: run,
    });
    out.say(
      `time ${secs.toFixed(2)} s, ${(source.rows / secs / 1e6).toFixed(2)} Mpixel/s, ` +
        `${(source.rows * source.bands * 4 / secs / 1e9).toFixed(3)} GB/s -> ` +
        `${written.join(", ")} [${shape.join(" x ")}]`,
    );
    out.summary({
      input: values.input,
      ...(dataset === undefined ? {} : { dataset }),
      outputs: written,
      shape,
      pixels: source.rows,
      bands: source.bands,
      ...run,
      seconds: secs,
    });
    return 0;
  },
};

function topCount(text: string): number {
  const k = numberOption("top", { value: text, fallback: 0 });
  if (!Number.isInteger(k) || k < 1) {
    throw new UsageError(`--top must be a whole number ≥ 1 (rows of the table), got "${text}"`);
  }
  return k;
}

/**
 * Local RX of an image, or of each image of a stack on its own (a window never reaches into the
 * next sample), streamed a few whole samples at a time.
 */
async function localScores(
  source: CubeSource,
  options: { window: [number, number]; eps: number; input: string; out: CommandOutput },
): Promise<Float32Array> {
  const { window: [inner, outer], eps } = options;
  const progress = options.out.progress("rx local");
  const lines = source.height!, width = source.width!, bands = source.bands;
  // A stack's pixel shape is [N, H, W]; an image's [H, W] is one sample of all its lines.
  const perSample = source.pixelShape.length === 3 ? source.pixelShape[1] : lines;
  const scores = new Float32Array(source.rows);
  let done = 0;
  const parts = source.pixelShape.length === 3 ? source.chunks(CHUNK_ROWS) : (async function* () {
    yield await source.readAll();
  })();
  for await (const chunk of parts) {
    if (chunk.kept !== undefined) {
      throw new UsageError(
        `--window: ${chunk.pixels - chunk.rows} pixels of ${options.input} are no-data or ` +
          `masked, and local RX cannot leave pixels out of its windows yet; use global RX ` +
          `(no --window), or fill those pixels first`,
      );
    }
    const height = chunk.rows / width;
    const before = done / width;
    scores.set(
      await rxLocal({ data: chunk.data, height, width, bands }, {
        inner,
        outer,
        eps,
        samples: height / perSample,
        onProgress: (p) => progress(before + p.done, lines, p.unit),
      }),
      done,
    );
    done += chunk.rows;
  }
  return scores;
}

function parseWindow(text: string): [number, number] {
  const parts = text.split(",").map((s) => Number(s.trim()));
  if (parts.length !== 2 || !parts.every((n) => Number.isInteger(n) && n >= 1 && n % 2 === 1)) {
    throw new UsageError(`--window must be two odd sizes "inner,outer", e.g. 3,9; got "${text}"`);
  }
  if (parts[0] >= parts[1]) {
    throw new UsageError(`--window inner must be smaller than outer, got "${text}"`);
  }
  return [parts[0], parts[1]];
}
