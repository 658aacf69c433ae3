/**
 * Float64 Gram matrices written as plain loops: the scalar baselines the SYRK benchmarks time,
 * and the references the kernel tests compare against (`tests/_helpers.ts` re-exports them).
 *
 * @module
 */

/**
 * The upper triangle of `Σ_r d_rᵀ d_r` with `d_r = x[r] - shift` (the Gram matrix of the
 * columns, `XᵀX` for a zero shift), in float64, one row at a time. The strict lower triangle
 * stays zero. Benchmarks time it as the scalar baseline.
 *
 * @param x Row-major values, `rows x cols`.
 * @param rows Rows.
 * @param cols Columns.
 * @param shift Subtracted from every row (default none).
 * @returns `cols x cols`, row-major.
 */
export function gramColumns64(
  x: ArrayLike<number>,
  rows: number,
  cols: number,
  shift?: ArrayLike<number>,
): Float64Array {
  const gram = new Float64Array(cols * cols);
  const d = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) d[c] = x[r * cols + c] - (shift === undefined ? 0 : shift[c]);
    for (let i = 0; i < cols; i++) {
      const di = d[i];
      for (let j = i; j < cols; j++) gram[i * cols + j] += di * d[j];
    }
  }
  return gram;
}

/**
 * The upper triangle of `A·Aᵀ` (the Gram matrix of the rows) in float64, one dot product per
 * entry. The strict lower triangle stays zero. Benchmarks time it as the scalar baseline.
 *
 * @param a Row-major values, `rows x cols`.
 * @param rows Rows.
 * @param cols Columns.
 * @returns `rows x rows`, row-major.
 */
export function gramRows64(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const gram = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    for (let j = i; j < rows; j++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += a[i * cols + c] * a[j * cols + c];
      gram[i * rows + j] = s;
    }
  }
  return gram;
}

/**
 * The sample covariance (ddof 1) in float64 as plain loops: a pass for the means, then
 * {@linkcode gramColumns64} of the centred rows. The covariance benchmarks' plain TypeScript
 * column (the upper triangle only, as the Gram).
 *
 * @param x Row-major values, `rows x cols`, `rows` ≥ 2.
 * @param rows Rows.
 * @param cols Columns.
 * @returns `cols x cols`, row-major, upper triangle.
 */
export function covariance64(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const mean = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c] += x[r * cols + c];
  for (let c = 0; c < cols; c++) mean[c] /= rows;
  const gram = gramColumns64(x, rows, cols, mean);
  for (let i = 0; i < gram.length; i++) gram[i] /= rows - 1;
  return gram;
}
