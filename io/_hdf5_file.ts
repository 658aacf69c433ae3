/**
 * Opening HDF5 files, naming objects in them, and the one wrapper every h5wasm call goes through
 * ({@linkcode h5do}), shared by the writer (`./hdf5_write.ts`) and the readers (`./hdf5_read.ts`).
 *
 * {@linkcode h5do} runs a few synchronous h5wasm calls with HDF5 confined to the file (see
 * `./_h5wasm.ts`) and turns whatever escapes into an `InvalidDataError` that names the file and
 * the object, keeping HDF5's error stack as `cause` (never in the message): a refused open of
 * another file says which file and how to allow it; an abort of the library discards that
 * instance, so the next file opens on a fresh one.
 *
 * @module
 */

import { absolutePath } from "./_path.ts";
import { InvalidDataError, PrismError } from "../core/errors.ts";
import { confineTo, discardH5wasm, type H5, type H5File } from "./_h5wasm.ts";

// Files are written with HDF5 1.10 object formats at both bounds: newer, smaller object headers
// and B-tree v2 chunk indexes than the library's "earliest" default (the tracker's 1,000
// measurements x 10 layers: 0.52 MB -> about 0.3 MB, written 3x faster), still readable by every
// HDF5 >= 1.10 (h5py since 2.8). A lone "v110" would mean [v110, latest] and HDF5 rejects it.
const LIBVER: ["v110", "v110"] = ["v110", "v110"];

/** One file as the wrapper sees it: the library instance, where the file is, how it is shown. */
export interface Hdf5Place {
  /** The h5wasm instance the file is open on. */
  h5: H5;
  /** The absolute path HDF5 opens. */
  fsPath: string;
  /** The path as the caller gave it, for messages. */
  shown: string;
  /** Whether HDF5 may open other files (external links, external storage, virtual datasets). */
  allowExternal: boolean;
}

/** The option that lets a file read other files, as the messages name it. */
export const ALLOW_EXTERNAL_HINT =
  "if you trust the file, pass allowExternal: true (--allow-external on the command line)";

/** The canonical form of a path inside a file: a leading `/`, no empty parts. */
export function normalise(path: string): string {
  if (typeof path !== "string" || path.replace(/\//g, "") === "") {
    throw new TypeError(`an HDF5 object path must be a non-empty string like "a/b", got ${path}`);
  }
  return "/" + path.split("/").filter((p) => p !== "").join("/");
}

/**
 * Runs synchronous h5wasm calls on one file through the confinement and error translation.
 * Errors prism raises itself (`PrismError`, `Deno.errors.*`) pass unchanged; everything else
 * becomes an `InvalidDataError` naming `place.shown` and `object`.
 *
 * @param place The file.
 * @param what `action` ("read", "list", ...) and the `object` inside the file it concerns.
 * @param fn The calls.
 * @returns What `fn` returns.
 */
export function h5do<T>(
  place: Hdf5Place,
  what: { action: string; object?: string },
  fn: () => T,
): T {
  const out = confineTo(place.fsPath, place.allowExternal, fn);
  if (out.ok) return out.value;
  throw translateError(out.error, out, place, what);
}

/** Opens an existing file to read; a missing one is `Deno.errors.NotFound` naming it. */
export async function openExisting(
  h5: H5,
  path: string,
  allowExternal = false,
): Promise<{ file: H5File; place: Hdf5Place; bytes: number }> {
  if (typeof path !== "string" || path === "") throw new TypeError("path must be a file path");
  const target = absolutePath(path);
  let bytes: number;
  try {
    const info = await Deno.stat(target);
    if (!info.isFile) {
      throw new InvalidDataError(`${path} is not a file (a folder?); give an HDF5 file`);
    }
    bytes = info.size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`HDF5 file ${path} does not exist`, { cause: error });
    }
    throw error;
  }
  const place: Hdf5Place = { h5, fsPath: target, shown: path, allowExternal };
  return {
    file: openFile(h5, { fsPath: target, mode: "r", shown: path, allowExternal }),
    place,
    bytes,
  };
}

/** Opens `fsPath` in `mode`, turning HDF5's error stack into an `InvalidDataError`. */
export function openFile(
  h5: H5,
  file: { fsPath: string; mode: "r" | "a" | "w"; shown: string; allowExternal?: boolean },
): H5File {
  const { fsPath, mode, shown } = file;
  const place = { h5, fsPath, shown, allowExternal: file.allowExternal ?? false };
  return h5do(
    place,
    { action: `open (mode ${mode})` },
    () => mode === "r" ? new h5.File(fsPath, mode) : new h5.File(fsPath, mode, { libver: LIBVER }),
  );
}

/** Closes a file, ignoring a failure (a dead instance cannot close anything). */
export function closeQuietly(file: H5File): void {
  try {
    file.close();
  } catch {
    // The instance aborted or the file is damaged; there is nothing left to release.
  }
}

function translateError(
  error: unknown,
  found: { refused: string[]; damaged: string[] },
  place: Hdf5Place,
  what: { action: string; object?: string },
): Error {
  if (error instanceof PrismError || isDenoError(error)) return error as Error;
  const where = what.object === undefined ? place.shown : `${what.object} in ${place.shown}`;
  const text = error instanceof Error ? error.message : String(error);
  const aborted = isAbort(error, text);
  if (aborted) discardH5wasm(place.h5);
  if (text.includes("file signature not found")) {
    return new InvalidDataError(
      `${place.shown} is not an HDF5 file (no HDF5 signature found); check the path`,
      { cause: error },
    );
  }
  const { refused, damaged } = found;
  if (damaged.length > 0) {
    return new InvalidDataError(
      `Cannot ${what.action} ${where}: ${damaged[0]}; the file is damaged (refused before HDF5 ` +
        `could loop on it)`,
      { cause: error },
    );
  }
  if (refused.length > 0) {
    return new InvalidDataError(
      `Cannot ${what.action} ${where}: it refers to another file, ${refused[0]} (an external ` +
        `link, external raw storage or a virtual dataset); prism reads a file only from itself ` +
        `by default; ${ALLOW_EXTERNAL_HINT}`,
      { cause: error },
    );
  }
  if (aborted) {
    return new InvalidDataError(
      `Cannot ${what.action} ${where}: the HDF5 library (h5wasm) aborted on it, so the file is ` +
        `damaged or uses a feature h5wasm cannot handle; other files are read by a fresh ` +
        `library instance`,
      { cause: error },
    );
  }
  return new InvalidDataError(
    `Cannot ${what.action} ${where}: ${summary(text)}; the file is damaged or uses an HDF5 ` +
      `feature h5wasm cannot read (HDF5's diagnostics are in this error's cause)`,
    { cause: error },
  );
}

function isDenoError(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound || error instanceof Deno.errors.AlreadyExists ||
    error instanceof Deno.errors.PermissionDenied;
}

function isAbort(error: unknown, text: string): boolean {
  return error instanceof WebAssembly.RuntimeError || /Aborted\(|already aborted/.test(text);
}

/** HDF5's error stack lists the call chain; its deepest frame says what actually failed. */
function summary(text: string): string {
  const frames = [...text.matchAll(/#\d+: .*?\(\): (.*)/g)].map((m) => m[1].trim());
  const line = frames.at(-1) ?? text.split("\n").find((l) => l.trim() !== "") ?? "unknown error";
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
