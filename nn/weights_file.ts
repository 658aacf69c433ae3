/**
 * Weights files of convolution networks: HDF5, one float32 dataset per parameter at the file's
 * root, named by the parameter's dotted name (`block1.depthwise.conv.weight`) and stored in
 * prism's layouts (HWIO convolution weights, see `nn/specs/README.md`). h5py reads them as they
 * are, and the PyTorch twin (`bench/torch/prism_nets.py`, `load_prism_h5`) loads them.
 *
 * The root group carries `format: "prism-convnet-weights"` and `version: 1`, plus whatever
 * attributes the caller adds (a network saves its spec's name as `spec`).
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";
import { readHdf5Datasets, readHdf5Tree, writeHdf5 } from "../io/hdf5.ts";
import type { Hdf5DatasetSpec } from "../io/hdf5.ts";

/** The `format` attribute of a weights file's root group. */
export const WEIGHTS_FORMAT = "prism-convnet-weights";
/** The `version` attribute this code writes and the newest it reads. */
export const WEIGHTS_VERSION = 1;

/** One parameter (or buffer) as it is saved and loaded: values in C order and their shape. */
export interface WeightsEntry {
  /** The values, float32, C order. */
  data: Float32Array;
  /** The extent of each axis; the product equals `data.length`. */
  shape: readonly number[];
}

const RESERVED_ATTRS = ["format", "version"];

/**
 * Saves parameters to an HDF5 weights file atomically: the file appears complete or not at all
 * (a failure leaves an existing file as it was). Each entry becomes a float32 dataset at the
 * root named by its key; the root group gets `format`, `version` and `o.attrs`.
 *
 * @param path The file to create or replace (`.h5`).
 * @param values `[name, { data, shape }]` pairs, e.g. a network's `parameters()` map.
 * @param o `attrs`: extra root attributes, e.g. `{ spec: "small" }` (not `format`/`version`).
 * @returns Resolves once the file is in place.
 * @throws {TypeError} On a name that is empty, holds `/`, or repeats; data that is not a
 * `Float32Array`; a shape that is not positive integers or whose product differs from the data's
 * length; an attribute named `format` or `version` or of an unsupported type.
 * @throws {InvalidDataError} When a value is NaN or infinite (the message names the parameter).
 * @throws {Deno.errors.NotFound} When the folder does not exist.
 * @example
 * ```ts
 * import { loadWeights, saveWeights } from "./weights_file.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * const weight = { data: new Float32Array(2 * 2 * 1 * 3).fill(0.5), shape: [2, 2, 1, 3] };
 * await saveWeights(`${dir}/w.h5`, [["conv1.conv.weight", weight]], { attrs: { spec: "tiny" } });
 * const back = await loadWeights(`${dir}/w.h5`);
 * assert.deepEqual(back.get("conv1.conv.weight")?.shape, [2, 2, 1, 3]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function saveWeights(
  path: string,
  values: Iterable<[string, WeightsEntry]>,
  o: { attrs?: Record<string, string | number> } = {},
): Promise<void> {
  if (typeof path !== "string" || path === "") {
    throw new TypeError("path must be a file path such as weights.h5");
  }
  if (values === null || typeof (values as Iterable<unknown>)?.[Symbol.iterator] !== "function") {
    throw new TypeError("values must be an iterable of [name, { data, shape }], e.g. a Map");
  }
  const attrs = o.attrs ?? {};
  if (attrs === null || typeof attrs !== "object") {
    throw new TypeError("o.attrs must be an object of name: string | number");
  }
  for (const [name, value] of Object.entries(attrs)) {
    if (RESERVED_ATTRS.includes(name)) {
      throw new TypeError(`o.attrs.${name} is set by saveWeights itself; drop it from attrs`);
    }
    if (typeof value !== "string" && !(typeof value === "number" && Number.isFinite(value))) {
      throw new TypeError(`o.attrs.${name} must be a string or a finite number, got ${value}`);
    }
  }
  const datasets: Hdf5DatasetSpec[] = [];
  const seen = new Set<string>();
  for (const item of values) {
    if (!Array.isArray(item) || item.length !== 2) {
      throw new TypeError("each value must be a [name, { data, shape }] pair");
    }
    const [name, entry] = item;
    checkName(name);
    if (seen.has(name)) throw new TypeError(`parameter ${name} is given twice; names must differ`);
    seen.add(name);
    const shape = checkEntry(name, entry);
    datasets.push({ path: name, data: entry.data, shape });
  }
  if (datasets.length === 0) {
    throw new TypeError("values is empty: a weights file needs at least one parameter");
  }
  await writeHdf5(path, {
    attrs: { format: WEIGHTS_FORMAT, version: WEIGHTS_VERSION, ...attrs },
    datasets,
  });
}

/**
 * Loads every parameter of an HDF5 weights file: the datasets at the file's root, by name.
 * Files written by h5py are read too (float64 datasets are narrowed to float32); a file whose
 * root says another `format`, or a newer `version`, is refused.
 *
 * @param path The file.
 * @returns `name → { data, shape }`, in the file's order of names.
 * @throws {Deno.errors.NotFound} When the file does not exist (the message names it).
 * @throws {InvalidDataError} When the file is not HDF5, is not a weights file (another format,
 * a newer version, groups, no datasets), or holds a non-float or non-finite value (the message
 * names the dataset).
 * @example
 * ```ts
 * import { loadWeights, saveWeights } from "./weights_file.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * const bias = { data: new Float32Array([1, -2, 3]), shape: [3] };
 * await saveWeights(`${dir}/w.h5`, new Map([["head.conv.bias", bias]]));
 * const back = await loadWeights(`${dir}/w.h5`);
 * assert.deepEqual([...back.get("head.conv.bias")!.data], [1, -2, 3]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadWeights(
  path: string,
): Promise<Map<string, { data: Float32Array; shape: number[] }>> {
  if (typeof path !== "string" || path === "") {
    throw new TypeError("path must be the path of a weights file such as weights.h5");
  }
  let tree;
  try {
    tree = await readHdf5Tree(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(
        `weights file ${path} does not exist; check the path, or save weights there first`,
        { cause: error },
      );
    }
    throw error;
  }
  const { format, version } = tree.attrs;
  if (format !== undefined && format !== WEIGHTS_FORMAT) {
    throw new InvalidDataError(
      `${path} is a ${String(format)} file, not ${WEIGHTS_FORMAT}; give a file saved by ` +
        `saveWeights, ConvNet.save or save_prism_h5`,
    );
  }
  if (typeof version === "number" && version > WEIGHTS_VERSION) {
    throw new InvalidDataError(
      `${path} is ${WEIGHTS_FORMAT} version ${version}; this prism reads version ` +
        `${WEIGHTS_VERSION}: update prism`,
    );
  }
  if (tree.groups.length > 0) {
    throw new InvalidDataError(
      `${path} holds group ${tree.groups[0].path}; a weights file keeps every parameter as a ` +
        `dataset at the root, named by its dotted name (e.g. conv1.conv.weight)`,
    );
  }
  if (tree.datasets.length === 0) {
    throw new InvalidDataError(`${path} holds no datasets; it has no weights to load`);
  }
  for (const d of tree.datasets) {
    if (d.dtype !== "float32" && d.dtype !== "float64") {
      throw new InvalidDataError(
        `${path}: dataset ${d.path.slice(1)} holds ${d.dtype} values; weights must be float32`,
      );
    }
  }
  const read = await readHdf5Datasets(path, tree.datasets.map((d) => d.path));
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  tree.datasets.forEach((d, i) => {
    const name = d.path.slice(1);
    const raw = read[i].data;
    const data = raw instanceof Float32Array ? raw : Float32Array.from(raw as Float64Array);
    checkFinite(name, data, `${path}: dataset`);
    out.set(name, { data, shape: read[i].shape });
  });
  return out;
}

function checkName(name: unknown): asserts name is string {
  // HDF5 cuts a name at NUL and treats "." as the group itself; other control characters would
  // only make names that cannot be typed.
  // deno-lint-ignore no-control-regex
  if (typeof name !== "string" || /^\.*$|[/\x00-\x1f]/.test(name)) {
    throw new TypeError(
      `parameter name ${JSON.stringify(name)} cannot be a dataset name: use a non-empty dotted ` +
        `name without "/" or control characters, e.g. conv1.conv.weight`,
    );
  }
}

function checkEntry(name: string, entry: WeightsEntry): number[] {
  if (entry === null || typeof entry !== "object") {
    throw new TypeError(`${name} must be { data: Float32Array, shape: number[] }`);
  }
  if (!(entry.data instanceof Float32Array)) {
    const got = (entry.data as object | undefined)?.constructor?.name ?? typeof entry.data;
    throw new TypeError(
      `${name}: data is a ${got}; weights files hold float32: pass a Float32Array ` +
        `(Float32Array.from(values) converts)`,
    );
  }
  const shape = entry.shape;
  if (
    !Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 1)
  ) {
    throw new TypeError(
      `${name}: shape ${JSON.stringify(shape)} must be an array of positive integers`,
    );
  }
  const count = shape.reduce((a: number, b: number) => a * b, 1);
  if (count !== entry.data.length) {
    throw new TypeError(
      `${name}: shape [${shape.join(", ")}] holds ${count} values but data has ` +
        `${entry.data.length}; fix the shape or the data`,
    );
  }
  checkFinite(name, entry.data, "parameter");
  return [...shape];
}

function checkFinite(name: string, data: Float32Array, what: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    // v - v is NaN exactly for NaN and ±Infinity.
    if (v - v !== 0) {
      throw new InvalidDataError(
        `${what} ${name} holds ${v} at index ${i}; weights must be finite (a diverged ` +
          `training run? restart from an earlier checkpoint)`,
        { position: { parameter: name, index: i } },
      );
    }
  }
}
