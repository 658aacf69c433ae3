/**
 * The types of prism's HDF5 files (`./hdf5.ts`): what `writeHdf5` writes and what the readers
 * return.
 *
 * @module
 */

import type { ArrayRowReader } from "./row_reader.ts";

/** Attribute values prism writes and reads back. */
export type Hdf5Attrs = Record<string, string | number | string[] | number[]>;

/** The typed arrays a dataset can be written from. */
export type Hdf5Data =
  | Float32Array
  | Float64Array
  | Int32Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array;

/** The typed arrays a numeric dataset can be read into (HDF5 files from elsewhere add a few). */
export type Hdf5ReadData = Hdf5Data | Int8Array | BigUint64Array;

/** One dataset to write. */
export interface Hdf5DatasetSpec {
  /** Where in the file, e.g. `"conv1/stable_rank"`; missing parent groups are created. */
  path: string;
  /** The values, C order. */
  data: Hdf5Data;
  /** The extent of each axis; the product must equal `data.length`. */
  shape: number[];
  /** Chunk extents (one per axis, each at most the axis extent); chosen when `gzip` needs them. */
  chunks?: number[];
  /** gzip (deflate) level 0-9; absent means no compression. */
  gzip?: number;
  /** Attributes of the dataset. */
  attrs?: Hdf5Attrs;
}

/** What {@linkcode writeHdf5} writes. */
export interface Hdf5Content {
  /** Attributes of the root group. */
  attrs?: Hdf5Attrs;
  /** Groups to create (with their attributes); existing ones get the attributes set. */
  groups?: { path: string; attrs?: Hdf5Attrs }[];
  /** Datasets to create. */
  datasets?: Hdf5DatasetSpec[];
}

/** A dataset as {@linkcode readHdf5Tree} lists it. */
export interface Hdf5DatasetInfo {
  /** Absolute path in the file. */
  path: string;
  /** The extent of each axis (`[]` for a scalar). */
  shape: number[];
  /** `float32`, `int64`, ... for numbers; `string`, `compound`, ... otherwise. */
  dtype: string;
  /** Chunk extents, or `null` when stored contiguously. */
  chunks: number[] | null;
  /** The gzip level when the deflate filter is on. */
  gzip?: number;
  /** Names of all filters in the pipeline (`deflate`, `shuffle`, ...). */
  filters: string[];
  /** Attributes. */
  attrs: Hdf5Attrs;
}

/**
 * A file's groups and datasets. Links to missing targets, named datatypes and (unless
 * `allowExternal`) external links are not listed.
 */
export interface Hdf5Tree {
  /** Attributes of the root group. */
  attrs: Hdf5Attrs;
  /** Every group but the root, parents before children. */
  groups: { path: string; attrs: Hdf5Attrs }[];
  /** Every dataset. */
  datasets: Hdf5DatasetInfo[];
}

/** An open dataset whose rows (slices along the first axis) are read on demand. */
export interface Hdf5DatasetReader extends ArrayRowReader {}

/** Options every HDF5 reader takes. */
export interface Hdf5ReadOptions {
  /**
   * Let the file read other files: the targets of external links, external raw storage and the
   * sources of virtual datasets. Off by default: such a file is refused with an error naming the
   * reference, because a file from elsewhere could otherwise make prism read any local file.
   */
  allowExternal?: boolean;
}
