/**
 * The one place that imports h5wasm. It is imported on first HDF5 use, never at module load: its
 * Node build reads the environment and the file system as it starts (so an eager import would make
 * `import "mod.ts"` ask for `--allow-env`), and only HDF5 callers need its 15 MB. The specifier is
 * the full `npm:` one, not a bare name from deno.json's import map, so that a project importing
 * prism by path, by URL or from JSR resolves it with its own configuration.
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

/** Where h5wasm comes from (its Node build); the same specifier as in the type `H5` below. */
const H5WASM = "npm:h5wasm@0.10.3/node";

/** The h5wasm namespace (File, Group, Dataset, ...). */
export type H5 = typeof import("npm:h5wasm@0.10.3/node").default;
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
  /** Damaged structures a read was refused for (see {@linkcode globalHeapProblem}). */
  damaged: string[];
  /** Closers of the temporary files HDF5's error handler made (it never closes them). */
  created: (() => void)[];
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
  // The first instance is the module itself, imported here on first use through a variable, so
  // that `deno run` does not fetch it for programs that never touch HDF5 (the type import of `H5`
  // keeps it in the lockfile and in `deno install`'s cache); later ones re-import its file under
  // a new URL (a query), which evaluates the module again and so instantiates a new library.
  const { namespace, ready } = await withListableEnv(async () => {
    const namespace: H5 = n === 0
      ? (await import(H5WASM)).default
      : (await import(`${import.meta.resolve(H5WASM)}?instance=${n}`)).default;
    return { namespace, ready: await namespace.ready };
  });
  const module = ready as unknown as {
    activate_throwing_error_handler(): number;
    HEAPU8: Uint8Array;
    FS: {
      open(path: string, flags: unknown, ...rest: unknown[]): unknown;
      close(stream: unknown): void;
      read(
        stream: { path?: string },
        buffer: Uint8Array,
        offset: number,
        length: number,
        position?: number,
      ): number;
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
      // A folder is HDF5 looking for plugins (filters, VOL connectors): refused, and not
      // reported, since it is not the file's doing.
      const folder = typeof flags === "number" && (flags & 65536) !== 0; // O_DIRECTORY
      if (!folder) c.refused.push(path);
      throw new fs.ErrnoError(2); // EACCES in Emscripten's numbering
    }
    const stream = open.call(this, path, flags, ...rest);
    // h5wasm's throwing error handler prints HDF5's error stack to a tmpfile() and throws before
    // its fclose(): one host file descriptor would leak per HDF5 error. Closed after the call.
    if (creates && c !== undefined) {
      c.created.push(() => {
        try {
          fs.close(stream);
        } catch {
          // Already closed.
        }
      });
    }
    return stream;
  };
  const read = fs.read;
  fs.read = function (stream, buffer, offset, length, position) {
    const got = read.call(this, stream, buffer, offset, length, position);
    // 0x47434f4c: "GCOL", a global heap collection (variable-length strings and arrays).
    if (got >= 16 && buffer[offset] === 0x47 && buffer[offset + 1] === 0x43) {
      const problem = globalHeapProblem(buffer.subarray(offset, offset + got));
      if (problem !== undefined) {
        confinement?.damaged.push(`the global heap collection at byte ${position}: ${problem}`);
        throw new fs.ErrnoError(29); // EIO: HDF5 reports a failed read
      }
    }
    return got;
  };
  return { h5: namespace, heapBytes: () => module.HEAPU8.length };
}

/**
 * Runs `load` (importing and starting one library instance) with `process.env` replaced by an
 * empty object unless the whole environment may be read. Emscripten's runtime copies every
 * variable into the library's C environment as it starts (for HDF5's `getenv`), and listing them
 * needs `--allow-env`: without this, reading an HDF5 file under `--allow-read` alone would fail
 * with `NotCapable`. HDF5 then sees no variables, so its defaults hold. The copy is made once per
 * instance, at start-up, so the real `process.env` is back as soon as the instance is ready.
 *
 * @param load Imports the module and waits for it to be ready.
 * @returns What `load` returns.
 */
async function withListableEnv<T>(load: () => Promise<T>): Promise<T> {
  if (Deno.permissions.querySync({ name: "env" }).state === "granted") return await load();
  // Imported here, not at module load: node:process starts Deno's Node layer (slow to import).
  const { default: process } = await import("node:process");
  const real = process.env;
  process.env = {};
  try {
    return await load();
  } finally {
    process.env = real;
  }
}

/**
 * Checks a global heap collection the way HDF5 walks it, before HDF5 does: HDF5 2.0 steps from
 * object to object by each object's declared size, so a size of 0 never advances (an endless
 * loop) and a huge one wraps the 32-bit address (an endless loop or a crash). Only the bytes read
 * are checked; HDF5 re-reads a collection whole when it is longer than its first read.
 *
 * @param bytes The read, starting at the "GCOL" signature.
 * @returns What is wrong, or `undefined` when the collection is sound (or not a collection).
 */
export function globalHeapProblem(bytes: Uint8Array): string | undefined {
  if (bytes[2] !== 0x4f || bytes[3] !== 0x4c || bytes[4] !== 1) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (at: number) => view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
  const size = u64(8);
  if (size < 16) return `its size, ${size} bytes, is smaller than its header`;
  const end = Math.min(size, bytes.length);
  for (let p = 16; p + 16 <= end;) {
    const index = view.getUint16(p, true);
    const objectSize = u64(p + 8);
    const need = index > 0 ? 16 + Math.ceil(objectSize / 8) * 8 : objectSize;
    if (need === 0) return `object ${index} at byte ${p} has size 0`;
    if (p + need > size) {
      return `object ${index} at byte ${p} declares ${objectSize} bytes, past the collection's ` +
        `end (${size} bytes)`;
    }
    p += need;
  }
  return undefined;
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
 * @returns `fn`'s value, or its error with the refused paths and the damaged structures found.
 */
export function confineTo<T>(
  own: string,
  allowExternal: boolean,
  fn: () => T,
):
  | { ok: true; value: T }
  | { ok: false; error: unknown; refused: string[]; damaged: string[] } {
  const outer = confinement;
  const inner: Confinement = { own, allowExternal, refused: [], damaged: [], created: [] };
  confinement = inner;
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error, refused: inner.refused, damaged: inner.damaged };
  } finally {
    confinement = outer;
    for (const close of inner.created) close();
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
