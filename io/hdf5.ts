/**
 * HDF5 files through h5wasm (the HDF5 C library compiled to WebAssembly): write groups, datasets
 * (chunked, gzip) and attributes atomically; list a file's tree; read datasets whole or by row
 * slices along the first axis, so large datasets stream.
 *
 * Paths inside a file may be given with or without the leading `/`; they are reported with it.
 * Attribute numbers that are all safe integers are stored as int64, other numbers as float64,
 * strings as variable-length UTF-8 strings.
 *
 * @module
 */

export * from "./hdf5_types.ts";
export { writeHdf5 } from "./hdf5_write.ts";
export { openHdf5Dataset, readHdf5Dataset, readHdf5Datasets, readHdf5Tree } from "./hdf5_read.ts";
