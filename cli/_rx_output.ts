/**
 * What `rx` writes: the score map as `.npy`, HDF5 (with the run's attributes) or ENVI (keeping
 * an ENVI input's georeferencing), and the `--top` table.
 *
 * @module
 */

import { extname } from "node:path";
import type { CubeSource } from "../io/cube_source.ts";
import { readEnviHeader } from "../io/envi.ts";
import { writeEnvi } from "../io/envi_write.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import type { Hdf5Attrs } from "../io/hdf5.ts";
import { writePixelArray } from "./_pixel_output.ts";
import { topCsv } from "./_rx_top.ts";
import { PRISM } from "./_version.ts";

/** One `rx` run's outputs and what to record in them. */
export interface RxRun {
  /** The `--out` path and its format (`npy`, `h5` or `hdr`). */
  out: string;
  format: string;
  /** The `--top` table: `k` rows to `path`. */
  top?: { k: number; path: string };
  /** The input, its HDF5 dataset, and whether it may read other files (for its ENVI header). */
  input: string;
  dataset: string | undefined;
  allowExternal: boolean;
  /** The (closed) source: its shape. */
  source: CubeSource;
  /** The fit's figures: global RX has rank and condition number, local RX its window. */
  fit: {
    eps: number;
    rank?: number;
    conditionNumber?: number;
    count?: number;
    skipped?: number;
    /** Pixels left out as no-data or masked. */
    excluded?: number;
    window?: [number, number];
  };
}

/**
 * The default path of the `--top` table: `--out` with its extension replaced by `.top.csv`.
 *
 * @param out The `--out` path.
 * @returns The table's path.
 */
export function topPath(out: string): string {
  return `${out.slice(0, out.length - extname(out).length)}.top.csv`;
}

/**
 * Writes the score map (and the `--top` table), each atomically.
 *
 * @param scores One score per pixel.
 * @param run Where and what (see {@linkcode RxRun}).
 * @returns The files written.
 */
export async function writeRxOutputs(scores: Float32Array, run: RxRun): Promise<string[]> {
  const { source, out } = run;
  const shape = [...source.pixelShape];
  const written: string[] = [];
  const envi = run.input.toLowerCase().endsWith(".hdr")
    ? (await readEnviHeader(run.input, { allowExternal: run.allowExternal })).fields
    : undefined;
  if (run.format !== "hdr") {
    const attrs = run.format === "h5" ? hdf5Attrs(run, envi) : undefined;
    await writePixelArray(out, {
      format: run.format,
      data: scores,
      shape,
      dataset: "scores",
      attrs,
    });
    written.push(out);
  } else {
    const files = await writeEnvi(out, {
      data: scores,
      height: source.height!,
      width: source.width!,
      bands: 1,
    }, { fields: enviFields(run, envi) });
    written.push(files.header, files.data);
  }
  if (run.top !== undefined) {
    const text = topCsv(scores, { pixelShape: shape, k: run.top.k });
    await writeFileAtomic(run.top.path, new TextEncoder().encode(text));
    written.push(run.top.path);
  }
  return written;
}

/** The root attributes of the HDF5 score file. */
function hdf5Attrs(run: RxRun, envi: Record<string, string> | undefined): Hdf5Attrs {
  const { fit, source } = run;
  const used = source.selection.bandIndices ?? Array.from({ length: source.bands }, (_, b) => b);
  const attrs: Hdf5Attrs = {
    method: fit.window === undefined ? "global" : "local",
    input: run.input,
    ...(run.dataset === undefined ? {} : { dataset: run.dataset }),
    bands: source.bands,
    // The input's band indices the scores used (all of them without a band selection).
    bands_used: [...used],
    eps: fit.eps,
    prism_version: PRISM.version,
  };
  if (fit.rank !== undefined) attrs.rank = fit.rank;
  if (fit.conditionNumber !== undefined) attrs.condition_number = fit.conditionNumber;
  if (fit.count !== undefined) attrs.count = fit.count;
  if (fit.skipped !== undefined) attrs.skipped = fit.skipped;
  if (fit.excluded !== undefined) attrs.excluded = fit.excluded;
  if (fit.window !== undefined) attrs.window = [...fit.window];
  const wavelengths = envi?.["wavelength"];
  if (wavelengths !== undefined) {
    const all = listOf(wavelengths).map(Number);
    // With a band selection, the wavelengths of the bands used (the file lists every band's).
    const picked = source.selection.bandIndices;
    attrs.wavelengths = picked !== null && picked.every((b) => b < all.length)
      ? picked.map((b) => all[b])
      : all;
  }
  if (envi?.["wavelength units"] !== undefined) attrs.wavelength_units = envi["wavelength units"];
  return attrs;
}

/**
 * The ENVI score header's extra fields: an ENVI input's `map info` and `coordinate system string`
 * as they were, its `description` after ours, and its `wavelength` list as `input wavelength`:
 * a one-band image's `wavelength` must hold one value, so the input's list keeps its own name.
 */
function enviFields(
  run: RxRun,
  envi: Record<string, string> | undefined,
): Record<string, string | string[]> {
  const { fit } = run;
  const figures = [
    `eps ${fit.eps}`,
    ...(fit.rank === undefined ? [] : [`rank ${fit.rank}`]),
    ...(fit.conditionNumber === undefined
      ? []
      : [`condition number ${fit.conditionNumber.toExponential(3)}`]),
    ...(fit.window === undefined ? [] : [`window ${fit.window.join(",")}`]),
  ];
  const inputDescription = envi?.["description"] === undefined
    ? ""
    : `; input: ${listText(envi["description"])}`;
  const fields: Record<string, string | string[]> = {
    description: `{${
      braceless(`prism ${PRISM.version} RX scores of ${run.input} (${figures.join(", ")})`)
    }${braceless(inputDescription)}}`,
    "band names": ["rx score"],
  };
  for (const key of ["map info", "coordinate system string"]) {
    if (envi?.[key] !== undefined) fields[key] = envi[key];
  }
  if (envi?.["wavelength"] !== undefined) {
    fields["input wavelength"] = listOf(envi["wavelength"]);
    if (envi["wavelength units"] !== undefined) {
      fields["input wavelength units"] = envi["wavelength units"];
    }
  }
  return fields;
}

/** The text inside a `{...}` header value. */
function listText(value: string): string {
  return value.replace(/^\{|\}$/g, "").trim();
}

function listOf(value: string): string[] {
  return listText(value).split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** Braces would end a header value early: they become parentheses. */
function braceless(text: string): string {
  return text.replaceAll("{", "(").replaceAll("}", ")");
}
