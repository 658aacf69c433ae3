/**
 * The shapes and inputs the spectrum benchmarks share (issue 4's table), shrunk in quick mode.
 *
 * @module
 */

import type { Matrix } from "../core/types.ts";
import { QUICK } from "./_config.ts";

/** The shapes with numpy's `svd(compute_uv=False)` time quoted there (ms). */
export const SHAPES: readonly { rows: number; cols: number; numpyMs: number }[] = QUICK
  ? [{ rows: 128, cols: 512, numpyMs: 9 }, { rows: 256, cols: 384, numpyMs: NaN }]
  : [
    { rows: 128, cols: 512, numpyMs: 9 },
    { rows: 512, cols: 768, numpyMs: 96 },
    { rows: 256, cols: 3072, numpyMs: 86 },
    { rows: 4096, cols: 1024, numpyMs: 660 },
  ];

/** A seeded uniform(0, 1) matrix, like post-ReLU activations of a wide layer. */
export function benchMatrix(rows: number, cols: number): Matrix {
  let s = (rows * 31 + cols) >>> 0;
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2 ** 32;
  }
  return { data, rows, cols };
}
