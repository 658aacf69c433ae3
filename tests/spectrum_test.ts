import assert from "node:assert";
import type { Matrix } from "../core/types.ts";
import { AbortedError, InvalidDataError } from "../core/errors.ts";
import { singularValues, spectrumOf } from "../ops/spectrum.ts";
import { SPECTRUM_EPS, spectrumMetrics } from "../ops/spectrum_metrics.ts";
import { DimensionalityTracker } from "../track/tracker.ts";
import { hasNumpy, rejectsWith } from "./_io_helpers.ts";
import {
  errorRelativeToFirst,
  lowRank,
  numpySingularValues,
  randomMatrix,
  rng,
} from "./_spectrum_helpers.ts";

const numpy = { ignore: !hasNumpy };

function constantColumns(rows: number, cols: number): Matrix {
  const r = rng(5);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) data[i * cols + j] = j % 3 === 0 ? 1.5 : r();
  }
  return { data, rows, cols };
}

const CASES: [string, Matrix][] = [
  ["tall 257 x 31", randomMatrix(257, 31, 1)],
  ["wide 13 x 257", randomMatrix(13, 257, 2)],
  ["square 97 x 97", randomMatrix(97, 97, 3)],
  ["single row 1 x 50", randomMatrix(1, 50, 4)],
  ["single column 50 x 1", randomMatrix(50, 1, 6)],
  ["1 x 1", { data: new Float32Array([-3]), rows: 1, cols: 1 }],
  ["rank 5 in 512 x 768", lowRank(512, 768, 5, 7)],
  ["constant columns 200 x 30", constantColumns(200, 30)],
];

for (const [name, m] of CASES) {
  Deno.test({
    name: `singularValues() matches numpy's float64 SVD within 1e-5 of s1 on ${name}`,
    ...numpy,
    fn: async () => {
      const ref = await numpySingularValues(m);
      const s = await singularValues(m, { backend: "wasm" });
      assert.deepStrictEqual(s.length, Math.min(m.rows, m.cols));
      for (let i = 1; i < s.length; i++) assert(s[i] <= s[i - 1], "descending");
      const err = errorRelativeToFirst(s, ref);
      assert(err < 1e-5, `max |s - ref| / s1 = ${err}`);
    },
  });
}

Deno.test({
  name:
    "spectrumOf() metrics match float64 metrics of numpy's singular values (1e-6, entropy 1e-5)",
  ...numpy,
  fn: async () => {
    for (const [, m] of CASES) {
      const ref = spectrumMetrics(await numpySingularValues(m), { shape: [m.rows, m.cols] });
      const { metrics } = await spectrumOf(m);
      for (const [key, value] of Object.entries(ref)) {
        const ours = metrics[key as keyof typeof metrics];
        if (key === "numerical_rank" || key === "cumulative_90") {
          // Integer counts: exact, except numerical_rank of a rank-deficient float32 matrix,
          // whose tiny rounding singular values sit at numpy's tolerance.
          if (key === "numerical_rank" && m.rows === 512) assert(ours === 5 && value >= 5);
          else assert.deepStrictEqual(ours, value, `${key}`);
        } else if (key === "condition_number") {
          // s1 / s_min inherits s_min's error, which the Gram route bounds by 1e-5 * s1 (not
          // relative to s_min): compare 1 / condition_number = s_min / s1 to that bound.
          assert(Math.abs(1 / ours - 1 / value) <= 1e-5, `${key}: ${ours} vs ${value}`);
        } else {
          // The metrics of the large values hold 1e-6; entropy and effective rank also weigh
          // the smallest values, which the Gram route gives to ~1e-6 of s1.
          const tol = ["spectral_entropy", "effective_rank"].includes(key) ? 1e-5 : 1e-6;
          assert(
            Math.abs(ours - value) <= tol * Math.abs(value) + 1e-12,
            `${key}: ${ours} vs ${value}`,
          );
        }
      }
    }
  },
});

Deno.test("singularValues() of the zero matrix is all zeros and its metrics follow the eps formulas", async () => {
  const zero = { data: new Float32Array(40 * 7), rows: 40, cols: 7 };
  for (const exact of [false, true]) {
    const { singularValues: s, metrics } = await spectrumOf(zero, { exact });
    assert.deepStrictEqual(Array.from(s), new Array(7).fill(0));
    for (const [key, v] of Object.entries(metrics)) assert(Number.isFinite(v), `${key} = ${v}`);
    assert.deepStrictEqual(metrics.stable_rank, 0);
    assert.deepStrictEqual(metrics.participation_ratio, 1 / SPECTRUM_EPS);
    assert.deepStrictEqual(metrics.cumulative_90, 1);
    assert.deepStrictEqual(metrics.effective_rank, 1);
    assert.deepStrictEqual(metrics.numerical_rank, 0);
  }
});

Deno.test("singularValues() scales values near float32's range without overflow or underflow", async () => {
  const m = randomMatrix(60, 20, 9);
  const base = await singularValues(m);
  for (const factor of [2 ** 70, 2 ** -90]) {
    const big = { ...m, data: m.data.map((v) => v * factor) };
    const s = await singularValues(big);
    for (let i = 0; i < s.length; i++) {
      assert(Math.abs(s[i] / factor - base[i]) <= 1e-6 * base[0], `factor ${factor}, s[${i}]`);
    }
  }
});

Deno.test("singularValues() scales exactly as before at the edges of the unscaled range", async () => {
  // The WASM route skips the scan of every value when the Gram's diagonal proves the largest
  // magnitude inside [2^-39, 2^39]; just inside and just outside the scaling rule's edges
  // (2^±40.5), in a matrix with one large column and a matrix with one large value, the
  // result must match the unscaled one times the factor.
  const m = randomMatrix(61, 17, 4);
  const base = await singularValues(m);
  for (const factor of [2 ** 38, 2 ** 39.9, 2 ** 40.6, 2 ** 41, 2 ** -38, 2 ** -40.2, 2 ** -41]) {
    const s = await singularValues({ ...m, data: m.data.map((v) => v * factor) }, {
      backend: "wasm",
    });
    for (let i = 0; i < s.length; i++) {
      assert(Math.abs(s[i] / factor - base[i]) <= 1e-6 * base[0], `factor ${factor}, s[${i}]`);
    }
  }
  // One value 2^45 times the rest: its square dominates one diagonal entry.
  const spike = m.data.slice();
  spike[7 * 17 + 3] = 2 ** 45;
  const reference = await singularValues({ ...m, data: spike }, { exact: true });
  const s = await singularValues({ ...m, data: spike }, { backend: "wasm" });
  for (let i = 0; i < s.length; i++) {
    assert(Math.abs(s[i] - reference[i]) <= 1e-5 * reference[0], `spike, s[${i}]`);
  }
});

Deno.test({
  name:
    "singularValues({ exact: true }) keeps the small values the Gram route loses (ill-conditioned)",
  ...numpy,
  fn: async () => {
    // A = U diag(s) Vᵀ with s from 1 down to 1e-6 (geometric), U and V from QR of random data.
    const rows = 80, cols = 40;
    const r = rng(11);
    const orth = (n: number, k: number) => {
      const q = Array.from({ length: k }, () => Float64Array.from({ length: n }, r));
      for (let j = 0; j < k; j++) {
        for (let i = 0; i < j; i++) {
          let d = 0;
          for (let t = 0; t < n; t++) d += q[j][t] * q[i][t];
          for (let t = 0; t < n; t++) q[j][t] -= d * q[i][t];
        }
        const norm = Math.hypot(...q[j]);
        for (let t = 0; t < n; t++) q[j][t] /= norm;
      }
      return q;
    };
    const u = orth(rows, cols), v = orth(cols, cols);
    const sigma = Float64Array.from({ length: cols }, (_, k) => 10 ** (-6 * k / (cols - 1)));
    const data = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        let x = 0;
        for (let k = 0; k < cols; k++) x += u[k][i] * sigma[k] * v[k][j];
        data[i * cols + j] = x;
      }
    }
    const m = { data, rows, cols };
    const ref = await numpySingularValues(m);
    const exact = await singularValues(m, { exact: true });
    const gram = await singularValues(m);
    const last = cols - 1;
    const relExact = Math.abs(exact[last] - ref[last]) / ref[last];
    const relGram = Math.abs(gram[last] - ref[last]) / ref[last];
    console.log(
      `smallest singular value ${ref[last].toExponential(3)} (numpy): exact ` +
        `${exact[last].toExponential(3)} (rel. error ${relExact.toExponential(1)}), Gram route ` +
        `${gram[last].toExponential(3)} (rel. error ${relGram.toExponential(1)})`,
    );
    for (let k = 0; k < cols; k++) {
      assert(Math.abs(exact[k] - ref[k]) <= 1e-9 * ref[k], `exact s[${k}]`);
    }
    assert(relGram > 0.1, "the Gram route should lose the smallest value's relative accuracy");
    const gramErr = errorRelativeToFirst(gram, ref);
    console.log(`Gram route: max |s - ref| / s1 = ${gramErr.toExponential(2)}`);
    assert(gramErr < 1e-3, "the Gram route's absolute error stays at its noise floor");
  },
});

Deno.test("singularValues() of an empty matrix is empty; spectrumOf() rejects it", async () => {
  assert.deepStrictEqual(
    (await singularValues({ data: new Float32Array(0), rows: 0, cols: 5 })).length,
    0,
  );
  assert.deepStrictEqual(
    (await singularValues({ data: new Float32Array(0), rows: 4, cols: 0 })).length,
    0,
  );
  await rejectsWith(
    () => spectrumOf({ data: new Float32Array(0), rows: 0, cols: 5 }),
    RangeError,
    "0 x 5",
  );
});

Deno.test("singularValues() rejects non-finite values naming row and col, and bad options", async () => {
  const m = randomMatrix(6, 5, 1);
  for (const bad of [NaN, Infinity, -Infinity]) {
    const data = m.data.slice();
    data[3 * 5 + 2] = bad;
    for (const exact of [false, true]) {
      const e = await rejectsWith(
        () => singularValues({ data, rows: 6, cols: 5 }, { exact }),
        InvalidDataError,
        "row 3, col 2",
      ) as InvalidDataError;
      assert.deepStrictEqual(e.position, { row: 3, col: 2 });
    }
  }
  await rejectsWith(
    () => singularValues({ data: new Float32Array(5), rows: 2, cols: 3 }),
    TypeError,
  );
  await rejectsWith(
    () => singularValues({ data: [1, 2] as unknown as Float32Array, rows: 1, cols: 2 }),
    TypeError,
    "Float32Array",
  );
  await rejectsWith(() => singularValues(m, { backend: "cuda" as "wasm" }), RangeError, "backend");
  await rejectsWith(() => singularValues(m, { exact: true, backend: "webgpu" }), RangeError, "CPU");
  await rejectsWith(
    () => singularValues(m, { signal: AbortSignal.abort() }),
    AbortedError,
    "singularValues",
  );
});

Deno.test({
  name: "the tracker's default measure stores metrics equal to those of numpy's singular values",
  ...numpy,
  fn: async () => {
    const tracker = new DimensionalityTracker({ samplingFrequency: 2 });
    const steps: Matrix[] = [];
    for (let step = 0; step < 6; step++) {
      const m = randomMatrix(32, 24, 100 + step);
      steps.push(m);
      await tracker.observe(step, { layer: "fc", activations: m, loss: 1 / (step + 1) });
    }
    const rows = tracker.rows("fc");
    assert.deepStrictEqual(rows.map((r) => r.step), [0, 2, 4]);
    for (const row of rows) {
      const m = steps[row.step];
      const ref = spectrumMetrics(await numpySingularValues(m), { shape: [m.rows, m.cols] });
      for (const key of Object.keys(ref) as (keyof typeof ref)[]) {
        if (key === "pr_variance") continue; // not stored by the tracker
        const ours = row[key];
        // Stored as float32 (6e-8) from Gram-route values (s_min within ~1e-6 relative).
        assert(
          Math.abs(ours - ref[key]) <= 1e-5 * Math.abs(ref[key]),
          `${key}: ${ours} vs ${ref[key]}`,
        );
      }
    }
  },
});

Deno.test("the tracker's default measure names layer, step and position of a non-finite activation", async () => {
  const tracker = new DimensionalityTracker();
  const m = randomMatrix(8, 4, 3);
  await tracker.observe(0, { layer: "conv1", activations: m });
  const data = m.data.slice();
  data[5 * 4 + 1] = NaN;
  const e = await rejectsWith(
    () => tracker.observe(1, { layer: "conv1", activations: { data, rows: 8, cols: 4 } }),
    InvalidDataError,
    'layer "conv1" at step 1',
  ) as InvalidDataError;
  assert.deepStrictEqual(e.position, { layer: "conv1", step: 1, row: 5, col: 1 });
  await rejectsWith(
    () =>
      tracker.observe(2, {
        layer: "conv1",
        activations: { data: new Float32Array(10), rows: 2, cols: 5 },
      }),
    TypeError,
    "feature shape",
  );
});
