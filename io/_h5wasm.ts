/**
 * The one place that imports h5wasm, so the import specifier changes in one line (the full `npm:`
 * specifier here until deno.json maps the bare name `h5wasm`).
 *
 * h5wasm's node build is compiled with Emscripten's NODERAWFS: it opens files through Node's `fs`
 * (Deno's `node:fs`), i.e. the real file system, resolving relative paths against `Deno.cwd()`.
 * The callers pass absolute paths anyway so a later `Deno.chdir` cannot redirect an open file.
 *
 * Two safety hooks live here, because they hang on the library instance:
 *
 * - **Confinement.** Every file HDF5 opens goes through Emscripten's `FS.open`, which is wrapped:
 *   while {@linkcode confineTo} is in force, HDF5 may open only the file being read. Anything else
 *   it asks for (the target of an external link, external raw storage, the sources of a virtual
 *   dataset, a filter plugin folder) is refused and recorded, so the caller can name it.
 * - **Fresh instances.** An `Aborted(...)` inside the library leaves that WebAssembly instance
 *   dead (Emscripten refuses every later call). {@linkcode discardH5wasm} drops it, and the next
 *   {@linkcode loadH5wasm} imports h5wasm's module again under a new URL, which instantiates a new
 *   library with its own memory. Files still open on the dead instance keep failing; other files
 *   are unaffected.
 *
 * @module
 */

import h5wasm from "h5wasm/node";

/** The h5wasm namespace (File, Group, Dataset, ...). */
export type H5 = typeof h5wasm;
/** An open h5wasm file. */
export type H5File = InstanceType<H5["File"]>;
/** An h5wasm group. */
export type H5Group = InstanceType<H5["Group"]>;
/** An h5wasm dataset. */
export type H5Dataset = InstanceType<H5["Dataset"]>;

/** What HDF5 may open during one call: the file itself, and others only when allowed. */
interface Confinement {
  /** The absolute path of the file being accessed. */
  own: string;
  /** Whether other files may be opened (the caller's `allowExternal`). */
  allowExternal: boolean;
  /** Paths HDF5 asked for and was refused, in order. */
  refused: string[];
}

interface Instance {
  h5: H5;
  /** The WebAssembly heap, for tests that watch its size. */
  heapBytes(): number;
}

let loading: Promise<Instance> | undefined;
let live: Instance | undefined;
let generation = 0;
let confinement: Confinement | undefined;

/**
 * Loads h5wasm once (again after {@linkcode discardH5wasm}). HDF5's default error handler prints
 * its error stack to stderr and lets the call return a bad id; the throwing handler turns every
 * HDF5 failure into a JavaScript error.
 *
 * @returns The h5wasm namespace, ready to use.
 */
export async function loadH5wasm(): Promise<H5> {
  return (await instance()).h5;
}

/** The size of the live instance's WebAssembly memory in bytes (0 before the first load). */
export async function h5wasmHeapBytes(): Promise<number> {
  return loading === undefined ? 0 : (await instance()).heapBytes();
}

function instance(): Promise<Instance> {
  loading ??= create(generation).then((made) => live = made, (error) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

async function create(n: number): Promise<Instance> {
  // The first instance is the statically imported module; later ones re-import its file under a
  // new URL (a query), which evaluates the module again and so instantiates a new library.
  const namespace: H5 = n === 0
    ? h5wasm
    : (await import(`${import.meta.resolve("h5wasm/node")}?instance=${n}`)).default;
  const module = await namespace.ready as unknown as {
    activate_throwing_error_handler(): number;
    HEAPU8: Uint8Array;
    FS: {
      open(path: string, flags: unknown, ...rest: unknown[]): unknown;
      ErrnoError: new (errno: number) => Error;
    };
  };
  module.activate_throwing_error_handler();
  const fs = module.FS;
  const open = fs.open;
  fs.open = function (path: string, flags: unknown, ...rest: unknown[]) {
    const c = confinement;
    // A new file created exclusively reads nothing: the error handler's tmpfile() for HDF5's
    // error stack (O_CREAT | O_EXCL in Emscripten's numbering: 64 | 128).
    const creates = typeof flags === "number" && (flags & 192) === 192;
    if (c !== undefined && !c.allowExternal && !creates && !sameFile(path, c.own)) {
      c.refused.push(path);
      throw new fs.ErrnoError(2); // EACCES in Emscripten's numbering
    }
    return open.call(this, path, flags, ...rest);
  };
  return { h5: namespace, heapBytes: () => module.HEAPU8.length };
}

function sameFile(path: string, own: string): boolean {
  if (path === own) return true;
  // HDF5 may spell the same file differently ("./x", "a//b"); compare normalised absolute paths.
  const abs = (p: string) =>
    (p.startsWith("/") ? p : `${Deno.cwd()}/${p}`).split("/").reduce<string[]>((parts, part) => {
      if (part === "..") parts.pop();
      else if (part !== "" && part !== ".") parts.push(part);
      return parts;
    }, []).join("/");
  return abs(path) === abs(own);
}

/**
 * Runs `fn` (synchronous h5wasm calls) with HDF5 confined to the file `own`: opening any other
 * file fails inside HDF5, and the refused paths are returned beside the outcome.
 *
 * @param own The absolute path of the file being accessed.
 * @param allowExternal Whether other files may be opened after all.
 * @param fn The calls.
 * @returns `fn`'s value or error, and the refused paths.
 */
export function confineTo<T>(
  own: string,
  allowExternal: boolean,
  fn: () => T,
): { ok: true; value: T; refused: string[] } | { ok: false; error: unknown; refused: string[] } {
  const outer = confinement;
  const inner: Confinement = { own, allowExternal, refused: [] };
  confinement = inner;
  try {
    return { ok: true, value: fn(), refused: inner.refused };
  } catch (error) {
    return { ok: false, error, refused: inner.refused };
  } finally {
    confinement = outer;
  }
}

/**
 * Drops the library instance `h5` after it aborted, so the next {@linkcode loadH5wasm} starts a
 * fresh one. Does nothing when a newer instance is already live.
 *
 * @param h5 The instance that aborted.
 */
export function discardH5wasm(h5: H5): void {
  if (live === undefined || live.h5 !== h5) return;
  generation++;
  live = undefined;
  loading = undefined;
}
