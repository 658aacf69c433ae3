/**
 * The tracker's HDF5 layout (readable with h5py and h5wasm):
 *
 * ```
 * /                       attrs: format = "prism-track", version = 1
 * /run_0                  attrs: columns (the stored column names), sampling_frequency,
 *                                and every metadata entry (string or number)
 * /run_0/<layer>          attrs: layer (the true name), index (first-seen order), rows
 * /run_0/<layer>/<column> 1-D dataset, `rows` long, chunked (≤ 4096), gzip level 6
 * /run_1 …                a later run, added by `append: true`
 * ```
 *
 * One dataset per stored column: `step`, `cumulative_90`, `numerical_rank` as int32 (`step` as
 * float64 only when a step is ≥ 2³¹, which int32 cannot hold), the rest float32 as the tracker
 * stores them. `effective_rank` is not written: it is `exp(spectral_entropy)`. A missing loss or
 * gradient norm is NaN.
 *
 * The group name is the layer name with `%` and `/` percent-encoded (`/` would nest groups) and
 * `.` / `..` spelled `%2E`; the `layer` attribute keeps the name as given.
 *
 * `append: true` adds the run as `run_<last + 1>` to an existing tracker file (creates the file
 * when missing), so earlier runs stay as they were; loading reads the last run unless told
 * otherwise. The append copies the file to a temporary name and renames it back, so a failure
 * leaves the old file intact.
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";
import {
  type Hdf5Attrs,
  type Hdf5DatasetSpec,
  type Hdf5ReadData,
  type Hdf5Tree,
  readHdf5Datasets,
  readHdf5Tree,
  writeHdf5,
} from "../io/hdf5.ts";
import type { TrackData, TrackLayer, TrackRow } from "./row.ts";
import { rowFrom, STORED_COLUMNS } from "./_rows.ts";

const FORMAT = "prism-track";
const VERSION = 1;
const GZIP_LEVEL = 6;
const MAX_CHUNK = 4096;
const INT_COLUMNS = new Set(["step", "cumulative_90", "numerical_rank"]);

/** Writes (or, with `append`, adds) one run. */
export async function writeTrackHdf5(
  path: string,
  data: TrackData,
  options: { append?: boolean } = {},
): Promise<void> {
  const append = options.append ?? false;
  let run = 0;
  if (append) {
    const tree = await readTreeIfAny(path);
    if (tree !== undefined) {
      checkFormat(tree, path);
      const runs = runIndices(tree);
      run = runs.length === 0 ? 0 : Math.max(...runs) + 1;
    }
  }
  const runPath = `run_${run}`;
  const groups: { path: string; attrs?: Hdf5Attrs }[] = [{
    path: runPath,
    attrs: {
      columns: [...STORED_COLUMNS],
      ...(data.samplingFrequency === undefined
        ? {}
        : { sampling_frequency: data.samplingFrequency }),
      ...data.metadata,
    },
  }];
  const datasets: Hdf5DatasetSpec[] = [];
  data.layers.forEach((layer, index) => {
    const group = `${runPath}/${groupName(layer.name)}`;
    const n = layer.rows.length;
    groups.push({ path: group, attrs: { layer: layer.name, index, rows: n } });
    for (const column of STORED_COLUMNS) {
      datasets.push({
        path: `${group}/${column}`,
        data: columnArray(layer.rows, column),
        shape: [n],
        chunks: [Math.min(n, MAX_CHUNK)],
        gzip: GZIP_LEVEL,
      });
    }
  });
  await writeHdf5(path, { attrs: { format: FORMAT, version: VERSION }, groups, datasets }, {
    append,
  });
}

/** Reads one run (default the last). */
export async function readTrackHdf5(path: string, run: number | undefined): Promise<TrackData> {
  const tree = await readHdf5Tree(path);
  checkFormat(tree, path);
  const runs = runIndices(tree);
  if (runs.length === 0) {
    throw new InvalidDataError(`${path} holds no run_<n> group; it is not a complete export`);
  }
  const chosen = run ?? Math.max(...runs);
  if (!runs.includes(chosen)) {
    throw new RangeError(`${path} has no run ${chosen}; it holds runs ${runs.join(", ")}`);
  }
  const prefix = `/run_${chosen}`;
  const runAttrs = tree.groups.find((g) => g.path === prefix)!.attrs;
  const columns = asStrings(runAttrs.columns);
  for (const column of STORED_COLUMNS) {
    if (!columns.includes(column)) {
      throw new InvalidDataError(
        `${path} ${prefix}: the columns attribute lacks ${column}; the file is not a tracker ` +
          `export of a version this code reads`,
      );
    }
  }
  const layerGroups = tree.groups
    .filter((g) =>
      g.path.startsWith(`${prefix}/`) && !g.path.slice(prefix.length + 1).includes("/")
    )
    .sort((a, b) => Number(a.attrs.index) - Number(b.attrs.index));
  const pending: { group: Hdf5Tree["groups"][number]; name: string; n: number }[] = [];
  for (const group of layerGroups) {
    const name = group.attrs.layer;
    const n = group.attrs.rows;
    if (typeof name !== "string" || typeof n !== "number" || !Number.isInteger(n) || n < 0) {
      throw new InvalidDataError(
        `${path} ${group.path}: the layer and rows attributes are missing or malformed`,
        { position: { group: group.path } },
      );
    }
    for (const column of STORED_COLUMNS) {
      const dataset = `${group.path}/${column}`;
      const info = tree.datasets.find((d) => d.path === dataset);
      if (info === undefined || info.shape.length !== 1 || info.shape[0] !== n) {
        throw new InvalidDataError(
          `${path}: ${dataset} is missing or not ${n} long; the file is corrupt`,
          { position: { dataset } },
        );
      }
    }
    pending.push({ group, name, n });
  }
  // One open of the file for every column of every layer.
  const read = await readHdf5Datasets(
    path,
    pending.flatMap(({ group }) => STORED_COLUMNS.map((column) => `${group.path}/${column}`)),
  );
  const layers: TrackLayer[] = [];
  for (const [l, { group, name, n }] of pending.entries()) {
    const values = new Map<string, Hdf5ReadData>();
    STORED_COLUMNS.forEach((column, c) =>
      values.set(column, read[l * STORED_COLUMNS.length + c].data)
    );
    const rows: TrackRow[] = new Array(n);
    for (let i = 0; i < n; i++) {
      rows[i] = rowFrom((column) => {
        const v = Number(values.get(column)?.[i]);
        return Number.isNaN(v) && (column === "loss" || column === "grad_norm") ? null : v;
      }, `${path} ${group.path} row ${i}`);
    }
    layers.push({ name, rows });
  }
  const metadata: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(runAttrs)) {
    if (key === "columns" || key === "sampling_frequency") continue;
    if (typeof value === "string" || typeof value === "number") metadata[key] = value;
  }
  const frequency = runAttrs.sampling_frequency;
  return {
    samplingFrequency: typeof frequency === "number" ? frequency : undefined,
    metadata,
    layers,
  };
}

function columnArray(
  rows: readonly TrackRow[],
  column: string,
): Float64Array | Float32Array | Int32Array {
  const get = (row: TrackRow) => (row[column as keyof TrackRow] as number | null) ?? NaN;
  if (!INT_COLUMNS.has(column)) return Float32Array.from(rows, get);
  if (rows.every((r) => get(r) <= 0x7fffffff)) return Int32Array.from(rows, get);
  return Float64Array.from(rows, get);
}

function groupName(layer: string): string {
  const name = layer.replaceAll("%", "%25").replaceAll("/", "%2F");
  return name === "." || name === ".." ? name.replaceAll(".", "%2E") : name;
}

async function readTreeIfAny(path: string): Promise<Hdf5Tree | undefined> {
  try {
    return await readHdf5Tree(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

function checkFormat(tree: Hdf5Tree, path: string): void {
  if (tree.attrs.format !== FORMAT) {
    throw new InvalidDataError(
      `${path} is an HDF5 file but not a tracker export (root attribute format is ${
        JSON.stringify(tree.attrs.format)
      }, expected "${FORMAT}"); choose another file`,
    );
  }
  if (tree.attrs.version !== VERSION) {
    throw new InvalidDataError(
      `${path} is tracker export version ${tree.attrs.version}; this code reads version ${VERSION}`,
    );
  }
}

function runIndices(tree: Hdf5Tree): number[] {
  return tree.groups.map((g) => /^\/run_(\d+)$/.exec(g.path)).filter((m) => m !== null).map((m) =>
    Number(m![1])
  );
}

function asStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  return Array.isArray(value) ? value.map(String) : [];
}
