/**
 * HDF5 in the page: h5wasm's browser build (the library's own module, not prism's Node-backed
 * `io/hdf5.ts`, which opens files by path). The dropped file is copied into h5wasm's in-memory
 * file system, its numeric datasets are listed, and the one the user picks is read as float32.
 *
 * @module
 */

import h5wasm from "npm:h5wasm@0.10.3";

/** A numeric dataset of the file: its path, shape and numpy-style type. */
export interface Hdf5Candidate {
  readonly path: string;
  readonly shape: readonly number[];
  readonly dtype: string;
}

/** An HDF5 file open in the page. */
export interface PageHdf5 {
  /** Every numeric dataset with 2 or 3 axes (the ones that can be a cube). */
  readonly candidates: readonly Hdf5Candidate[];
  /** Reads `count` entries of a dataset's first axis from `start`, as float32 in C order. */
  readLines(path: string, start: number, count: number): Float32Array;
  /** Closes the file and frees its copy. */
  close(): void;
}

let opened = 0;

/**
 * Opens a dropped HDF5 file.
 *
 * @param file The file.
 * @returns Its datasets and a reader.
 * @throws {Error} When the file is not HDF5 (the message says so).
 */
export async function openPageHdf5(file: File): Promise<PageHdf5> {
  const { FS } = await h5wasm.ready;
  const path = `/prism-${++opened}.h5`;
  FS.writeFile(path, new Uint8Array(await file.arrayBuffer()));
  let h5: InstanceType<typeof h5wasm.File>;
  try {
    h5 = new h5wasm.File(path, "r");
  } catch (e) {
    FS.unlink(path);
    throw new Error(`${file.name} is not an HDF5 file that h5wasm can open (${String(e)})`);
  }
  const candidates: Hdf5Candidate[] = [];
  const walk = (group: InstanceType<typeof h5wasm.Group>, prefix: string) => {
    for (const key of group.keys()) {
      const item = group.get(key);
      const full = `${prefix}/${key}`;
      if (item instanceof h5wasm.Group) walk(item, full);
      else if (item instanceof h5wasm.Dataset) {
        const shape = item.shape ?? [];
        // h5wasm names types as Python's struct module does: "<f" float32, "<d" float64,
        // "<h" int16, "<B" uint8, ...
        const numeric = typeof item.dtype === "string" &&
          /^[<>=|!]?[bBhHiIlLqQefd]$/.test(item.dtype);
        if (numeric && (shape.length === 2 || shape.length === 3)) {
          candidates.push({ path: full, shape, dtype: item.dtype as string });
        }
      }
    }
  };
  walk(h5, "");
  return {
    candidates,
    readLines(dataset: string, start: number, count: number): Float32Array {
      const item = h5.get(dataset);
      if (!(item instanceof h5wasm.Dataset)) throw new Error(`${dataset} is not a dataset`);
      const value = item.slice([[start, start + count]]) as ArrayLike<number | bigint>;
      // 64-bit integers come back as BigInt: Number() takes both.
      return Float32Array.from(value as ArrayLike<number>, Number);
    },
    close() {
      h5.close();
      FS.unlink(path);
    },
  };
}
