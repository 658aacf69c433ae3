/**
 * What every file reader of prism shares: rows (slices along the first axis, image lines for
 * ENVI) read on demand as float32, asynchronously, then closed. `openCubeSource` streams any
 * of them the same way.
 *
 * @module
 */

/** An open file whose rows are read on demand. */
export interface RowReader {
  /**
   * Reads `count` rows from `start` as float32 (other element types converted; float64 and
   * int32 rounded to nearest). Calls may overlap; they run one after another.
   */
  readRows(start: number, count: number): Promise<Float32Array>;
  /** Closes the file; a second call does nothing. */
  close(): void;
  /** Closes the file (`using reader = await open…(...)`). */
  [Symbol.dispose](): void;
}

/** A {@linkcode RowReader} of an n-dimensional array (`.npy`, an HDF5 dataset). */
export interface ArrayRowReader extends RowReader {
  /** The extent of each axis. */
  readonly shape: readonly number[];
  /** numpy's name of the element type, e.g. `float32`. */
  readonly dtype: string;
  /** Rows along the first axis (1 for a scalar). */
  readonly rows: number;
  /** Values per row: the product of the other axes. */
  readonly rowLength: number;
  /** The array's attributes, for formats that have them (HDF5); they may name its layout. */
  readonly attrs?: Readonly<Record<string, unknown>>;
  /**
   * Reads `a[:, start:start + count]` (every index of the first axis, a range of the second) as
   * float32 in C order: the lines of a band-first (`C × H × W`) array. Readers without it are
   * read whole when such a slab is needed.
   */
  readInner?(start: number, count: number): Promise<Float32Array>;
}
