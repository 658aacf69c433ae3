/**
 * Atomic file writes: write beside the target under a temporary name, then rename into place, so
 * a failed or interrupted run never leaves a half-written file at the target path.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import { AbortedError } from "../core/errors.ts";

/** A temporary file being written and the target it will be renamed to. */
export interface LiveTempFile {
  /** The temporary file (`.<name>.<random>.tmp` beside the target). */
  readonly tmp: string;
  /** The file it becomes once complete. */
  readonly target: string;
}

/** Options of {@linkcode withAtomicPath} and {@linkcode writeFileAtomic}. */
export interface AtomicWriteOptions {
  /**
   * Cancels the write: the temporary file is removed at once, nothing is renamed into place,
   * and the call rejects with `AbortedError`.
   */
  signal?: AbortSignal;
  /** The call the user made, named by `AbortedError` (default `"withAtomicPath()"`). */
  operation?: string;
}

/** Temporary files being written now, by temporary path. */
const live = new Map<string, LiveTempFile>();
/** Listeners told of every file renamed into place. */
const committed = new Set<(path: string) => void>();

/**
 * The temporary files of the atomic writes in progress in this process, oldest first.
 *
 * @returns One `{ tmp, target }` per write in progress.
 * @example
 * ```ts
 * import { liveTempFiles, withAtomicPath } from "./atomic.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * await withAtomicPath(`${dir}/a.txt`, async (tmp) => {
 *   await Deno.writeTextFile(tmp, "x");
 *   assert(liveTempFiles().some((f) => f.tmp === tmp && f.target === `${dir}/a.txt`));
 * });
 * assert(liveTempFiles().length === 0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function liveTempFiles(): LiveTempFile[] {
  return [...live.values()];
}

/**
 * Removes the temporary files of every atomic write in progress, synchronously, so a signal
 * handler can call it just before `Deno.exit`. The writes themselves are not stopped: call it
 * only when the process is about to end (a write that goes on would fail at its rename).
 *
 * @returns The temporary files it removed, each `{ tmp, target }` (one already renamed into
 *   place, or not yet created, is not among them).
 * @throws Never: a file that cannot be removed is skipped.
 * @example
 * ```ts
 * import { removeLiveTempFiles } from "./atomic.ts";
 * import assert from "node:assert";
 * assert.deepStrictEqual(removeLiveTempFiles(), []);
 * ```
 */
export function removeLiveTempFiles(): LiveTempFile[] {
  const removed: LiveTempFile[] = [];
  for (const f of liveTempFiles()) {
    live.delete(f.tmp);
    if (removeQuietly(f.tmp)) removed.push(f);
  }
  return removed;
}

/**
 * Calls `listener` with the target path of every atomic write that completes (renamed into
 * place) from now on, so an interrupted program can say which outputs it kept.
 *
 * @param listener Receives the target path.
 * @returns A function that stops the calls.
 * @throws {TypeError} When `listener` is not a function.
 * @example
 * ```ts
 * import { onAtomicCommit, writeFileAtomic } from "./atomic.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * const kept: string[] = [];
 * const stop = onAtomicCommit((path) => kept.push(path));
 * await writeFileAtomic(`${dir}/a.bin`, new Uint8Array([1]));
 * stop();
 * assert.deepStrictEqual(kept, [`${dir}/a.bin`]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function onAtomicCommit(listener: (path: string) => void): () => void {
  if (typeof listener !== "function") {
    throw new TypeError("onAtomicCommit() takes a function (path) => void");
  }
  const own = (path: string) => listener(path);
  committed.add(own);
  return () => void committed.delete(own);
}

/**
 * Runs `write` against a temporary path in the same folder as `path`, then renames the temporary
 * file over `path`. On any failure the temporary file is removed and the error rethrown; `path`
 * is then untouched (an existing file keeps its old content). While `write` runs, the temporary
 * file is listed by {@linkcode liveTempFiles}, so a signal handler can remove it
 * ({@linkcode removeLiveTempFiles}).
 *
 * The temporary name is `.<name>.<random>.tmp` in the target's folder: the same folder keeps the
 * rename on one file system, where it is atomic.
 *
 * @param path The file to create or replace.
 * @param write Writes the complete content to the path it is given (which does not exist yet).
 * @param options `signal` cancels: the temporary file is removed as soon as it aborts (a writer
 *   still running writes to a file no longer listed), nothing is renamed, and the call rejects;
 *   `operation` names the call in that error.
 * @returns Resolves once the file is in place.
 * @throws {Deno.errors.IsADirectory} When `path` is a folder (the message says to give a file
 *   name); checked before `write` runs.
 * @throws {Deno.errors.NotFound} When the folder does not exist (the message says to create it).
 * @throws {Deno.errors.PermissionDenied} When the folder is not writable (the message names it).
 * @throws {AbortedError} When `signal` aborts, before or during the write.
 * @throws {Error} Whatever `write` throws, after the temporary file is removed.
 * @example
 * ```ts
 * import { withAtomicPath } from "./atomic.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * await withAtomicPath(`${dir}/out.txt`, (tmp) => Deno.writeTextFile(tmp, "done"));
 * assert((await Deno.readTextFile(`${dir}/out.txt`)) === "done");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function withAtomicPath(
  path: string,
  write: (tmpPath: string) => Promise<void>,
  options: AtomicWriteOptions = {},
): Promise<void> {
  if (typeof path !== "string" || path.length === 0) {
    throw new TypeError(`path must be a non-empty string, got ${String(path)}`);
  }
  if (typeof write !== "function") {
    throw new TypeError("write must be a function (tmpPath) => Promise<void>");
  }
  const { signal, operation = "withAtomicPath()" } = options ?? {};
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  const folder = slash >= 0 ? path.slice(0, slash + 1) : "";
  const name = path.slice(slash + 1);
  if (name.length === 0 || name === "." || name === "..") {
    throw new TypeError(`path ${path} names a folder; give a file name`);
  }
  throwIfAborted(signal, operation);
  if (await isFolder(path)) throw folderError(path);
  const tmpPath = `${folder}.${name}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  const onAbort = () => {
    live.delete(tmpPath);
    removeQuietly(tmpPath);
  };
  live.set(tmpPath, { tmp: tmpPath, target: path });
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await write(tmpPath);
    throwIfAborted(signal, operation);
    await Deno.rename(tmpPath, path);
  } catch (error) {
    await Deno.remove(tmpPath).catch(() => undefined);
    if (signal?.aborted && !(error instanceof AbortedError)) {
      throw new AbortedError(operation, { cause: signal.reason });
    }
    throw await explainFsError(error, path, folder === "" ? "." : folder, tmpPath);
  } finally {
    live.delete(tmpPath);
    signal?.removeEventListener("abort", onAbort);
  }
  for (const listener of committed) {
    try {
      listener(path);
    } catch {
      // A listener's failure is its own; the file is in place.
    }
  }
}

/**
 * Writes `bytes` to `path` atomically (temporary file, flushed to disk, renamed into place).
 *
 * @param path The file to create or replace.
 * @param bytes The complete content.
 * @param options `signal` (cancels and removes the temporary file), `operation` (names the call
 *   in `AbortedError`).
 * @returns Resolves once the file is in place.
 * @throws {TypeError} When `bytes` is not a `Uint8Array`.
 * @throws {Deno.errors.IsADirectory} When `path` is a folder.
 * @throws {AbortedError} When `signal` aborts.
 * @throws {Deno.errors.NotFound} When the folder does not exist.
 * @throws {Deno.errors.PermissionDenied} When the folder is not writable.
 * @example
 * ```ts
 * import { writeFileAtomic } from "./atomic.ts";
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/a.bin`, new Uint8Array([1, 2, 3]));
 * assert((await Deno.readFile(`${dir}/a.bin`)).length === 3);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`bytes must be a Uint8Array; encode text with new TextEncoder().encode()`);
  }
  await withAtomicPath(path, async (tmp) => {
    const file = await Deno.open(tmp, { write: true, createNew: true });
    try {
      let done = 0;
      while (done < bytes.length) done += await file.write(bytes.subarray(done));
      // Flush before the rename so a crash cannot leave the new name pointing at missing data.
      await file.sync();
    } finally {
      file.close();
    }
  }, { operation: "writeFileAtomic()", ...options });
}

/**
 * Rewords file-system errors about the target folder so they name the target and what to do;
 * errors from elsewhere (say `write` reading a missing input) pass through unchanged.
 */
async function explainFsError(
  error: unknown,
  path: string,
  folder: string,
  tmpPath: string,
): Promise<unknown> {
  if (error instanceof Deno.errors.NotFound && !(await exists(folder))) {
    return new Deno.errors.NotFound(
      `Cannot write ${path}: the folder ${folder} does not exist; create it first ` +
        `(Deno.mkdir(folder, { recursive: true })) or choose another path`,
      { cause: error },
    );
  }
  if (error instanceof Deno.errors.IsADirectory && (await isFolder(path))) {
    return folderError(path, error);
  }
  const aboutTarget = error instanceof Error &&
    (error.message.includes(tmpPath) || error.message.includes(path));
  if (
    aboutTarget &&
    (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable)
  ) {
    const Ctor = error.constructor as new (m: string, o: ErrorOptions) => Error;
    return new Ctor(
      `Cannot write ${path}: no permission to create files in ${folder}; fix the folder's ` +
        `permissions, grant --allow-write, or choose another path`,
      { cause: error },
    );
  }
  return error;
}

/** The error for an output path that is a folder (checked before writing, and at the rename). */
function folderError(path: string, cause?: unknown): Error {
  return new Deno.errors.IsADirectory(
    `Cannot write ${path}: the output path ${path} is a folder; give a file name ` +
      `(for example ${path.replace(/[\\/]+$/, "")}/out${extensionHint(path)})`,
    { cause },
  );
}

function extensionHint(path: string): string {
  const dot = path.lastIndexOf(".");
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return dot > slash + 1 ? path.slice(dot) : ".h5";
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/** Removes `path` if it is there; true when it was. */
function removeQuietly(path: string): boolean {
  try {
    Deno.removeSync(path);
    return true;
  } catch {
    return false; // Already gone, or never created: nothing to clean.
  }
}

async function exists(folder: string): Promise<boolean> {
  try {
    await Deno.stat(folder);
    return true;
  } catch {
    return false;
  }
}
