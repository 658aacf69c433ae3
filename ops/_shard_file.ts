/**
 * Reading and writing shard states (`./shard_state.ts`) as JSON or HDF5, atomically. In HDF5 the
 * accumulator's arrays are datasets (`mean`, `m2`, `shift`) and everything else is one JSON
 * attribute, `shard`, so both forms carry the same fields.
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { formatOfPath } from "../io/format.ts";
import { readHdf5Dataset, readHdf5Tree, writeHdf5 } from "../io/hdf5.ts";
import { ShardState } from "./shard_state.ts";
import type { ShardJson } from "./shard_state.ts";

const FORMATS = { json: "json", h5: "h5", hdf5: "h5" } as const;

/**
 * Writes a state to `path` (`.json`, `.h5`, `.hdf5`) through a temporary file.
 *
 * @param path The file; its extension picks the format.
 * @param state The state.
 * @throws {RangeError} When the extension is neither JSON nor HDF5.
 */
export async function writeShardFile(path: string, state: ShardState): Promise<void> {
  const format = formatOfPath(path, FORMATS);
  const json = state.toJSON();
  if (format === "json") {
    await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(json)));
    return;
  }
  const { mean, m2, shift, ...scalars } = json.state;
  const c = json.bands;
  await writeHdf5(path, {
    attrs: {
      format: json.format,
      version: json.version,
      op: json.op,
      bands: c,
      prism_version: json.prism,
      shard: JSON.stringify({ ...json, state: scalars }),
    },
    datasets: [
      { path: "mean", data: Float64Array.from(mean), shape: [c] },
      { path: "m2", data: Float64Array.from(m2), shape: [c, c] },
      ...shift === null ? [] : [{ path: "shift", data: Float64Array.from(shift), shape: [c] }],
    ],
  });
}

/**
 * Reads and validates a state written by {@linkcode writeShardFile}.
 *
 * @param path A `.json` or `.h5`/`.hdf5` file.
 * @returns The state.
 * @throws {RangeError} When the extension is neither JSON nor HDF5.
 * @throws {Deno.errors.NotFound} When the file does not exist.
 * @throws {InvalidDataError} When the file is corrupt or not a prism shard state, or holds a
 *   state `ShardState.fromJSON` refuses; the message starts with the file.
 */
export async function readShardFile(path: string): Promise<ShardState> {
  const json = formatOfPath(path, FORMATS) === "json"
    ? parse(path, await Deno.readTextFile(path))
    : await readHdf5State(path);
  try {
    return await ShardState.fromJSON(json);
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    const Ctor = error instanceof InvalidDataError || error instanceof TypeError ||
        error instanceof RangeError
      ? error.constructor as new (m: string, o: ErrorOptions) => Error
      : InvalidDataError;
    throw new Ctor(`${path}: ${error.message}`, { cause: error });
  }
}

function parse(path: string, text: string): ShardJson {
  try {
    return JSON.parse(text) as ShardJson;
  } catch (e) {
    throw new InvalidDataError(
      `${path} is not valid JSON (${(e as Error).message}); is it a shard state?`,
      { cause: e },
    );
  }
}

async function readHdf5State(path: string): Promise<ShardJson> {
  const tree = await readHdf5Tree(path);
  if (tree.attrs.format !== "prism.shard" || typeof tree.attrs.shard !== "string") {
    throw new InvalidDataError(
      `${path} is not a prism shard state (no format="prism.shard" and shard attributes)`,
    );
  }
  const json = parse(path, tree.attrs.shard);
  const read = async (name: string) =>
    Array.from((await readHdf5Dataset(path, name)).data as Float64Array, Number);
  const hasShift = tree.datasets.some((d) => d.path === "/shift");
  const state = {
    ...json.state,
    mean: await read("mean"),
    m2: await read("m2"),
    shift: hasShift ? await read("shift") : null,
  };
  return { ...json, state } as ShardJson;
}
