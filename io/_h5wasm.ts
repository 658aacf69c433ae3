/**
 * The one place that imports h5wasm, so the import specifier changes in one line (the full `npm:`
 * specifier here until deno.json maps the bare name `h5wasm`).
 *
 * h5wasm's node build is compiled with Emscripten's NODERAWFS: it opens files through Node's `fs`
 * (Deno's `node:fs`), i.e. the real file system, resolving relative paths against `Deno.cwd()`.
 * The callers pass absolute paths anyway so a later `Deno.chdir` cannot redirect an open file.
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

let loading: Promise<H5> | undefined;

/**
 * Loads h5wasm once. HDF5's default error handler prints its error stack to stderr and lets the
 * call return a bad id; the throwing handler turns every HDF5 failure into a JavaScript error.
 *
 * @returns The h5wasm namespace, ready to use.
 */
export function loadH5wasm(): Promise<H5> {
  loading ??= h5wasm.ready.then((module) => {
    (module as unknown as { activate_throwing_error_handler(): number })
      .activate_throwing_error_handler();
    return h5wasm;
  });
  return loading;
}
