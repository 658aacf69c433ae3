import assert from "node:assert/strict";
import type { Matrix } from "../core/types.ts";
import { spectrumMetrics } from "../ops/spectrum_metrics.ts";
import { DimensionalityTracker, TRACKER_BYTES_PER_MEASUREMENT } from "../track/tracker.ts";
import { randomMatrix } from "../synth/uniform.ts";

/**
 * Singular values by one-sided Jacobi in float64 (rotate column pairs until orthogonal; the
 * column norms are then the singular values): an independent reference for the tracker.
 */
function jacobiSingularValues(m: Matrix): Float64Array {
  // Work on the side with fewer columns: singular values of A and Aᵀ are the same.
  const transpose = m.cols > m.rows;
  const rows = transpose ? m.cols : m.rows;
  const cols = transpose ? m.rows : m.cols;
  const a = new Float64Array(rows * cols);
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) {
      a[transpose ? c * cols + r : r * cols + c] = m.data[r * m.cols + c];
    }
  }
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < cols - 1; p++) {
      for (let q = p + 1; q < cols; q++) {
        let alpha = 0, beta = 0, gamma = 0;
        for (let i = 0; i < rows; i++) {
          const x = a[i * cols + p], y = a[i * cols + q];
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue;
        off = Math.max(off, Math.abs(gamma) / Math.sqrt(alpha * beta));
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t), s = c * t;
        for (let i = 0; i < rows; i++) {
          const x = a[i * cols + p], y = a[i * cols + q];
          a[i * cols + p] = c * x - s * y;
          a[i * cols + q] = s * x + c * y;
        }
      }
    }
    if (off < 1e-15) break;
  }
  const s = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    let ss = 0;
    for (let i = 0; i < rows; i++) ss += a[i * cols + j] ** 2;
    s[j] = Math.sqrt(ss);
  }
  return s.sort().reverse();
}

const measure = (m: Matrix) => Promise.resolve(jacobiSingularValues(m));

/** Q·diag(s)·Pᵀ-like matrix with known singular values: a scaled signed permutation. */
function knownSpectrum(s: number[], rows: number, cols: number): Matrix {
  const data = new Float32Array(rows * cols);
  s.forEach((v, k) => data[((k * 3) % rows) * cols + ((k * 5) % cols)] = (k % 2 ? -1 : 1) * v);
  return { data, rows, cols };
}

Deno.test("jacobiSingularValues() (the test's reference) recovers constructed spectra", () => {
  const s = jacobiSingularValues(knownSpectrum([5, 3, 2, 0.5], 7, 4)); // 7, 4 coprime to 3, 5
  assert.deepEqual(Array.from(s), [5, 3, 2, 0.5]);
  // Orthogonal 2x2 rotation times diag(3, 1): singular values 3, 1.
  const c = Math.cos(0.3), n = Math.sin(0.3);
  const rot = jacobiSingularValues({
    data: Float32Array.of(3 * c, -n, 3 * n, c),
    rows: 2,
    cols: 2,
  });
  assert.ok(Math.abs(rot[0] - 3) < 1e-6 && Math.abs(rot[1] - 1) < 1e-6);
});

Deno.test("observe() stores the metrics of the float64 reference spectrum, with step and extras", async () => {
  const tracker = new DimensionalityTracker({ measure });
  const fc1 = [randomMatrix(33, 17, { seed: 1 }), randomMatrix(257, 17, { seed: 4 })];
  const fc2 = randomMatrix(5, 11, { seed: 2 });
  const head = randomMatrix(1, 1, { seed: 3 });
  assert.equal(await tracker.observe(0, { layer: "fc1", activations: fc1[0], loss: 0.5 }), true);
  assert.equal(await tracker.observe(3, { layer: "fc1", activations: fc1[1], loss: 3.5 }), true);
  await tracker.observe(0, { layer: "fc2", activations: fc2, gradNorm: 2.25 });
  await tracker.observe(0, { layer: "head", activations: head });
  assert.deepEqual(tracker.rows("fc1").map((r) => [r.step, r.loss]), [[0, 0.5], [3, 3.5]]);
  const cases = [["fc1", fc1[1], 1], ["fc2", fc2, 0], ["head", head, 0]] as const;
  for (const [layer, input, index] of cases) {
    const row = tracker.rows(layer)[index];
    const want = spectrumMetrics(jacobiSingularValues(input), { shape: [input.rows, input.cols] });
    assert.equal(row.layer, layer);
    assert.equal(row.stable_rank, Math.fround(want.stable_rank));
    assert.equal(row.participation_ratio, Math.fround(want.participation_ratio));
    assert.equal(row.cumulative_90, want.cumulative_90);
    assert.equal(row.nuclear_norm_ratio, Math.fround(want.nuclear_norm_ratio));
    assert.equal(row.spectral_entropy, Math.fround(want.spectral_entropy));
    assert.equal(row.effective_rank, Math.exp(Math.fround(want.spectral_entropy)));
    assert.ok(Math.abs(row.effective_rank / want.effective_rank - 1) < 1e-6);
    assert.equal(row.condition_number, Math.fround(want.condition_number));
    assert.equal(row.numerical_rank, want.numerical_rank);
  }
  assert.equal(tracker.rows("fc1")[0].loss, 0.5);
  assert.equal(tracker.rows("fc1")[0].grad_norm, null);
  assert.equal(tracker.rows("fc2")[0].grad_norm, 2.25);
  assert.equal(tracker.rows("fc2")[0].loss, null);
  assert.deepEqual(tracker.layers(), ["fc1", "fc2", "head"]);
  assert.deepEqual(tracker.rows().map((r) => r.layer), ["fc1", "fc1", "fc2", "head"]);
});

Deno.test("observe() with a rank-3 constructed spectrum gives the known metrics", async () => {
  const tracker = new DimensionalityTracker({ measure });
  await tracker.observe(0, { layer: "l", activations: knownSpectrum([4, 2, 1], 11, 7) });
  const [row] = tracker.rows();
  assert.equal(row.stable_rank, Math.fround(21 / (16 + 1e-10)));
  assert.equal(row.cumulative_90, 2); // 16 < 18.9 <= 20
  assert.equal(row.numerical_rank, 3);
  assert.ok(row.condition_number > 1e9); // s_min = 0 (7 values, 3 non-zero)
});

Deno.test("observe() flattens NHWC and sequence tensors to batch x features", async () => {
  const seen: [number, number][] = [];
  const tracker = new DimensionalityTracker({
    measure: (m) => {
      seen.push([m.rows, m.cols]);
      return measure(m);
    },
  });
  await tracker.observe(0, {
    layer: "conv",
    activations: {
      data: randomMatrix(2, 3 * 5 * 4, { seed: 9 }).data,
      shape: [2, 3, 5, 4],
    },
  });
  await tracker.observe(0, {
    layer: "attn",
    activations: {
      data: randomMatrix(3 * 7, 5, { seed: 4 }).data,
      shape: [3, 7, 5],
    },
  });
  assert.deepEqual(seen, [[2, 60], [21, 5]]);
});

Deno.test("observe() at samplingFrequency 10 measures exactly steps 0, 10, 20, ...", async () => {
  let calls = 0;
  const tracker = new DimensionalityTracker({
    samplingFrequency: 10,
    measure: (m) => (calls++, measure(m)),
  });
  const x = randomMatrix(8, 3, { seed: 5 });
  const skipped = new Set<Promise<boolean>>();
  for (let step = 0; step <= 97; step++) {
    const p = tracker.observe(step, { layer: "l", activations: x });
    if (step % 10 !== 0) skipped.add(p);
    assert.equal(await p, step % 10 === 0);
    assert.equal(tracker.shouldMeasure(step), step % 10 === 0);
  }
  assert.equal(calls, 10);
  assert.deepEqual(tracker.rows("l").map((r) => r.step), [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
  // Skipped steps hand back one shared settled promise: nothing is allocated for them.
  assert.equal(skipped.size, 1);
});

Deno.test("observe() keeps each layer's rows in step order when calls overlap", async () => {
  // The first call's solver is the slowest; rows must still come out 0, 1, 2.
  const delays = [30, 10, 0];
  let k = 0;
  const tracker = new DimensionalityTracker({
    measure: (m) => {
      const delay = delays[k++];
      return new Promise((resolve) => setTimeout(() => resolve(jacobiSingularValues(m)), delay));
    },
  });
  const x = randomMatrix(4, 2, { seed: 3 });
  await Promise.all([0, 1, 2].map((step) => tracker.observe(step, { layer: "l", activations: x })));
  assert.deepEqual(tracker.rows("l").map((r) => r.step), [0, 1, 2]);
});

Deno.test("memoryBytes() counts 40 bytes per measurement in 512-row blocks", async () => {
  assert.equal(TRACKER_BYTES_PER_MEASUREMENT, 40); // the cap is 64
  const tracker = new DimensionalityTracker({
    measure: () => Promise.resolve(Float64Array.of(2, 1)),
  });
  const x = randomMatrix(2, 2, { seed: 1 });
  assert.equal(tracker.memoryBytes(), 0);
  await tracker.observe(0, { layer: "a", activations: x });
  assert.equal(tracker.memoryBytes(), 512 * 40);
  for (let step = 1; step < 1024; step++) {
    await tracker.observe(step, { layer: "a", activations: x });
  }
  for (let step = 0; step < 512; step++) {
    await tracker.observe(step, { layer: "b", activations: x });
  }
  const measurements = tracker.rows().length;
  assert.equal(measurements, 1536);
  assert.equal(tracker.memoryBytes() / measurements, 40);
  await tracker.observe(1024, { layer: "a", activations: x });
  assert.equal(tracker.memoryBytes(), (3 + 1) * 512 * 40);
});

Deno.test("jumps() reports the training step of a jump, per layer and metric", async () => {
  let second = 0.1;
  const tracker = new DimensionalityTracker({
    samplingFrequency: 5,
    measure: () => Promise.resolve(Float64Array.of(1, second)),
  });
  const x = randomMatrix(2, 2, { seed: 1 });
  for (let step = 0; step < 300; step += 1) {
    second = step < 200 ? 0.1 + 0.001 * (step % 4) : 0.9;
    await tracker.observe(step, { layer: "conv", activations: x });
    await tracker.observe(step, { layer: "flat", activations: x });
  }
  const jumps = tracker.jumps();
  // The first flagged point per layer is the change at step 200 (index 40); later points stay
  // far from a window still filled with the old level, and are flagged too.
  for (const layer of ["conv", "flat"]) {
    const first = jumps.find((j) => j.layer === layer)!;
    assert.deepEqual([first.step, first.index], [200, 40]);
  }
  assert.ok(jumps.every((j) => j.step >= 200 && j.step === j.index * 5));
  assert.equal(jumps[0].metric, "stable_rank");
  assert.ok(jumps[0].z > 3);
  assert.equal(jumps[0].value, tracker.rows("conv")[40].stable_rank);
  assert.equal(tracker.jumps({ layer: "flat", metric: "nuclear_norm_ratio" })[0].step, 200);
  assert.ok(tracker.jumps({ layer: "flat" }).every((j) => j.layer === "flat"));
  const strict = new DimensionalityTracker({ jump: { threshold: 1e9 } });
  assert.deepEqual(strict.jumps(), []);
  assert.throws(() => tracker.jumps({ metric: "loss" as never }), {
    name: "RangeError",
    message: /stable_rank/,
  });
  assert.throws(() => tracker.jumps({ layer: "nope" }), { name: "RangeError", message: /"conv"/ });
});

Deno.test("observe() rejects non-finite activations naming layer, step, row and column", async () => {
  const tracker = new DimensionalityTracker({ measure });
  const x = randomMatrix(4, 3, { seed: 1 });
  x.data[2 * 3 + 1] = NaN;
  await assert.rejects(tracker.observe(7, { layer: "enc.0", activations: x }), {
    name: "InvalidDataError",
    message: /layer "enc.0" at step 7.*row 2, column 1/,
    position: { layer: "enc.0", step: 7, row: 2, col: 1 },
  });
  const t = { data: new Float32Array(2 * 2 * 2 * 3), shape: [2, 2, 2, 3] };
  t.data[12 + 5] = -Infinity;
  await assert.rejects(tracker.observe(8, { layer: "conv", activations: t }), {
    position: { layer: "conv", step: 8, row: 1, col: 5 },
  });
  await assert.rejects(
    tracker.observe(9, { layer: "fc", activations: randomMatrix(2, 2, { seed: 1 }), loss: NaN }),
    {
      name: "InvalidDataError",
      message: /loss is NaN/,
    },
  );
  // Nothing was stored for the rejected calls.
  assert.deepEqual(tracker.layers(), []);
});

Deno.test("observe() rejects a changed feature shape, naming layer and both shapes", async () => {
  const tracker = new DimensionalityTracker({ measure });
  await tracker.observe(0, {
    layer: "conv",
    activations: {
      data: new Float32Array(2 * 4 * 4 * 3).fill(1),
      shape: [2, 4, 4, 3],
    },
  });
  // A smaller batch is fine; other features are not.
  await tracker.observe(1, {
    layer: "conv",
    activations: {
      data: new Float32Array(4 * 4 * 3).fill(1),
      shape: [1, 4, 4, 3],
    },
  });
  await assert.rejects(
    tracker.observe(2, {
      layer: "conv",
      activations: { data: new Float32Array(2 * 2 * 8 * 3), shape: [2, 2, 8, 3] },
    }),
    { name: "TypeError", message: /layer "conv".*\[4,4,3\] to \[2,8,3\]/ },
  );
});

Deno.test("observe() rejects steps that go backwards or repeat, and bad steps", async () => {
  const tracker = new DimensionalityTracker({ measure });
  const x = randomMatrix(3, 2, { seed: 1 });
  await tracker.observe(10, { layer: "a", activations: x });
  await assert.rejects(tracker.observe(10, { layer: "a", activations: x }), {
    name: "RangeError",
    message: /step 10 .*last recorded step 10/,
  });
  await assert.rejects(tracker.observe(3, { layer: "a", activations: x }), {
    name: "RangeError",
    message: /layer "a"/,
  });
  await tracker.observe(3, { layer: "b", activations: x }); // another layer has its own steps
  await assert.rejects(tracker.observe(-1, { layer: "a", activations: x }), { name: "RangeError" });
  await assert.rejects(tracker.observe(1.5, { layer: "a", activations: x }), { name: "TypeError" });
  await assert.rejects(tracker.observe(2 ** 32, { layer: "a", activations: x }), {
    name: "RangeError",
  });
  await assert.rejects(tracker.observe(11, { layer: "", activations: x }), {
    name: "TypeError",
    message: /layer/,
  });
  await assert.rejects(
    tracker.observe(11, {
      layer: "a",
      activations: { data: new Float32Array(0), rows: 0, cols: 2 },
    }),
    {
      name: "RangeError",
      message: /0 x 2/,
    },
  );
  await assert.rejects(
    tracker.observe(12, { layer: "a", activations: { data: new Float32Array(3), shape: [3] } }),
    {
      name: "TypeError",
    },
  );
});

Deno.test("the constructor rejects bad sampling frequencies, jump options and metadata", () => {
  for (const samplingFrequency of [0, -5, 2.5, NaN, Infinity]) {
    assert.throws(() => new DimensionalityTracker({ samplingFrequency }), {
      name: "RangeError",
      message: /samplingFrequency must be a positive integer/,
    });
  }
  assert.throws(() => new DimensionalityTracker({ jump: { window: 0 } }), { name: "RangeError" });
  assert.throws(() => new DimensionalityTracker({ jump: { metric: "x" as never } }), {
    name: "RangeError",
  });
  assert.throws(() => new DimensionalityTracker({ metadata: { columns: "x" } }), {
    name: "RangeError",
    message: /reserved/,
  });
  assert.throws(() => new DimensionalityTracker({ metadata: { seed: NaN } }), {
    name: "TypeError",
  });
  assert.throws(() => new DimensionalityTracker({ measure: 3 as never }), { name: "TypeError" });
});

Deno.test("rows hold float32 values; values beyond float32's range saturate", async () => {
  const tracker = new DimensionalityTracker({
    measure: () => Promise.resolve(Float64Array.of(1e30, 0)),
  });
  await tracker.observe(0, {
    layer: "l",
    activations: { data: new Float32Array(4), rows: 2, cols: 2 },
    loss: 1e300,
    gradNorm: 0.1,
  });
  const [row] = tracker.rows();
  assert.equal(row.loss, 3.4028234663852886e38);
  assert.equal(row.grad_norm, Math.fround(0.1));
  assert.equal(row.condition_number, 3.4028234663852886e38); // 1e30 / 1e-10 = 1e40
});

Deno.test("observe() takes (step, observation) and says so when called the old way", async () => {
  const tracker = new DimensionalityTracker({
    measure: () => Promise.resolve(new Float64Array([1])),
  });
  const x = { data: new Float32Array([1]), rows: 1, cols: 1 };
  await assert.rejects(
    () => (tracker.observe as (...a: unknown[]) => Promise<boolean>)(0, "fc", x),
    (e: unknown) => e instanceof TypeError && e.message.includes("observe() takes (step, {"),
  );
  await assert.rejects(() => tracker.observe(0, { layer: "", activations: x }), TypeError);
  assert.equal(await tracker.observe(0, { layer: "fc", activations: x, gradNorm: 2 }), true);
  assert.equal(tracker.rows("fc")[0].grad_norm, 2);
});
