/**
 * The one way prism picks a file format from a path's extension, so every reader and writer
 * fails alike on an extension it does not know.
 *
 * @module
 */

/**
 * The format a path's extension names, from a table of extensions (lower case, without the dot).
 *
 * An unknown extension is a `RangeError`: the path is a string as required, but its value lies
 * outside the accepted set (as `new TextDecoder("bogus")` is a `RangeError`).
 *
 * @param path The file path; the extension matches in any letter case.
 * @param formats Each accepted extension and the format it names, e.g. `{ h5: "hdf5", hdf5: "hdf5" }`.
 * @returns The format of `path`.
 * @throws {TypeError} When `path` is not a non-empty string.
 * @throws {RangeError} When the extension is missing or not in `formats`; the message lists the
 *   accepted extensions.
 * @example
 * ```ts
 * import { formatOfPath } from "./format.ts";
 * import assert from "node:assert";
 * const table = { json: "json", h5: "hdf5", hdf5: "hdf5" } as const;
 * assert(formatOfPath("model.H5", table) === "hdf5");
 * assert.throws(() => formatOfPath("model.txt", table), RangeError);
 * ```
 */
export function formatOfPath<F extends string>(
  path: string,
  formats: Readonly<Record<string, F>>,
): F {
  if (typeof path !== "string" || path.length === 0) {
    throw new TypeError(`path must be a non-empty string, got ${String(path)}`);
  }
  const dot = path.lastIndexOf(".");
  const ext = dot < 0 || path.slice(dot).includes("/") ? "" : path.slice(dot + 1).toLowerCase();
  const format = Object.hasOwn(formats, ext) ? formats[ext] : undefined;
  if (format !== undefined) return format;
  const names = Object.keys(formats).map((e) => `.${e}`);
  const list = names.length > 1 ? `${names.slice(0, -1).join(", ")} or ${names.at(-1)}` : names[0];
  throw new RangeError(`cannot tell the format of ${path}: use the extension ${list}`);
}
