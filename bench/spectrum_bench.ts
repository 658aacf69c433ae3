/**
 * `singularValues` + metrics (`spectrumOf`) against ml-matrix's SVD (`baseline`), one group per
 * issue-4 shape. numpy is timed in `bench/spectrum_report.ts` (a subprocess cannot be timed
 * fairly inside `Deno.bench`). ml-matrix is pure JavaScript and takes seconds on the larger
 * shapes, so its cases run a fixed two iterations.
 */

import { Matrix as MlMatrix, SVD } from "ml-matrix";
import { spectrumOf } from "../ops/spectrum.ts";
import { benchMatrix, SHAPES } from "./_spectrum_shapes.ts";
import { GPU_BENCH } from "./_config.ts";

for (const { rows, cols } of SHAPES) {
  const group = `spectrum ${rows}x${cols}`;
  const m = benchMatrix(rows, cols);
  const ml = new MlMatrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) ml.set(i, j, m.data[i * cols + j]);
  Deno.bench({
    name: `ml-matrix SVD ${rows}x${cols}`,
    group,
    baseline: true,
    n: 2,
    warmup: 0,
    fn: () => {
      new SVD(ml, {
        computeLeftSingularVectors: false,
        computeRightSingularVectors: false,
        autoTranspose: true,
      });
    },
  });
  Deno.bench({
    name: `prism spectrumOf ${rows}x${cols}`,
    group,
    fn: async () => {
      await spectrumOf(m, { backend: "wasm" });
    },
  });
  Deno.bench({
    name: `prism spectrumOf webgpu ${rows}x${cols}`,
    group,
    n: 3,
    ignore: !GPU_BENCH,
    fn: async () => {
      await spectrumOf(m, { backend: "webgpu" });
    },
  });
}
