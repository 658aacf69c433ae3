/**
 * Atomic file writes: write beside the target under a temporary name, then rename into place, so
 * a failed or interrupted run never leaves a half-written file at the target path.
 *
 * @module
 */

/**
 * Runs `write` against a temporary path in the same folder as `path`, then renames the temporary
 * file over `path`. On any failure the temporary file is removed and the error rethrown; `path`
 * is then untouched (an existing file keeps its old content).
 *
 * The temporary name is `.<name>.<random>.tmp` in the target's folder: the same folder keeps the
 * rename on one file system, where it is atomic.
 *
 * @param path The file to create or replace.
 * @param write Writes the complete content to the path it is given (which does not exist yet).
 * @returns Resolves once the file is in place.
 * @throws {Deno.errors.NotFound} When the folder does not exist (the message says to create it).
 * @throws {Deno.errors.PermissionDenied} When the folder is not writable (the message names it).
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
): Promise<void> {
  if (typeof path !== "string" || path.length === 0) {
    throw new TypeError(`path must be a non-empty string, got ${String(path)}`);
  }
  if (typeof write !== "function") {
    throw new TypeError("write must be a function (tmpPath) => Promise<void>");
  }
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  const folder = slash >= 0 ? path.slice(0, slash + 1) : "";
  const name = path.slice(slash + 1);
  if (name.length === 0) {
    throw new TypeError(`path ${path} names a folder; give a file name`);
  }
  const tmpPath = `${folder}.${name}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await write(tmpPath);
    await Deno.rename(tmpPath, path);
  } catch (error) {
    await Deno.remove(tmpPath).catch(() => undefined);
    throw await explainFsError(error, path, folder === "" ? "." : folder, tmpPath);
  }
}

/**
 * Writes `bytes` to `path` atomically (temporary file, flushed to disk, renamed into place).
 *
 * @param path The file to create or replace.
 * @param bytes The complete content.
 * @returns Resolves once the file is in place.
 * @throws {TypeError} When `bytes` is not a `Uint8Array`.
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
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
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
  });
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

async function exists(folder: string): Promise<boolean> {
  try {
    await Deno.stat(folder);
    return true;
  } catch {
    return false;
  }
}
