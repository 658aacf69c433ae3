/**
 * HDF5 files through h5wasm (the HDF5 C library compiled to WebAssembly): write groups, datasets
 * (chunked, gzip) and attributes atomically; list a file's tree; read datasets whole or by row
 * slices along the first axis, so large datasets stream.
 *
 * Paths inside a file may be given with or without the leading `/`; they are reported with it.
 * Attribute numbers that are all safe integers are stored as int64, other numbers as float64,
 * strings as variable-length UTF-8 strings.
 *
 * Files from elsewhere are read defensively:
 * - **Confinement.** A file is read only from itself: external links, external raw storage and
 *   virtual datasets (which make HDF5 open other files) are refused with an `InvalidDataError`
 *   naming the reference, unless the reader is given `allowExternal: true` (the CLI's
 *   `--allow-external`). HDF5 is also kept from opening plugin folders.
 * - **Limits before work.** A dataset declaring far more bytes than its file could hold (even at
 *   its filters' best compression) by more than the memory budget is refused at open: those
 *   values were never written and would read as fill values (a 2^40-row dataset would stream for
 *   hours). Every read is checked against the memory budget (`PRISM_MEMORY_BUDGET`, in bytes)
 *   before anything is allocated, and h5wasm reads at most 64 MiB per call, so its WebAssembly
 *   memory (which never shrinks) stays small.
 * - **One error type.** Every h5wasm call goes through one wrapper: a failure is an
 *   `InvalidDataError` naming the file and the object, with HDF5's diagnostics as its `cause`.
 *   When the library aborts (`Aborted(...)`, a WebAssembly instance that refuses every later
 *   call), that instance is dropped and the next file opens on a fresh one (h5wasm's module is
 *   imported again under a new URL); readers still open on the aborted instance fail with the
 *   same error. HDF5 2.0 loops forever on some damaged global heaps; those are checked as they
 *   are read and refused first. Other endless loops inside HDF5 cannot be interrupted from
 *   JavaScript: a service reading untrusted files should run them in a subprocess with a timeout.
 *
 * @module
 */

export * from "./hdf5_types.ts";
export { writeHdf5 } from "./hdf5_write.ts";
export { openHdf5Dataset, readHdf5Dataset, readHdf5Datasets, readHdf5Tree } from "./hdf5_read.ts";
