import assert from "node:assert/strict";
import { SPECTRUM_EPS, spectrumMetrics } from "../ops/spectrum_metrics.ts";
import { uniform } from "../synth/uniform.ts";

const EPS = SPECTRUM_EPS;

function close(actual: number, expected: number, rel = 1e-12): void {
  const tol = rel * Math.max(1, Math.abs(expected));
  assert(
    Math.abs(actual - expected) <= tol,
    `expected ${expected}, got ${actual} (tolerance ${tol})`,
  );
}

/** Every metric straight from §3's formulas, no rescaling: an independent float64 reference. */
function reference(s: number[], size = s.length) {
  const sorted = [...s].sort((a, b) => b - a);
  const sum = sorted.reduce((a, v) => a + v, 0);
  const sumSq = sorted.reduce((a, v) => a + v * v, 0);
  const sum4 = sorted.reduce((a, v) => a + v ** 4, 0);
  let k = 1;
  for (let acc = sorted[0] ** 2; acc < 0.9 * sumSq; k++) acc += sorted[k] ** 2;
  const p = sorted.map((v) => v / sum);
  const entropy = sum === 0 ? 0 : -p.reduce((a, q) => (q > 0 ? a + q * Math.log(q) : a), 0);
  const tol = sorted[0] * size * 2 ** -52;
  return {
    stable_rank: sumSq / (sorted[0] ** 2 + EPS),
    participation_ratio: 1 / (sorted.reduce((a, v) => a + (v / (sum + EPS)) ** 2, 0) + EPS),
    cumulative_90: k,
    nuclear_norm_ratio: sum / (sorted[0] + EPS),
    spectral_entropy: entropy,
    effective_rank: Math.exp(entropy),
    pr_variance: sum4 === 0 ? 0 : sumSq ** 2 / sum4,
    condition_number: sorted[0] / (sorted[sorted.length - 1] + EPS),
    numerical_rank: sorted.filter((v) => v > tol).length,
  };
}

function assertMatchesReference(s: number[], size?: number): void {
  const got = spectrumMetrics(Float64Array.from(s), size ? { shape: [size, s.length] } : {});
  const want = reference(s, size);
  for (const [key, value] of Object.entries(want)) {
    close(got[key as keyof typeof got], value);
  }
}

Deno.test("spectrumMetrics() matches hand-computed values for s = [3, 2, 1]", () => {
  const m = spectrumMetrics([3, 2, 1]);
  close(m.stable_rank, 14 / (9 + EPS));
  close(m.participation_ratio, 1 / (14 / (6 + EPS) ** 2 + EPS));
  assert.deepStrictEqual(m.cumulative_90, 2); // 9 < 12.6 <= 13
  close(m.nuclear_norm_ratio, 6 / (3 + EPS));
  const h = -(0.5 * Math.log(0.5) + (1 / 3) * Math.log(1 / 3) + (1 / 6) * Math.log(1 / 6));
  close(m.spectral_entropy, h);
  close(m.effective_rank, Math.exp(h));
  close(m.pr_variance, 196 / 98);
  close(m.condition_number, 3 / (1 + EPS));
  assert.deepStrictEqual(m.numerical_rank, 3);
});

Deno.test("spectrumMetrics() on the zero matrix follows the formulas and has no NaN", () => {
  for (const n of [1, 2, 7]) {
    const m = spectrumMetrics(new Float64Array(n));
    for (const [key, value] of Object.entries(m)) {
      assert(Number.isFinite(value), `${key} = ${value} for the ${n}-value zero spectrum`);
    }
    assert.deepStrictEqual(m.stable_rank, 0);
    assert.deepStrictEqual(m.participation_ratio, 1 / EPS);
    assert.deepStrictEqual(m.cumulative_90, 1);
    assert.deepStrictEqual(m.nuclear_norm_ratio, 0);
    assert.deepStrictEqual(m.spectral_entropy, 0);
    assert.deepStrictEqual(m.effective_rank, 1);
    assert.deepStrictEqual(m.pr_variance, 0);
    assert.deepStrictEqual(m.condition_number, 0);
    assert.deepStrictEqual(m.numerical_rank, 0);
  }
});

Deno.test("spectrumMetrics() of a single value is rank one", () => {
  const m = spectrumMetrics([5]);
  close(m.stable_rank, 25 / (25 + EPS));
  close(m.participation_ratio, 1 / ((5 / (5 + EPS)) ** 2 + EPS));
  assert.deepStrictEqual(m.cumulative_90, 1);
  close(m.nuclear_norm_ratio, 5 / (5 + EPS));
  assert.deepStrictEqual(m.spectral_entropy, 0);
  close(m.pr_variance, 1);
  close(m.condition_number, 5 / (5 + EPS));
  assert.deepStrictEqual(m.numerical_rank, 1);
});

Deno.test("spectrumMetrics() of n equal values gives stable rank = participation ratio = n", () => {
  for (const n of [1, 2, 10, 13, 257]) {
    const m = spectrumMetrics(new Float64Array(n).fill(2.5));
    // eps moves these by about 1e-11 relative.
    close(m.stable_rank, n, 1e-9);
    close(m.participation_ratio, n, 1e-7);
    close(m.nuclear_norm_ratio, n, 1e-9);
    close(m.effective_rank, n);
    close(m.pr_variance, n);
    assert.deepStrictEqual(m.cumulative_90, Math.ceil(0.9 * n - 1e-9));
    assert.deepStrictEqual(m.numerical_rank, n);
  }
});

Deno.test("spectrumMetrics() matches the float64 reference on random spectra of odd sizes", () => {
  const rand = uniform(7, { lo: 0, hi: 1 });
  for (const n of [1, 2, 3, 17, 101, 257]) {
    const s = Array.from({ length: n }, () => rand() ** 3 * 100);
    assertMatchesReference(s);
    assertMatchesReference(s, 1000);
  }
});

Deno.test("spectrumMetrics() sorts unsorted input and gives the same metrics", () => {
  assert.deepStrictEqual(spectrumMetrics([1, 3, 2]), spectrumMetrics([3, 2, 1]));
  assert.deepStrictEqual(spectrumMetrics(Float64Array.of(0, 0.5, 4)), spectrumMetrics([4, 0.5, 0]));
});

Deno.test("spectrumMetrics() counts the numerical rank with numpy's tolerance or a given one", () => {
  // numpy: tol = s1 * max(rows, cols) * 2^-52.
  const s = [1, 1e-14, 1e-17];
  assert.deepStrictEqual(spectrumMetrics(s).numerical_rank, 2); // tol = 3 * 2.2e-16
  assert.deepStrictEqual(spectrumMetrics(s, { shape: [100, 3] }).numerical_rank, 1); // tol = 2.2e-14
  assert.deepStrictEqual(spectrumMetrics(s, { tolerance: 0 }).numerical_rank, 3);
  assert.deepStrictEqual(spectrumMetrics(s, { tolerance: 0.5 }).numerical_rank, 1);
});

Deno.test("spectrumMetrics() keeps the condition number finite for a rank-deficient matrix", () => {
  const m = spectrumMetrics([4, 0]);
  close(m.condition_number, 4 / EPS);
  assert(Number.isFinite(m.condition_number));
});

Deno.test("spectrumMetrics() does not overflow on huge singular values", () => {
  const m = spectrumMetrics([1e200, 1e200]);
  close(m.stable_rank, 2);
  close(m.pr_variance, 2);
  assert.deepStrictEqual(m.cumulative_90, 2);
  close(m.participation_ratio, 2, 1e-8);
});

Deno.test("spectrumMetrics() rejects bad input with clear errors", () => {
  assert.throws(() => spectrumMetrics([]), { name: "RangeError", message: /no singular values/ });
  assert.throws(() => spectrumMetrics(new Float64Array(0)), { name: "RangeError" });
  assert.throws(() => spectrumMetrics([1, NaN]), {
    name: "InvalidDataError",
    message: /singular value 1 is NaN/,
    position: { index: 1 },
  });
  assert.throws(() => spectrumMetrics([Infinity]), { name: "InvalidDataError", message: /finite/ });
  assert.throws(() => spectrumMetrics([2, -1]), { name: "RangeError", message: /1 is -1/ });
  assert.throws(() => spectrumMetrics("abc" as unknown as number[]), { name: "TypeError" });
  assert.throws(() => spectrumMetrics([1, 2, 3], { shape: [2, 5] }), {
    name: "RangeError",
    message: /at most 2/,
  });
  assert.throws(() => spectrumMetrics([1], { shape: [0, 5] }), { name: "RangeError" });
  assert.throws(() => spectrumMetrics([1], { tolerance: -1 }), { name: "RangeError" });
  assert.throws(() => spectrumMetrics([1], { tolerance: NaN }), { name: "RangeError" });
});
