/**
 * Tests of the covariance shift (`ops/_covariance_shift.ts`): how many rows it samples, and that
 * the estimate lies near the float64 mean of the whole chunk on adversarial data (a large offset
 * with a tiny spread, constant bands, an outlying first row, NaN and infinite rows).
 */

import { ok, strictEqual } from "node:assert";
import { estimateShift, SAMPLE_ROWS, sampledRows } from "../ops/_covariance_shift.ts";
import { matrix, random, reference } from "./_covariance_helpers.ts";

Deno.test("sampledRows takes every row up to 512, then a budget of values", () => {
  for (const rows of [0, 1, 2, 257, 512]) strictEqual(sampledRows(rows, 200), rows);
  strictEqual(sampledRows(20_480, 10), SAMPLE_ROWS);
  strictEqual(sampledRows(20_480, 200), 655);
  strictEqual(sampledRows(20_480, 4000), 512);
  strictEqual(sampledRows(1, 0), 1);
});

Deno.test("estimateShift lies within σ/8 of the mean on adversarial columns", () => {
  const next = random(7);
  for (const [rows, cols] of [[1, 3], [2, 3], [257, 5], [20_480, 50], [4099, 200]]) {
    // Column c: offset 10^(c mod 7) with spread 10^-(c mod 3); every fifth column constant.
    const m = matrix(rows, cols, (_r, c) => {
      const offset = 10 ** (c % 7);
      return c % 5 === 4 ? offset + 0.5 : offset + (next() - 0.5) * 10 ** -(c % 3);
    });
    // An outlying first row: the pivot of the sums sits far from the rest.
    if (rows > 2) { for (let c = 0; c < cols; c++) if (c % 5 !== 4) m.data[c] += 100; }
    const shift = estimateShift(m)!;
    const { mean, cov } = reference(m);
    for (let c = 0; c < cols; c++) {
      const sigma = Math.sqrt(Math.max(cov[c * cols + c], 0));
      if (c % 5 === 4) {
        strictEqual(shift[c], Math.fround(10 ** (c % 7) + 0.5), `${rows}x${cols} constant band`);
      } else if (rows > 2) {
        // The outlier is in the sample (its first row), so the bound holds for the whole chunk.
        const err = Math.abs(shift[c] - mean[c]);
        ok(err <= sigma / 8 + Math.abs(mean[c]) * 2 ** -23, `${rows}x${cols} col ${c}: ${err}`);
      }
    }
  }
});

Deno.test("estimateShift skips NaN and infinite rows, and gives none when all are", () => {
  const m = matrix(9, 2, (r, c) => (r % 3 === 0 ? [NaN, Infinity][c] : 1000 + r + c));
  const shift = estimateShift(m)!;
  // Finite rows 1, 2, 4, 5, 7, 8: mean 1004.5 (+c), σ ≈ 2.6, grid 2^-4.
  strictEqual(shift[0], 1004.5);
  strictEqual(shift[1], 1005.5);
  const bad = matrix(3, 2, () => NaN);
  strictEqual(estimateShift(bad), undefined);
});
