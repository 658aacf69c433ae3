/**
 * Lexical absolute paths without `node:path`: importing a Node built-in starts Deno's Node
 * compatibility layer (tens of milliseconds), and `mod.ts` should import fast. Paths are made
 * absolute against `Deno.cwd()` and `.`/`..` resolved by their text, as `node:path`'s `resolve`
 * does; both separators are accepted, so Windows paths work too.
 *
 * @module
 */

/** Whether `path` starts at a root (`/`, `\`, or a drive such as `C:\`). */
export function isAbsolute(path: string): boolean {
  return path.startsWith("/") || path.startsWith("\\") || /^[A-Za-z]:[\\/]/.test(path);
}

/**
 * The path's segments from the root, with `.` and `..` resolved lexically (a drive letter, when
 * there is one, is the first segment).
 *
 * @param path A relative (to the working folder) or absolute path.
 * @returns Its segments.
 * @example
 * ```ts
 * import { pathSegments } from "./_path.ts";
 * import assert from "node:assert";
 * assert.deepStrictEqual(pathSegments("/data/./cubes/../x.hdr"), ["data", "x.hdr"]);
 * ```
 */
export function pathSegments(path: string): string[] {
  const out: string[] = [];
  for (const part of (isAbsolute(path) ? path : `${Deno.cwd()}/${path}`).split(/[\\/]+/)) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return out;
}

/**
 * The absolute form of `path` (what `node:path`'s `resolve(path)` gives on POSIX).
 *
 * @param path A relative (to the working folder) or absolute path.
 * @returns The absolute path, `/`-separated (after the drive letter on Windows).
 * @example
 * ```ts
 * import { absolutePath } from "./_path.ts";
 * import assert from "node:assert";
 * assert.strictEqual(absolutePath("/a/b/../c"), "/a/c");
 * assert.strictEqual(absolutePath("x.h5"), `${Deno.cwd()}/x.h5`.replaceAll("\\", "/"));
 * ```
 */
export function absolutePath(path: string): string {
  const segments = pathSegments(path);
  return /^[A-Za-z]:$/.test(segments[0] ?? "") ? segments.join("/") : `/${segments.join("/")}`;
}

/**
 * The extension of the path's last segment, with its dot (`".hdr"`), or `""`: what `node:path`'s
 * `extname` gives (a leading dot, as in `.bashrc`, is not an extension).
 *
 * @param path A file path.
 * @returns The extension, as written.
 * @example
 * ```ts
 * import { extensionOf } from "./_path.ts";
 * import assert from "node:assert";
 * assert.strictEqual(extensionOf("/a.b/scores.HDR"), ".HDR");
 * assert.strictEqual(extensionOf("/a.b/.hidden"), "");
 * ```
 */
export function extensionOf(path: string): string {
  const name = path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot) : "";
}
