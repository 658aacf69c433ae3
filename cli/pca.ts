/**
 * `deno run -A cli.ts pca --input cube --components K --out comps.(npy|h5) [--method mnf]`: PCA
 * or MNF of a cube file (one streamed fit pass, then the transform chunk by chunk).
 *
 * @module
 */

import { type Command, UsageError } from "./_command.ts";
import {
  CUBE_FILE_OPTIONS,
  LAYOUT_HELP,
  numberOption,
  parseCommandArgs,
  PIXEL_SELECTION_OPTIONS,
  PIXEL_SELECTION_USAGE,
} from "./_args.ts";
import { checkBackend } from "./_backend_flag.ts";
import { checkOutputPath } from "./_out_path.ts";
import { CHUNK_ROWS, openCubeInput } from "./_cube_input.ts";
import { writePixelArray } from "./_pixel_output.ts";
import type { PixelChunk } from "../io/pixel_selection.ts";
import { pca } from "../ops/pca.ts";
import { mnf, type NoiseDirection } from "../ops/mnf.ts";
import type { Projection } from "../ops/projection.ts";
import { releaseGpu } from "../gpu/device.ts";

const USAGE = `usage: deno run -A cli.ts pca --input FILE --components K --out OUT [options]

Projects every pixel of FILE onto its K leading principal components (PCA, by variance) or
minimum noise fraction components (--method mnf, by signal-to-noise ratio).

  --input FILE       .npy, .h5/.hdf5 (with --dataset) or an ENVI .hdr
  --dataset PATH     the dataset inside an HDF5 input, e.g. /cube (default: its only
                     numeric dataset of 2 to 4 axes, else the only float one)
${LAYOUT_HELP}
  --allow-external   let the input read other files (see rx --help); trusted inputs only
  --components K     components to keep (1 to bands; for MNF, to the noise covariance's rank)
  --out OUT          .npy or .h5 (dataset /components): H x W x K for cubes, float32
  --method M         pca (default) or mnf: the noise covariance is half the covariance of
                     differences between neighbouring pixels (spectral Python's
                     noise_from_diffs); MNF needs an image (H x W x C), not a pixel list
  --direction D      MNF's neighbour: lowerright (default), lowerleft, right or lower
  --backend B        auto | wasm | webgpu (default auto)
${PIXEL_SELECTION_USAGE}
  PCA leaves no-data and masked pixels out of the fit and writes NaN components for them; MNF
  differences neighbouring pixels, so it refuses inputs with pixels left out.`;

const DIRECTIONS = ["lowerright", "lowerleft", "right", "lower"];

/** The `pca` command. */
export const pcaCommand: Command = {
  name: "pca",
  summary: "PCA or MNF (--method mnf) components of a cube file, streamed",
  example: "deno run -A cli.ts pca --input cube.npy --components 3 --out pca.npy",
  usage: USAGE,
  async run(args, out) {
    const { values } = parseCommandArgs(args, {
      ...CUBE_FILE_OPTIONS,
      ...PIXEL_SELECTION_OPTIONS,
      components: { type: "string" },
      method: { type: "string", default: "pca" },
      direction: { type: "string", default: "lowerright" },
    });
    if (!values.input) throw new UsageError("--input is required");
    if (!values.out) throw new UsageError("--out is required");
    if (values.components === undefined) throw new UsageError("--components is required");
    const components = numberOption("components", { value: values.components, fallback: 0 });
    if (!Number.isInteger(components) || components < 1) {
      throw new UsageError(`--components must be a whole number ≥ 1, got ${values.components}`);
    }
    if (values.method !== "pca" && values.method !== "mnf") {
      throw new UsageError(`--method must be pca or mnf, got "${values.method}"`);
    }
    if (!DIRECTIONS.includes(values.direction)) {
      throw new UsageError(
        `--direction must be one of ${DIRECTIONS.join(", ")}, got "${values.direction}"`,
      );
    }
    const format = await checkOutputPath(values.out, { allowed: ["npy", "h5"] });
    const backend = checkBackend(values.backend);
    const { source, dataset } = await openCubeInput(
      "pca",
      { ...values, input: values.input },
      out,
    );
    const t0 = performance.now();
    const method = values.method;
    const rows = {
      ...sourceShape(source),
      chunks: () => wholeLines(source.chunks(CHUNK_ROWS), method, values.input!),
    };
    let projection: Projection;
    let projected: Float32Array;
    try {
      const fitProgress = out.progress(`${values.method} fit`);
      const onProgress = (p: { done: number; unit: string }) =>
        fitProgress(p.done, source.rows, p.unit);
      if (values.method === "pca") {
        const p = await pca(rows, { components, backend, onProgress });
        projection = p.projection;
        out.say(
          `pca: ${p.count} pixels x ${p.bands} bands; eigenvalues ${list(p.explainedVariance)}; ` +
            `explained ${(p.explainedVarianceRatio.reduce((a, b) => a + b, 0) * 100).toFixed(2)} %`,
        );
      } else {
        if (source.width === undefined) {
          throw new UsageError(
            `--method mnf needs an image (H x W x C), ${values.input} is a pixel list`,
          );
        }
        const m = await mnf(rows, {
          components,
          backend,
          direction: values.direction as NoiseDirection,
          onProgress,
        });
        projection = m.projection;
        out.say(
          `mnf: ${m.count} pixels x ${m.bands} bands, ${m.noisePairs} noise pairs ` +
            `(${values.direction}), noise rank ${m.noiseRank}; eigenvalues (≈ SNR + 1) ` +
            list(m.eigenvalues.subarray(0, components)),
        );
      }
      projected = new Float32Array(source.rows * components);
      const progress = out.progress(`${values.method} transform`);
      let done = 0;
      for await (const chunk of rows.chunks()) {
        const y = await projection.transform(chunk, { backend });
        placeRows(projected, { values: y.data, chunk, width: components });
        done += chunk.pixels;
        progress(done, source.rows, "pixels");
      }
    } finally {
      source.close();
      await releaseGpu();
    }
    const shape = [...source.pixelShape, components];
    await writePixelArray(values.out, {
      format,
      data: projected,
      shape,
      dataset: "components",
    });
    const secs = (performance.now() - t0) / 1000;
    out.say(`time ${secs.toFixed(2)} s -> ${values.out} [${shape.join(" x ")}]`);
    out.summary({
      input: values.input,
      ...(dataset === undefined ? {} : { dataset }),
      method,
      components,
      shape,
      outputs: [values.out],
      seconds: secs,
    });
    return 0;
  },
};

/**
 * The chunks as they come, except that MNF, which differences neighbouring pixels of whole
 * lines, refuses chunks with pixels left out (no-data, masked).
 */
async function* wholeLines(
  chunks: AsyncIterable<PixelChunk>,
  method: string,
  input: string,
): AsyncGenerator<PixelChunk> {
  for await (const chunk of chunks) {
    if (method === "mnf" && chunk.kept !== undefined) {
      throw new UsageError(
        `--method mnf: ${chunk.pixels - chunk.rows} pixels of ${input} are no-data or masked, ` +
          `and MNF's noise estimate differences neighbouring pixels; use --method pca, or fill ` +
          `those pixels first`,
      );
    }
    yield chunk;
  }
}

/** Puts `width` values per kept pixel of `chunk` at its pixels' rows of `all`; NaN rows elsewhere. */
function placeRows(
  all: Float32Array,
  part: { values: Float32Array; chunk: PixelChunk; width: number },
): void {
  const { values, chunk, width } = part;
  if (chunk.kept === undefined) {
    all.set(values, chunk.start * width);
    return;
  }
  let row = 0;
  for (let p = 0; p < chunk.pixels; p++) {
    const at = (chunk.start + p) * width;
    if (chunk.kept[p]) all.set(values.subarray(row * width, ++row * width), at);
    else all.fill(NaN, at, at + width);
  }
}

/** The fields of a source that MNF reads (bands, line width, image stack shape). */
function sourceShape(s: { bands: number; width?: number; pixelShape: readonly number[] }) {
  return { bands: s.bands, width: s.width, pixelShape: s.pixelShape };
}

function list(values: Float64Array): string {
  const shown = [...values.subarray(0, 6)].map((v) => v.toPrecision(4)).join(", ");
  return `[${shown}${values.length > 6 ? ", ..." : ""}]`;
}
