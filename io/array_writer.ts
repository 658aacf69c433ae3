/**
 * Streaming float32 arrays to `.npy` or HDF5 files row band by row band, atomically: the rows go
 * to a temporary file beside the target, which is renamed into place only once every row is
 * written, so a failure or an abort halfway leaves nothing at the target path.
 *
 * @module
 */

import { requireDeno } from "../core/runtime.ts";
import { absolutePath } from "./_path.ts";
import { checkInteger } from "../core/validate.ts";
import { loadH5wasm } from "./_h5wasm.ts";
import { normalise, openFile } from "./_hdf5_file.ts";
import { withAtomicPath } from "./atomic.ts";
import { encodeLittleEndian } from "./_binary.ts";
import { encodeNpyFloat32Header } from "./npy.ts";

/** Appends the next rows (slices along the first axis), C order; resolves once they are out. */
export type WriteRows = (rows: Float32Array) => Promise<void>;

/** Options of {@linkcode writeRowsAtomic}. */
export interface RowStreamOptions {
  /** The whole array's shape; the first axis is the one streamed. */
  readonly shape: readonly number[];
  /** The dataset inside an HDF5 file; default `"data"`. Ignored for `.npy`. */
  readonly dataset?: string;
  /** gzip level 0–9 of an HDF5 dataset (chunked by row bands); default 4. Ignored for `.npy`. */
  readonly gzip?: number;
  /** Cancels the write: the temporary file is removed and the target left as it was. */
  readonly signal?: AbortSignal;
}

/**
 * Writes a float32 array to `path` (`.npy`, or `.h5`/`.hdf5`) whose rows `produce` hands over
 * in order, a band at a time, so the array never has to fit in memory.
 *
 * @param path The file to create or replace: `.npy`, `.h5` or `.hdf5`.
 * @param options `shape` (first axis streamed), `dataset` and `gzip` for HDF5, `signal`.
 * @param produce Called once with `write`; it must write exactly `shape[0]` rows in total.
 * @returns Resolves once the complete file is in place.
 * @throws {TypeError} When the extension is not `.npy`/`.h5`/`.hdf5`, the shape is not whole
 *   numbers, a band is not a `Float32Array` of whole rows, or `produce` wrote too few or too
 *   many rows. The target is then untouched.
 * @throws {AbortedError} When `signal` aborts; the temporary file is removed.
 * @throws {Error} Whatever `produce` throws (an abort, bad data), after the temporary file is
 *   removed.
 * @example
 * ```ts
 * import { writeRowsAtomic } from "./array_writer.ts";
 * import { readNpy } from "./npy.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * await writeRowsAtomic(`${dir}/a.npy`, { shape: [3, 2] }, async (write) => {
 *   await write(new Float32Array([1, 2, 3, 4]));
 *   await write(new Float32Array([5, 6]));
 * });
 * assert.deepStrictEqual([...(await readNpy(`${dir}/a.npy`)).data], [1, 2, 3, 4, 5, 6]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeRowsAtomic(
  path: string,
  options: RowStreamOptions,
  produce: (write: WriteRows) => Promise<void>,
): Promise<void> {
  requireDeno("writeRowsAtomic()");
  const format = formatOf(path);
  const atomic = { signal: options.signal, operation: "writeRowsAtomic()" };
  const shape = [...(options?.shape ?? [])];
  if (!Array.isArray(options?.shape) || shape.length === 0) {
    throw new TypeError(`writeRowsAtomic(): shape must be a non-empty array of whole numbers`);
  }
  shape.forEach((d, i) => checkInteger(`shape[${i}]`, d, 0));
  const gzip = options.gzip ?? 4;
  checkInteger("gzip", gzip, 0, 9);
  if (typeof produce !== "function") {
    throw new TypeError("writeRowsAtomic(): produce must be a function (write) => Promise<void>");
  }
  const rowLength = shape.slice(1).reduce((a, b) => a * b, 1);
  let written = 0;
  const counted =
    (sink: (rows: Float32Array, start: number, count: number) => Promise<void>) =>
    async (rows: Float32Array) => {
      if (!(rows instanceof Float32Array) || rowLength === 0 || rows.length % rowLength !== 0) {
        throw new TypeError(
          `writeRowsAtomic(): a band must be a Float32Array of whole rows of ${rowLength} values, ` +
            `got ${rows?.length} values`,
        );
      }
      const count = rows.length / rowLength;
      if (written + count > shape[0]) {
        throw new TypeError(
          `writeRowsAtomic(): ${written + count} rows written to ${path}, more than its ` +
            `${shape[0]}`,
        );
      }
      await sink(rows, written, count);
      written += count;
    };
  const finished = () => {
    if (written !== shape[0]) {
      throw new TypeError(
        `writeRowsAtomic(): only ${written} of ${shape[0]} rows were written to ${path}; ` +
          `nothing was kept`,
      );
    }
  };
  if (format === "npy") {
    await withAtomicPath(path, async (tmp) => {
      const file = await Deno.open(tmp, { write: true, createNew: true });
      try {
        await writeAll(file, encodeNpyFloat32Header(shape));
        await produce(counted((rows) => writeAll(file, encodeLittleEndian(rows))));
        finished();
        await file.sync();
      } finally {
        file.close();
      }
    }, atomic);
    return;
  }
  const name = normalise(options.dataset ?? "data");
  const h5 = await loadH5wasm();
  await withAtomicPath(absolutePath(path), async (tmp) => {
    const file = openFile(h5, { fsPath: tmp, mode: "w", shown: path });
    try {
      const parent = name.slice(0, name.lastIndexOf("/"));
      if (parent !== "") file.create_group(parent);
      // Chunks of about 1 MiB of whole rows: bands append without rewriting earlier chunks.
      const chunkRows = Math.max(
        1,
        Math.min(shape[0], Math.floor(262144 / Math.max(1, rowLength))),
      );
      const dataset = file.create_dataset({
        name,
        data: new Float32Array(0),
        shape: [0, ...shape.slice(1)],
        maxshape: [null, ...shape.slice(1)],
        chunks: [chunkRows, ...shape.slice(1).map((d) => Math.max(1, d))],
        dtype: "<f",
        compression: gzip,
      });
      await produce(counted((rows, start, count) => {
        dataset.resize([start + count, ...shape.slice(1)]);
        dataset.write_slice([[start, start + count]], rows);
        return Promise.resolve();
      }));
      finished();
    } finally {
      file.close();
    }
  }, atomic);
}

function formatOf(path: string): "npy" | "h5" {
  if (typeof path !== "string" || path === "") {
    throw new TypeError("writeRowsAtomic(): path must be a file path");
  }
  const ext = path.toLowerCase().split(".").pop();
  if (ext === "npy") return "npy";
  if (ext === "h5" || ext === "hdf5") return "h5";
  throw new TypeError(
    `writeRowsAtomic(): cannot stream to ${path}; give a .npy, .h5 or .hdf5 path`,
  );
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await file.write(bytes.subarray(done));
}
