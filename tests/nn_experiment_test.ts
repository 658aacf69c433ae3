import { deepStrictEqual, ok as assert, rejects } from "node:assert";
import type { Matrix } from "../core/types.ts";
import { AbortedError } from "../core/errors.ts";
import { runTrackingExperiment } from "../track/experiment.ts";

/**
 * Singular values in float64 from a cyclic Jacobi eigen-solver on the smaller Gram side: an
 * independent solver, so these tests check the experiment runner apart from ops/spectrum.ts
 * (the default, tested in tests/spectrum_test.ts).
 */
function singularValues(m: Matrix): Promise<Float64Array> {
  const { data, rows, cols } = m;
  const n = Math.min(rows, cols);
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      if (rows <= cols) {
        for (let c = 0; c < cols; c++) s += data[i * cols + c] * data[j * cols + c];
      } else for (let r = 0; r < rows; r++) s += data[r * cols + i] * data[r * cols + j];
      g[i * n + j] = g[j * n + i] = s;
    }
  }
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += g[p * n + q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = g[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (g[q * n + q] - g[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const gkp = g[k * n + p], gkq = g[k * n + q];
          g[k * n + p] = c * gkp - s * gkq;
          g[k * n + q] = s * gkp + c * gkq;
        }
        for (let k = 0; k < n; k++) {
          const gpk = g[p * n + k], gqk = g[q * n + k];
          g[p * n + k] = c * gpk - s * gqk;
          g[q * n + k] = s * gpk + c * gqk;
        }
      }
    }
  }
  const s = Float64Array.from({ length: n }, (_, i) => Math.sqrt(Math.max(0, g[i * n + i])));
  return Promise.resolve(s.sort().reverse());
}

Deno.test("singularValues() test helper matches a known spectrum", async () => {
  // diag(3, 2) embedded in a 3x2 matrix, rotated rows: singular values 3 and 2.
  const data = new Float32Array([3 * 0.6, 2 * 0, 3 * 0.8, 0, 0, 2]);
  const s = await singularValues({ data, rows: 3, cols: 2 });
  assert(Math.abs(s[0] - 3) < 1e-6 && Math.abs(s[1] - 2) < 1e-6, `got ${s}`);
});

Deno.test("runTrackingExperiment() on 60 steps counts measurements per frequency", async () => {
  const progress: number[] = [];
  const result = await runTrackingExperiment({
    steps: 60,
    samplingFrequencies: [1, 5, 20],
    measure: singularValues,
    exportFrequency: null,
    onProgress: (p) => progress.push(p.done),
  });
  // Steps 0..59: every step 60, every 5th 12, every 20th 3; three layers each.
  deepStrictEqual(result.frequencies.map((f) => f.measurements), [180, 36, 9]);
  assert(result.identicalTraining, "tracked runs must train bit-identically to untracked ones");
  assert(result.loss.last < result.loss.first);
  assertEqualsLength(result.baselineSeconds, 3);
  for (const f of result.frequencies) {
    assert(f.memoryBytes >= 56 * f.measurements, `memoryBytes ${f.memoryBytes}`);
    assert(f.observeSeconds > 0 && Number.isFinite(f.overheadPercent));
  }
  deepStrictEqual(progress.at(-1), 2 * 3 * 60); // both twins, three frequencies
});

Deno.test("runTrackingExperiment() stops before training when its signal has aborted", async () => {
  const progress: number[] = [];
  await rejects(
    runTrackingExperiment({
      steps: 60,
      samplingFrequencies: [5],
      measure: singularValues,
      exportFrequency: null,
      signal: AbortSignal.abort(),
      onProgress: (p) => progress.push(p.done),
    }),
    AbortedError,
  );
  deepStrictEqual(progress, []);
});

function assertEqualsLength(a: readonly unknown[], n: number): void {
  assert(a.length === n, `expected ${n} entries, got ${a.length}`);
}
