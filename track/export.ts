/**
 * Writes tracker rows to CSV, JSON or HDF5 and reads them back. Every write is atomic: the
 * content goes to a temporary file beside the target, renamed into place only when complete.
 *
 * Layouts:
 *
 * - `.csv`: RFC 4180 (CRLF), header `layer,step,loss,grad_norm,stable_rank,participation_ratio,
 *   cumulative_90,nuclear_norm_ratio,spectral_entropy,effective_rank,condition_number,
 *   numerical_rank`, one record per measurement, layer by layer in step order; a missing loss or
 *   gradient norm is an empty field. With `perLayer`, `<stem>.<layer>.csv` per layer (the layer
 *   name made file-safe: characters other than `A-Z a-z 0-9 . _ -` become `_`, a leading `.`
 *   too, clashes get `_2`, `_3`, …); each keeps the `layer` column, so each loads on its own.
 *   All files are renamed into place only after every one is written.
 * - `.json`: `{ "<layer>": [row, …] }`, rows with the column names as keys (`null` for a
 *   missing loss or gradient norm). Nothing else, so the shape stays the reference's.
 * - `.h5` / `.hdf5`: see `./_hdf5_format.ts` — a group per run, in it a group per layer, in it
 *   a dataset per column (chunked, gzip level 6), the column list and run metadata as
 *   attributes. `append: true` adds a new run group to an existing file.
 *
 * Metadata and sampling frequency travel only in HDF5; CSV and JSON hold rows only.
 *
 * @module
 */

import { withAtomicPath, writeFileAtomic } from "../io/atomic.ts";
import { formatOfPath } from "../io/format.ts";
import { InvalidDataError } from "../core/errors.ts";
import type { TrackData } from "./row.ts";
import { formatTrackCsv, parseTrackCsv } from "./_csv_format.ts";
import { formatTrackJson, parseTrackJson } from "./_json_format.ts";
import { readTrackHdf5, writeTrackHdf5 } from "./_hdf5_format.ts";
import { checkIncreasingSteps } from "./_rows.ts";

export type { TrackData, TrackLayer } from "./row.ts";

/** Options of {@linkcode writeTrack}. */
export interface ExportOptions {
  /** CSV only: one file per layer, `<stem>.<layer>.csv`, instead of one file. */
  perLayer?: boolean;
  /** HDF5 only: add this run to an existing file (created when missing) instead of replacing. */
  append?: boolean;
}

/** Options of {@linkcode readTrack}. */
export interface LoadOptions {
  /** HDF5 only: the run to read (`run_<n>` group); default the last one. */
  run?: number;
}

type Format = "csv" | "json" | "hdf5";

/**
 * Writes tracker rows to `path`, the format chosen by its extension (see the module doc for
 * each layout). Atomic: on any failure no file (or, with `append`, the old file) is left.
 *
 * @param path The target file: `.csv`, `.json`, `.h5` or `.hdf5` (any letter case).
 * @param data The rows (and, for HDF5, sampling frequency and metadata).
 * @param options `perLayer` for CSV, `append` for HDF5.
 * @returns Resolves when every file is in place.
 * @throws {RangeError} When the extension is unknown, or an option does not apply to it.
 * @throws {Deno.errors.NotFound} When the folder does not exist.
 * @throws {Deno.errors.PermissionDenied} When the folder is not writable.
 * @example
 * ```ts
 * import { readTrack, writeTrack } from "./export.ts";
 * import assert from "node:assert";
 * const row = {
 *   step: 0, loss: null, grad_norm: null, stable_rank: 1, participation_ratio: 1,
 *   cumulative_90: 1, nuclear_norm_ratio: 1, spectral_entropy: 0, effective_rank: 1,
 *   condition_number: 1, numerical_rank: 1,
 * };
 * const dir = await Deno.makeTempDir();
 * const data = { samplingFrequency: 1, metadata: {}, layers: [{ name: "fc", rows: [row] }] };
 * await writeTrack(`${dir}/t.csv`, data);
 * assert((await readTrack(`${dir}/t.csv`)).layers[0].rows[0].step === 0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeTrack(
  path: string,
  data: TrackData,
  options: ExportOptions = {},
): Promise<void> {
  const format = formatOf(path);
  const { perLayer = false, append = false } = options;
  if (perLayer && format !== "csv") {
    throw new RangeError(`perLayer applies to .csv exports only, not ${path}`);
  }
  if (append && format !== "hdf5") {
    throw new RangeError(`append applies to .h5 / .hdf5 exports only, not ${path}`);
  }
  const layers = data.layers.filter((l) => l.rows.length > 0);
  const encoder = new TextEncoder();
  if (format === "json") {
    await writeFileAtomic(path, encoder.encode(formatTrackJson(layers)));
  } else if (format === "hdf5") {
    await writeTrackHdf5(path, { ...data, layers }, { append });
  } else if (!perLayer) {
    await writeFileAtomic(path, encoder.encode(formatTrackCsv(layers)));
  } else {
    const files = perLayerPaths(path, layers.map((l) => l.name));
    await writeAllAtomic(
      files.map((file, i) => ({ file, text: formatTrackCsv([layers[i]]) })),
      encoder,
    );
  }
}

/**
 * Reads rows that {@linkcode writeTrack} wrote, the format chosen by the extension.
 *
 * @param path The file.
 * @param options `run`: the HDF5 run to read (default the last).
 * @returns The layers with their rows, plus sampling frequency and metadata from HDF5.
 * @throws {InvalidDataError} When the file is corrupt, truncated or not a tracker export.
 * @throws {RangeError} When the extension is unknown or the HDF5 run does not exist.
 * @throws {Deno.errors.NotFound} When the file does not exist.
 * @example
 * ```ts
 * import { readTrack } from "./export.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/t.json`, "{}");
 * assert((await readTrack(`${dir}/t.json`)).layers.length === 0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readTrack(path: string, options: LoadOptions = {}): Promise<TrackData> {
  const format = formatOf(path);
  let data: TrackData;
  if (format === "hdf5") {
    data = await readTrackHdf5(path, options.run);
  } else {
    const bytes = await Deno.readFile(path);
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch (error) {
      throw new InvalidDataError(`${path} is not UTF-8 text; is it a tracker export?`, {
        cause: error,
      });
    }
    data = format === "csv" ? parseTrackCsv(text, path) : parseTrackJson(text, path);
  }
  for (const layer of data.layers) checkIncreasingSteps(layer, path);
  return data;
}

const FORMATS = { csv: "csv", json: "json", h5: "hdf5", hdf5: "hdf5" } as const;

function formatOf(path: string): Format {
  return formatOfPath(path, FORMATS);
}

/** `<stem>.<safe layer>.csv` per layer, unique even when two names sanitise alike. */
function perLayerPaths(path: string, names: readonly string[]): string[] {
  const stem = path.slice(0, path.lastIndexOf("."));
  const used = new Set<string>();
  return names.map((name) => {
    const base = name.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\./, "_");
    let safe = base;
    for (let k = 2; used.has(safe.toLowerCase()); k++) safe = `${base}_${k}`;
    // Compared case-insensitively: on macOS and Windows "FC" and "fc" are the same file.
    used.add(safe.toLowerCase());
    return `${stem}.${safe}.csv`;
  });
}

/**
 * Writes every file to its temporary name first and renames them only when all are written,
 * so a failure part-way leaves none of them behind.
 */
async function writeAllAtomic(
  files: readonly { file: string; text: string }[],
  encoder: TextEncoder,
  from = 0,
): Promise<void> {
  if (from === files.length) return;
  const { file, text } = files[from];
  await withAtomicPath(file, async (tmp) => {
    await Deno.writeFile(tmp, encoder.encode(text), { createNew: true });
    await writeAllAtomic(files, encoder, from + 1);
  });
}
