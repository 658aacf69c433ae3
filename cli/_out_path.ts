/**
 * The one check of an output path, run by every command before it starts work, so a typo in
 * `--out` fails in a second instead of after the whole computation, and nothing is written.
 *
 * @module
 */

import { dirname, extname, resolve } from "node:path";
import { UsageError } from "./_command.ts";

/** Extensions that name the same format as another (`--out x.hdf5` is an HDF5 file). */
const ALIASES: Readonly<Record<string, string>> = { hdf5: "h5", img: "hdr" };

/**
 * The format of an output path by its extension: `hdf5` counts as `h5`, and `img` as `hdr` (an
 * ENVI image is a header and a raw data file; either name picks both).
 *
 * @param path The output path.
 * @param allowed Extensions without dots, e.g. `["npy", "h5"]`.
 * @param flag The option that named the path, for the message (default `--out`).
 * @returns The matched extension (`h5` for `.hdf5`, `hdr` for `.img`).
 * @throws {UsageError} When the extension is not one of `allowed`.
 */
export function outputFormat(path: string, allowed: readonly string[], flag = "--out"): string {
  const ext = extname(path).slice(1).toLowerCase();
  const format = ALIASES[ext] ?? ext;
  if (ext === "" || !allowed.includes(format)) {
    const names = allowed.flatMap((
      a,
    ) => [a, ...Object.keys(ALIASES).filter((k) => ALIASES[k] === a)]);
    throw new UsageError(
      `${flag} ${path}: unknown output extension${ext ? ` .${ext}` : ""}; use a .${
        names.join(", .")
      } file`,
    );
  }
  return format;
}

/**
 * The files an output path stands for: itself, or for ENVI (`hdr`) the header and its `.img`.
 *
 * @param path The output path.
 * @param format Its format from {@linkcode outputFormat}.
 * @returns The paths that will be written.
 */
export function outputFiles(path: string, format: string): string[] {
  if (format !== "hdr") return [path];
  const stem = path.slice(0, path.length - extname(path).length);
  return [`${stem}.hdr`, `${stem}.img`];
}

/**
 * Checks an output path before any work: its extension is one of `allowed`, it is not a folder,
 * and its folder exists and can be written (tried by creating and removing a probe file there).
 *
 * @param path The output path.
 * @param options `allowed` extensions (see {@linkcode outputFormat}); `flag` names the option.
 * @returns The format (see {@linkcode outputFormat}).
 * @throws {UsageError} On an unknown extension (a mistake in the command line: exit 2).
 * @throws {Deno.errors.IsADirectory} When the path is a folder (the file system's state, like
 *   the errors below: exit 1).
 * @throws {Deno.errors.NotFound} When the folder does not exist.
 * @throws {Deno.errors.NotADirectory} When what should be the folder is a file.
 * @throws {Deno.errors.PermissionDenied} When the folder cannot be written.
 */
export async function checkOutputPath(
  path: string,
  options: { allowed: readonly string[]; flag?: string },
): Promise<string> {
  const flag = options.flag ?? "--out";
  if ((await statOrNull(path))?.isDirectory) throw isFolder(flag, path);
  const format = outputFormat(path, options.allowed, flag);
  for (const file of outputFiles(path, format)) {
    const info = await statOrNull(file);
    if (info?.isDirectory) throw isFolder(flag, file);
  }
  await checkOutputFolder(dirname(resolve(path)), { flag, shown: path });
  return format;
}

/**
 * Checks that a folder exists and can be written, by creating and removing a probe file in it.
 *
 * @param dir The folder.
 * @param options `flag` (the option, for the message) and `shown` (the path the user gave).
 * @returns Resolves when it can be written.
 * @throws {Deno.errors.NotFound} When it does not exist.
 * @throws {Deno.errors.NotADirectory} When it is a file.
 * @throws {Deno.errors.PermissionDenied} When it cannot be written.
 */
export async function checkOutputFolder(
  dir: string,
  options: { flag: string; shown?: string },
): Promise<void> {
  const what = `${options.flag} ${options.shown ?? dir}`;
  const info = await statOrNull(dir);
  if (info === null) {
    throw new Deno.errors.NotFound(
      `${what}: the folder ${dir} does not exist; create it first (mkdir -p ${dir})`,
    );
  }
  if (!info.isDirectory) {
    throw new Deno.errors.NotADirectory(`${what}: ${dir} is a file, not a directory`);
  }
  let probe: string;
  try {
    probe = await Deno.makeTempFile({ dir, prefix: ".prism-write-check-" });
  } catch (error) {
    throw new Deno.errors.PermissionDenied(
      `${what}: cannot write in the folder ${dir} (${(error as Error).message}); ` +
        `choose a folder you can write to`,
      { cause: error },
    );
  }
  await Deno.remove(probe);
}

function isFolder(flag: string, path: string): Error {
  return new Deno.errors.IsADirectory(
    `${flag} ${path}: the output path ${path} is a folder; give a file name`,
  );
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return null;
    }
    throw error;
  }
}

/**
 * {@linkcode checkOutputPath} for outputs whose folder the command makes (`logs/`, `reports/`):
 * the folder is created when missing, then checked, before any work starts.
 *
 * @param path The output file.
 * @param options `allowed` extensions and the `flag` that named the path.
 * @returns The output format (its extension).
 * @throws {Deno.errors.PermissionDenied} When the folder cannot be created or written.
 * @throws {UsageError} When the extension is not allowed.
 */
export async function prepareOutputPath(
  path: string,
  options: { allowed: readonly string[]; flag: string },
): Promise<string> {
  const dir = dirname(resolve(path));
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (error) {
    throw new Deno.errors.PermissionDenied(
      `${options.flag} ${path}: cannot create the folder ${dir} (${(error as Error).message}); ` +
        "choose a folder you can write to",
    );
  }
  return await checkOutputPath(path, options);
}
