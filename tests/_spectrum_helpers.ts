/**
 * Helpers of the spectrum tests: seeded test matrices and numpy float64 references.
 *
 * @module
 */

import type { Matrix } from "../core/types.ts";
import { readNpy, writeNpy } from "../io/npy.ts";
import { python } from "./_io_helpers.ts";

/** A seeded uniform(-0.5, 0.5) generator. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** A seeded random `rows × cols` matrix. */
export function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  return { data: Float32Array.from({ length: rows * cols }, rng(seed)), rows, cols };
}

/** A `rows × cols` matrix of exact rank `rank` (a product of random factors, rounded to f32). */
export function lowRank(rows: number, cols: number, rank: number, seed: number): Matrix {
  const r = rng(seed);
  const u = Float64Array.from({ length: rows * rank }, r);
  const v = Float64Array.from({ length: rank * cols }, r);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let k = 0; k < rank; k++) s += u[i * rank + k] * v[k * cols + j];
      data[i * cols + j] = s;
    }
  }
  return { data, rows, cols };
}

/** numpy's float64 singular values of the float32 matrix (as stored). */
export async function numpySingularValues(m: Matrix): Promise<Float64Array> {
  const dir = await Deno.makeTempDir({ prefix: "prism_spectrum_" });
  try {
    await writeNpy(`${dir}/a.npy`, { data: m.data, shape: [m.rows, m.cols] });
    await python(
      "import numpy as np, sys\n" +
        "a = np.load(sys.argv[1]).astype(np.float64)\n" +
        "np.save(sys.argv[2], np.linalg.svd(a, compute_uv=False))",
      `${dir}/a.npy`,
      `${dir}/s.npy`,
    );
    return (await readNpy(`${dir}/s.npy`)).data as Float64Array;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Largest `|a_i − b_i| / b_0` (0 when both are empty); throws when the lengths differ. */
export function errorRelativeToFirst(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let err = 0;
  for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]));
  return b.length === 0 || b[0] === 0 ? err : err / b[0];
}
