/**
 * `cli.ts spectrum`: singular values and dimensionality metrics of an activation file.
 *
 * @module
 */

import { extname } from "node:path";
import type { Backend, Matrix, Tensor } from "../core/types.ts";
import { type Command, type CommandOutput, UsageError } from "./_command.ts";
import {
  parseCommandArgs,
  PIXEL_SELECTION_OPTIONS,
  PIXEL_SELECTION_USAGE,
  pixelSelectionOf,
} from "./_args.ts";
import { selectionFields, selectionNote } from "./_selection.ts";
import { PixelSelection } from "../io/pixel_selection.ts";
import { readNpy } from "../io/npy.ts";
import { readHdf5Dataset, writeHdf5 } from "../io/hdf5.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { formatCsv } from "../io/csv.ts";
import { flattenActivations } from "../track/flatten.ts";
import { spectrumOf } from "../ops/spectrum.ts";
import { spectrumMetrics } from "../ops/spectrum_metrics.ts";
import { jacobiSingularValues } from "../wasm/eigen.ts";
import { checkOutputPath } from "./_out_path.ts";
import { chooseDataset } from "./_dataset.ts";
import { PRISM } from "./_version.ts";

const USAGE = `usage: deno run -A cli.ts spectrum --input FILE [options]

Singular values and dimensionality metrics of an activation matrix.

  --input FILE     a .npy or .h5/.hdf5 file: 2-D batch x features as is, 3-D (B, T, D) as
                   (B*T) x D, 4-D NHWC (N, H, W, C) as N x (H*W*C)
  --dataset PATH   the dataset inside an HDF5 input (default: its only numeric dataset of 2
                   to 4 axes, else the only float one)
  --allow-external let an HDF5 input read other files (external links, external storage,
                   virtual datasets); refused by default
  --out FILE       also write the results: .csv (one row: shape, count, s1, s_min, metrics),
                   .json ({ input, shape, method, rows, cols, count, s1, s_min, the metrics,
                   singular_values, metrics }; method is "gram" or "exact") or .h5
                   (/singular_values, method and the metrics as root attributes); written
                   atomically
  --backend NAME   auto (default), wasm or webgpu: where the Gram product runs
  --exact          one-sided Jacobi on the matrix itself (slow; keeps tiny singular values);
                   float64 input stays float64 (the Gram route sums in float32)
${PIXEL_SELECTION_USAGE}
  Here a "pixel" is a row of the matrix and a "band" a column: the mask has the shape of the
  rows (B; B x T; N), and the results record "excluded" when a selection is given.`;

/** The `spectrum` command. */
export const spectrumCommand: Command = {
  name: "spectrum",
  summary: "singular values and dimensionality metrics of an activation file (.npy, .h5)",
  example: "deno run -A cli.ts spectrum --input cube.npy --out spectrum.csv",
  usage: USAGE,
  async run(args, out) {
    const { values, positionals } = parseCommandArgs(args, {
      input: { type: "string" },
      dataset: { type: "string" },
      "allow-external": { type: "boolean", default: false },
      out: { type: "string" },
      backend: { type: "string", default: "auto" },
      exact: { type: "boolean", default: false },
      ...PIXEL_SELECTION_OPTIONS,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (values.input === undefined) throw new UsageError("--input is required");
    const backend = values.backend as Backend;
    if (!["auto", "wasm", "webgpu"].includes(backend)) {
      throw new UsageError(`--backend must be auto, wasm or webgpu, got "${backend}"`);
    }
    const outFormat = values.out === undefined
      ? undefined
      : await checkOutputPath(values.out, { allowed: ["csv", "json", "h5"] }) as Format;
    const tensor = await readInput(values.input, {
      dataset: values.dataset,
      allowExternal: values["allow-external"],
    });
    const flat = flattenActivations(tensor);
    // Rows are the pixels: the mask has the tensor's shape without the per-row features.
    const selection = await PixelSelection.open(pixelSelectionOf(values), {
      bands: flat.matrix.cols,
      pixelShape: tensor.shape.slice(0, tensor.shape.length - flat.featureShape.length),
      name: values.input,
      allowExternal: values["allow-external"],
    });
    const matrix = selection.apply(flat.matrix);
    const excluded = matrix.pixels - matrix.rows;
    const t0 = performance.now();
    const { singularValues: s, metrics } = await spectrumOfInput(matrix, {
      backend,
      exact: values.exact,
      // The selection's rows are float32; float64 values go through only when all are kept.
      float64: selection.active ? undefined : tensor.float64,
      out,
    });
    const ms = performance.now() - t0;
    const shape = `[${tensor.shape.join(", ")}]`;
    const say = (name: string, value: unknown) => out.say(`${name.padEnd(20)} ${value}`);
    say("input", `${values.input}${values.dataset ? ` ${values.dataset}` : ""}`);
    say(
      "shape",
      `${shape} -> ${matrix.rows} x ${matrix.cols}${selectionNote(excluded, selection)}`,
    );
    say("method", values.exact ? "exact (one-sided Jacobi)" : "Gram + eigh");
    say("time", `${ms.toFixed(1)} ms`);
    say("count", s.length);
    say("s1", s[0]);
    say("s_min", s[s.length - 1]);
    for (const [name, value] of Object.entries(metrics)) say(name, value);
    const selected = selection.active ? { excluded, ...selectionFields(selection) } : {};
    if (values.out !== undefined) {
      await writeResults(values.out, outFormat!, {
        input: values.input,
        shape: tensor.shape,
        matrix,
        s,
        metrics: metrics as unknown as Record<string, number>,
        method: values.exact ? "exact" : "gram",
        selection: selected,
      });
      say("written", values.out);
    }
    out.summary({
      input: values.input,
      shape: tensor.shape,
      rows: matrix.rows,
      cols: matrix.cols,
      method: values.exact ? "exact" : "gram",
      seconds: ms / 1000,
      count: s.length,
      s1: s[0],
      s_min: s[s.length - 1],
      metrics,
      ...selected,
      ...(values.out === undefined ? {} : { outputs: [values.out] }),
    });
    return 0;
  },
};

type Format = "csv" | "json" | "h5";

/**
 * The spectrum of the flattened input. With `exact`, float64 input goes to the float64 Jacobi
 * kernel as it is (flattening only reshapes, so its values are in the matrix's order); the Gram
 * route works in float32 blocks, so there float64 input is rounded, and a note says so.
 */
async function spectrumOfInput(
  matrix: Matrix,
  options: {
    backend: Backend;
    exact: boolean;
    float64: Float64Array | undefined;
    out: CommandOutput;
  },
) {
  const { backend, exact, float64 } = options;
  if (float64 === undefined || !exact) {
    if (float64 !== undefined) {
      options.out.note(
        "prism spectrum: note: the input is float64 and the Gram route sums in float32 " +
          "blocks; pass --exact to keep every value in float64",
      );
    }
    return await spectrumOf(matrix, { backend, exact });
  }
  if (backend === "webgpu") {
    throw new UsageError("--exact runs on the CPU only; drop --backend webgpu");
  }
  const { rows, cols } = matrix;
  if (rows === 0 || cols === 0) {
    throw new UsageError(`the input flattens to ${rows} x ${cols}: no singular values`);
  }
  const s = await jacobiSingularValues({ data: float64, rows, cols });
  return { singularValues: s, metrics: spectrumMetrics(s, { shape: [rows, cols] }) };
}

async function readInput(
  path: string,
  options: { dataset: string | undefined; allowExternal: boolean },
): Promise<Tensor & { float64?: Float64Array }> {
  const { dataset, allowExternal } = options;
  const ext = extname(path).toLowerCase();
  let data: ArrayLike<number | bigint>;
  let shape: number[];
  if (ext === ".npy") {
    if (dataset !== undefined) throw new UsageError("--dataset applies to HDF5 input only");
    ({ data, shape } = await readNpy(path));
  } else if (ext === ".h5" || ext === ".hdf5") {
    const name = await chooseDataset(path, { dataset, axes: [2, 4], allowExternal });
    ({ data, shape } = await readHdf5Dataset(path, name!, { allowExternal }));
  } else {
    throw new UsageError(`--input must be a .npy, .h5 or .hdf5 file, got "${path}"`);
  }
  if (shape.length < 2 || shape.length > 4) {
    throw new TypeError(
      `${path}${dataset ? ` ${dataset}` : ""} has shape [${shape.join(", ")}]; need 2-D ` +
        `(batch, features), 3-D (B, T, D) or 4-D NHWC (N, H, W, C)`,
    );
  }
  const f32 = data instanceof Float32Array ? data : Float32Array.from(data, Number);
  return { data: f32, shape, ...(data instanceof Float64Array ? { float64: data } : {}) };
}

interface Results {
  input: string;
  shape: readonly number[];
  matrix: Matrix;
  s: Float64Array;
  metrics: Record<string, number>;
  method: string;
  /** The pixel selection's fields (`excluded`, `band_indices`, ...), when one applied. */
  selection: Record<string, number | number[]>;
}

async function writeResults(path: string, format: Format, r: Results) {
  const summary: Record<string, number> = {
    rows: r.matrix.rows,
    cols: r.matrix.cols,
    count: r.s.length,
    s1: r.s[0],
    s_min: r.s[r.s.length - 1],
    ...r.metrics,
  };
  const { band_indices: _, ...scalars } = r.selection;
  Object.assign(summary, scalars);
  if (format === "csv") {
    const header = Object.keys(summary);
    await writeFileAtomic(
      path,
      new TextEncoder().encode(formatCsv(header, [header.map((k) => summary[k])])),
    );
  } else if (format === "json") {
    const json = {
      input: r.input,
      shape: r.shape,
      method: r.method,
      ...summary,
      ...r.selection,
      singular_values: Array.from(r.s),
      metrics: r.metrics,
    };
    await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(json, null, 2) + "\n"));
  } else {
    await writeHdf5(path, {
      attrs: {
        input: r.input,
        shape: [...r.shape],
        method: r.method,
        prism_version: PRISM.version,
        ...summary,
        ...r.selection,
      },
      datasets: [{ path: "singular_values", data: r.s, shape: [r.s.length] }],
    });
  }
}
