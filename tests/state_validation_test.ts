import assert from "node:assert/strict";
import { RxDetector, type RxJson } from "../ops/rx.ts";
import {
  CovarianceAccumulator,
  type CovarianceAccumulatorJson,
} from "../ops/covariance_accumulator.ts";
import { checkCovarianceMatrix, FLOAT32_MAX } from "../ops/_saved_state.ts";
import { InvalidDataError } from "../core/errors.ts";
import { Rng } from "../synth/rng.ts";
import { DimensionalityTracker } from "../track/tracker.ts";
import { inTempDir, rejectsWith } from "./_io_helpers.ts";

/** `rows × cols` float32 pixels; band `cols - 1` is the sum of the others (rank-deficient). */
function pixels(rows: number, cols: number, seed: number) {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols - 1; c++) {
      // Bands of very different scales: the checks must be relative per band.
      const v = Math.fround(rng.normal() * 10 ** ((c % 7) - 3) + c);
      data[r * cols + c] = v;
      sum += v;
    }
    data[r * cols + cols - 1] = Math.fround(sum);
  }
  return { data, rows, cols };
}

async function rxJson(): Promise<RxJson> {
  const rx = await new RxDetector().fit(pixels(40, 4, 1), { backend: "wasm" });
  return JSON.parse(JSON.stringify(rx)) as RxJson;
}

async function accJson(): Promise<CovarianceAccumulatorJson> {
  const acc = new CovarianceAccumulator(3, { backend: "wasm" });
  await acc.add(pixels(20, 3, 2));
  return JSON.parse(JSON.stringify(acc)) as CovarianceAccumulatorJson;
}

/** A tampering, the error class it must give and a piece of its message. */
type Refusal = [
  string,
  (json: Record<string, unknown>) => void,
  Parameters<typeof rejectsWith>[1],
  string,
];

/** Applies each tampering to a fresh honest state and expects `load` to refuse it. */
async function expectRefusals(
  cases: Refusal[],
  state: { make: () => Promise<object>; load: (json: unknown) => Promise<unknown> },
): Promise<void> {
  for (const [name, tamper, Class, text] of cases) {
    const json = await state.make() as Record<string, unknown>;
    tamper(json);
    await rejectsWith(() => state.load(json), Class, text).catch((e) => {
      throw new Error(`case ${name}: ${e.message}`);
    });
  }
}

Deno.test("RxDetector.fromJSON() refuses a negative variance, naming the field", async () => {
  const json = await rxJson();
  json.covariance[5] = -json.covariance[5]; // band 1's variance
  await rejectsWith(
    () => RxDetector.fromJSON(json),
    InvalidDataError,
    "covariance[5] (the variance of band 1) is -",
  );
  // fromStatistics is held to the same standard.
  await rejectsWith(
    () =>
      RxDetector.fromStatistics({
        count: 10,
        bands: 1,
        mean: new Float64Array([0]),
        covariance: new Float64Array([-4]),
      }),
    InvalidDataError,
    "a variance cannot be negative",
  );
});

Deno.test("RxDetector.fromJSON() refuses asymmetric and indefinite covariances", async () => {
  const asym = await rxJson();
  asym.covariance[1] = asym.covariance[1] * 2 + 1;
  await rejectsWith(
    () => RxDetector.fromJSON(asym),
    InvalidDataError,
    "covariance is not symmetric",
  );
  const indefinite = await rxJson();
  const c = indefinite.covariance;
  // A correlation of 2 between bands 0 and 1.
  c[1] = c[4] = 2 * Math.sqrt(c[0] * c[5]);
  await rejectsWith(
    () => RxDetector.fromJSON(indefinite),
    InvalidDataError,
    "covariance is not positive semi-definite: band 1",
  );
});

Deno.test("RxDetector.fromJSON() checks every field's type and range, naming it", async () => {
  const cases: Refusal[] = [
    ["mean entry", (j) => (j.mean as unknown[])[1] = "2", InvalidDataError, 'model.mean[1] is "2"'],
    [
      "cov entry",
      (j) => (j.covariance as unknown[])[0] = null,
      InvalidDataError,
      "model.covariance[0]",
    ],
    [
      "short mean",
      (j) => (j.mean as unknown[]).pop(),
      TypeError,
      "model.mean must be an array of 4",
    ],
    ["bands", (j) => j.bands = 0, RangeError, "model.bands"],
    ["bands type", (j) => j.bands = "4", TypeError, "model.bands"],
    ["skipped", (j) => j.skipped = -1, RangeError, "model.skipped"],
    ["eps type", (j) => j.eps = "0", TypeError, "model.eps"],
    ["eps", (j) => j.eps = -1, RangeError, "eps"],
    ["count", (j) => j.count = 1, RangeError, "at least 2 pixels"],
    ["count type", (j) => j.count = 2.5, RangeError, "at least 2 pixels"],
  ];
  await expectRefusals(cases, { make: rxJson, load: (j) => RxDetector.fromJSON(j as RxJson) });
});

Deno.test("RxDetector.load() of a tampered file names the file and the field", () =>
  inTempDir(async (dir) => {
    const json = await rxJson();
    json.covariance[0] = -1;
    await Deno.writeTextFile(`${dir}/rx.json`, JSON.stringify(json));
    await rejectsWith(
      () => RxDetector.load(`${dir}/rx.json`),
      InvalidDataError,
      `${dir}/rx.json: covariance[0] (the variance of band 0) is -1`,
    );
  }));

Deno.test("honest rank-deficient, mixed-scale states round-trip through the checks", async () => {
  for (const [rows, cols] of [[3, 20], [40, 4], [257, 31]]) {
    // A fit needs more pixels than bands; fewer pixels' statistics still make a (saved) state.
    const few = new CovarianceAccumulator(cols, { backend: "wasm" });
    await few.add(pixels(rows, cols, rows));
    const rx = rows > cols
      ? await new RxDetector().fit(pixels(rows, cols, rows), { backend: "wasm" })
      : await RxDetector.fromStatistics(few.result());
    const back = await RxDetector.fromJSON(JSON.parse(JSON.stringify(rx)));
    assert.equal(back.stats.rank, rx.stats.rank);
    const a = new CovarianceAccumulator(cols, { backend: "wasm" });
    const b = new CovarianceAccumulator(cols, { backend: "wasm" });
    await a.add(pixels(rows, cols, 7));
    await b.add(pixels(rows, cols, 8));
    const merged = (await CovarianceAccumulator.fromJSON(JSON.parse(JSON.stringify(a)))).merge(
      await CovarianceAccumulator.fromJSON(JSON.parse(JSON.stringify(b))),
    );
    await CovarianceAccumulator.fromJSON(JSON.parse(JSON.stringify(merged)));
  }
});

Deno.test("CovarianceAccumulator.fromJSON() refuses negative variances and impossible m2", async () => {
  const neg = await accJson();
  neg.m2[4] = -Math.abs(neg.m2[4]) - 1;
  await rejectsWith(
    () => CovarianceAccumulator.fromJSON(neg),
    InvalidDataError,
    "state.m2[4] (the variance of band 1) is -",
  );
  const asym = await accJson();
  asym.m2[2] += 1 + Math.abs(asym.m2[2]);
  await rejectsWith(
    () => CovarianceAccumulator.fromJSON(asym),
    InvalidDataError,
    "state.m2 is not symmetric",
  );
  const indefinite = await accJson();
  indefinite.m2[1] = indefinite.m2[3] = 3 * Math.sqrt(indefinite.m2[0] * indefinite.m2[4]);
  await rejectsWith(
    () => CovarianceAccumulator.fromJSON(indefinite),
    InvalidDataError,
    "state.m2 is not positive semi-definite",
  );
});

Deno.test("CovarianceAccumulator.fromJSON() refuses states whose merge would overflow to NaN", async () => {
  const big = await accJson();
  big.mean[0] = 1e300;
  await rejectsWith(
    () => CovarianceAccumulator.fromJSON(big),
    InvalidDataError,
    "state.mean[0] is 1e+300, beyond 3.403e+38",
  );
  const huge = await accJson();
  huge.m2[0] = 1e308;
  await rejectsWith(() => CovarianceAccumulator.fromJSON(huge), InvalidDataError, "state.m2[0]");
  const shift = await accJson();
  shift.shift = [1e39, 0, 0];
  await rejectsWith(
    () => CovarianceAccumulator.fromJSON(shift),
    InvalidDataError,
    "state.shift[0]",
  );
  // The worst states the checks accept still merge to finite statistics.
  const edge = (sign: number): CovarianceAccumulatorJson => ({
    version: 1,
    bands: 1,
    count: 2 ** 40,
    skipped: 0,
    rowsSeen: 2 ** 40,
    mean: [sign * FLOAT32_MAX],
    m2: [2 ** 40 * (2 * FLOAT32_MAX) ** 2],
    shift: null,
    backend: null,
  });
  const merged = (await CovarianceAccumulator.fromJSON(edge(1))).merge(
    await CovarianceAccumulator.fromJSON(edge(-1)),
  ).result();
  assert.ok(Number.isFinite(merged.mean[0]) && Number.isFinite(merged.covariance[0]));
});

Deno.test("CovarianceAccumulator.fromJSON() checks counts: whole, ≥ 0, consistent", async () => {
  const cases: Refusal[] = [
    ["negative count", (j) => j.count = -1, RangeError, "state.count"],
    ["fractional count", (j) => j.count = 1.5, TypeError, "state.count"],
    ["string skipped", (j) => j.skipped = "0", TypeError, "state.skipped"],
    ["rowsSeen", (j) => j.rowsSeen = 1, InvalidDataError, "state.rowsSeen"],
    ["count 0, mean", (j) => j.count = 0, InvalidDataError, "state.count is 0"],
    ["m2 entry", (j) => (j.m2 as unknown[])[3] = "x", InvalidDataError, 'state.m2[3] is "x"'],
    ["backend", (j) => j.backend = "cuda", TypeError, "state.backend"],
  ];
  await expectRefusals(cases, {
    make: accJson,
    load: (j) => CovarianceAccumulator.fromJSON(j as CovarianceAccumulatorJson),
  });
});

Deno.test("seeded tampering of saved states: refused with a named error, or scores stay finite", async () => {
  const rng = new Rng(10);
  const base = await rxJson();
  const values = [-1, 0, 1e300, -1e-300, 2, NaN, Infinity, "1", null, [], {}];
  let refused = 0;
  for (let i = 0; i < 200; i++) {
    const json = structuredClone(base) as unknown as Record<string, unknown>;
    const field = ["mean", "covariance", "count", "bands", "eps", "skipped"][rng.int(0, 6)];
    const value = values[rng.int(0, values.length)];
    if (Array.isArray(json[field])) {
      const arr = json[field] as unknown[];
      arr[rng.int(0, arr.length)] = value;
    } else json[field] = value;
    try {
      const rx = await RxDetector.fromJSON(json as unknown as RxJson);
      const scores = await rx.score(pixels(5, 4, i), { backend: "wasm" });
      assert.ok(scores.every(Number.isFinite), `mutation ${i} (${field}) gave non-finite scores`);
    } catch (error) {
      assert.ok(
        error instanceof InvalidDataError || error instanceof TypeError ||
          error instanceof RangeError,
        `mutation ${i} (${field} = ${String(value)}) escaped as ${(error as Error).name}: ${
          (error as Error).message
        }`,
      );
      refused++;
    }
  }
  assert.ok(refused > 100, `only ${refused} of 200 tampered states refused`);
});

Deno.test("checkCovarianceMatrix() accepts zero and constant bands, refuses their fake covariances", () => {
  checkCovarianceMatrix("c", [0, 0, 0, 0], 2);
  checkCovarianceMatrix("c", [4, 0, 0, 0], 2);
  assert.throws(() => checkCovarianceMatrix("c", [4, 1e-3, 1e-3, 0], 2), InvalidDataError);
  assert.throws(() => checkCovarianceMatrix("c", [0, 0, 0, -1e-300], 2), /variance of band 1/);
});

Deno.test("DimensionalityTracker.load() refuses a negative norm or a non-integer count, naming it", () =>
  inTempDir(async (dir) => {
    const row = {
      step: 0,
      loss: -0.5, // a loss may be negative
      grad_norm: 1,
      stable_rank: 1,
      participation_ratio: 1,
      cumulative_90: 1,
      nuclear_norm_ratio: 1,
      spectral_entropy: 0,
      condition_number: 1,
      numerical_rank: 1,
    };
    await Deno.writeTextFile(`${dir}/ok.json`, JSON.stringify({ fc: [row] }));
    assert.equal((await DimensionalityTracker.load(`${dir}/ok.json`)).rows().length, 1);
    for (
      const [column, value, text] of [
        ["stable_rank", -2, "stable_rank is -2, but a stable_rank cannot be negative"],
        ["grad_norm", -1, "grad_norm is -1"],
        ["numerical_rank", -1, "numerical_rank is -1; expected a finite integer"],
        ["cumulative_90", 1.5, "cumulative_90 is 1.5"],
        ["condition_number", "1", "condition_number is 1"],
      ] as const
    ) {
      await Deno.writeTextFile(
        `${dir}/bad.json`,
        JSON.stringify({ fc: [{ ...row, [column]: value }] }),
      );
      await rejectsWith(
        () => DimensionalityTracker.load(`${dir}/bad.json`),
        InvalidDataError,
        `${dir}/bad.json layer "fc" row 0: ${text}`,
      );
    }
  }));
