/**
 * `deno run -A cli.ts cov --input X --out stats.(json|h5|npy)`: streams the mean and covariance
 * of every pixel of a `.npy`, HDF5 or ENVI file.
 *
 * @module
 */

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
import { PRISM } from "./_version.ts";
import { selectionFields, selectionNote } from "./_selection.ts";
import { CHUNK_ROWS, openCubeInput } from "./_cube_input.ts";
import { covariance } from "../ops/covariance.ts";
import { writeCovarianceFile } from "./_cov_output.ts";

const USAGE = `usage: deno run -A cli.ts cov --input FILE --out OUT [options]

Streams the mean and covariance (ddof 1) of every pixel of FILE.

  --input FILE     .npy (pixels x bands, H x W x C or N x H x W x C), .h5/.hdf5 or an
                   ENVI .hdr
  --dataset PATH   the dataset inside an HDF5 input, e.g. /cube (default: its only numeric
                   dataset of 2 to 4 axes, else the only float one)
${LAYOUT_HELP}
  --allow-external let the input read other files (an ENVI data file outside the header's
                   folder; HDF5 external links, external storage, virtual datasets); refused by
                   default: trusted inputs only
  --out OUT        .npy (the C x C covariance, float64), .json (count, bands, skipped, mean,
                   covariance as C rows of C) or .h5 (the same, with input and prism_version)
  --backend B      auto | wasm | webgpu (default auto)
  --skip-invalid   skip pixels with NaN or infinity instead of failing
${PIXEL_SELECTION_USAGE}`;

/** The `cov` command. */
export const covCommand: Command = {
  name: "cov",
  summary: "mean and covariance of a cube file (.npy, .h5, ENVI), streamed",
  example: "deno run -A cli.ts cov --input cube.npy --out cov.h5",
  usage: USAGE,
  async run(args, out) {
    const { values } = parseCommandArgs(args, {
      ...CUBE_FILE_OPTIONS,
      ...PIXEL_SELECTION_OPTIONS,
      "skip-invalid": { type: "boolean", default: false },
    });
    if (!values.input) throw new UsageError("--input is required");
    if (!values.out) throw new UsageError("--out is required");
    const format = await checkOutputPath(values.out, { allowed: ["json", "h5", "npy"] });
    const backend = checkBackend(values.backend);
    const { source, dataset } = await openCubeInput("cov", { ...values, input: values.input }, out);
    const t0 = performance.now();
    const progress = out.progress("cov");
    let result;
    try {
      result = await covariance(source.chunks(CHUNK_ROWS), {
        backend,
        skipInvalid: values["skip-invalid"],
        onProgress: (p) => progress(p.done, source.rows, p.unit),
      });
    } finally {
      source.close();
    }
    const secs = (performance.now() - t0) / 1000;
    const { count, bands, skipped, excluded } = result;
    const selection = selectionFields(source.selection);
    await writeCovarianceFile(values.out, {
      format,
      result,
      fields: selection,
      attrs: {
        input: values.input,
        ...(dataset === undefined ? {} : { dataset }),
        prism_version: PRISM.version,
      },
    });
    out.summary({
      input: values.input,
      ...(dataset === undefined ? {} : { dataset }),
      outputs: [values.out],
      count,
      bands,
      skipped,
      excluded,
      ...selection,
      seconds: secs,
    });
    out.say(
      `cov: ${count} pixels x ${bands} bands${skipped ? ` (${skipped} skipped)` : ""}` +
        `${selectionNote(excluded, source.selection)} in ` +
        `${secs.toFixed(2)} s (${(count / secs / 1e6).toFixed(2)} Mpixel/s, ` +
        `${(count * bands * 4 / secs / 1e9).toFixed(2)} GB/s) -> ${values.out}`,
    );
    return 0;
  },
};
