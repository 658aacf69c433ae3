/**
 * Opening HDF5 files and naming objects in them, shared by the writer (`./hdf5_write.ts`) and
 * the readers (`./hdf5_read.ts`).
 *
 * @module
 */

import { resolve } from "node:path";
import { InvalidDataError } from "../core/errors.ts";
import type { H5, H5File } from "./_h5wasm.ts";

// Files are written with HDF5 1.10 object formats at both bounds: newer, smaller object headers
// and B-tree v2 chunk indexes than the library's "earliest" default (the tracker's 1,000
// measurements x 10 layers: 0.52 MB -> about 0.3 MB, written 3x faster), still readable by every
// HDF5 >= 1.10 (h5py since 2.8). A lone "v110" would mean [v110, latest] and HDF5 rejects it.
const LIBVER: ["v110", "v110"] = ["v110", "v110"];

/** The canonical form of a path inside a file: a leading `/`, no empty parts. */
export function normalise(path: string): string {
  if (typeof path !== "string" || path.replace(/\//g, "") === "") {
    throw new TypeError(`an HDF5 object path must be a non-empty string like "a/b", got ${path}`);
  }
  return "/" + path.split("/").filter((p) => p !== "").join("/");
}

/** Opens an existing file to read; a missing one is `Deno.errors.NotFound` naming it. */
export async function openExisting(h5: H5, path: string): Promise<H5File> {
  if (typeof path !== "string" || path === "") throw new TypeError("path must be a file path");
  const target = resolve(path);
  try {
    await Deno.stat(target);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`HDF5 file ${path} does not exist`, { cause: error });
    }
    throw error;
  }
  return openFile(h5, { fsPath: target, mode: "r", shown: path });
}

/** Opens `fsPath` in `mode`, turning HDF5's error stack into an `InvalidDataError`. */
export function openFile(
  h5: H5,
  file: { fsPath: string; mode: "r" | "a" | "w"; shown: string },
): H5File {
  const { fsPath, mode, shown } = file;
  try {
    return mode === "r" ? new h5.File(fsPath, mode) : new h5.File(fsPath, mode, { libver: LIBVER });
  } catch (error) {
    const text = String(error);
    if (text.includes("file signature not found")) {
      throw new InvalidDataError(
        `${shown} is not an HDF5 file (no HDF5 signature found); check the path`,
        { cause: error },
      );
    }
    // HDF5's error stack lists the call chain; its deepest frame says what actually failed.
    const frames = [...text.matchAll(/#\d+: .*?\(\): (.*)/g)].map((m) => m[1]);
    throw new InvalidDataError(
      `Cannot open ${shown} as HDF5 (mode ${mode}): ${frames.at(-1) ?? text.slice(0, 200)}`,
      { cause: error },
    );
  }
}
