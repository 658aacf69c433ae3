/**
 * Tests of `covariance()` and `CovarianceAccumulator` on the WASM backend, against float64
 * references computed here (tests/_covariance_helpers.ts).
 */

import { deepStrictEqual, ok, rejects, throws } from "node:assert";
import { AbortedError, InvalidDataError } from "../core/errors.ts";
import type { Matrix } from "../core/types.ts";
import { covariance } from "../ops/covariance.ts";
import { CovarianceAccumulator } from "../ops/covariance_accumulator.ts";
import { allocMatrix } from "../wasm/kernel_matrix.ts";
import { COLS, matrix, random, reference, relError, ROWS } from "./_covariance_helpers.ts";

const wasm = { backend: "wasm" } as const;

function rowsOf(m: Matrix, r0: number, r1: number): Matrix {
  return { data: m.data.subarray(r0 * m.cols, r1 * m.cols), rows: r1 - r0, cols: m.cols };
}

async function* chunks(m: Matrix, cuts: number[]): AsyncGenerator<Matrix> {
  let r0 = 0;
  for (const r1 of [...cuts, m.rows]) {
    yield rowsOf(m, r0, r1);
    r0 = r1;
  }
}

Deno.test("covariance() matches float64 reference for rows 2..1000 and cols 1..67", async () => {
  const next = random(1);
  for (const rows of ROWS) {
    for (const cols of COLS) {
      const m = matrix(rows, cols, () => next() * 2 - 1);
      const r = await covariance(m, wasm);
      const ref = reference(m);
      ok(
        relError(r.covariance, ref.cov) < 1e-5,
        `${rows}x${cols}: ${relError(r.covariance, ref.cov)}`,
      );
      ok(relError(r.mean, ref.mean) < 1e-6, `${rows}x${cols} mean`);
      deepStrictEqual([r.count, r.bands, r.skipped, r.backend], [rows, cols, 0, "wasm"]);
    }
  }
});

Deno.test("covariance() keeps 1e-5 on data offset by 1000 where naive float32 sums fail", async () => {
  const next = random(2);
  for (const [rows, cols] of [[1000, 50], [20011, 13], [257, 67]]) {
    const m = matrix(rows, cols, () => 1000 + next() * 2 - 1);
    const ref = reference(m);
    const r = await covariance(m, wasm);
    ok(
      relError(r.covariance, ref.cov) < 1e-5,
      `${rows}x${cols}: ${relError(r.covariance, ref.cov)}`,
    );
    // The naive formula (Σxxᵀ - n μμᵀ)/(n-1) with float32 sums loses every digit here.
    const sum = new Float32Array(cols);
    const sq = new Float32Array(cols * cols);
    for (let k = 0; k < rows; k++) {
      for (let i = 0; i < cols; i++) {
        const xi = m.data[k * cols + i];
        sum[i] = Math.fround(sum[i] + xi);
        for (let j = 0; j < cols; j++) {
          sq[i * cols + j] = Math.fround(sq[i * cols + j] + Math.fround(xi * m.data[k * cols + j]));
        }
      }
    }
    const naive = sq.map((v, ij) =>
      Math.fround(v - Math.fround(sum[Math.floor(ij / cols)] * sum[ij % cols]) / rows) / (rows - 1)
    );
    ok(relError(naive, ref.cov) > 1e-2, `naive float32 error only ${relError(naive, ref.cov)}`);
  }
});

Deno.test("covariance() gives exact zeros for constant bands and handles rank deficiency", async () => {
  const next = random(3);
  // Bands 1 and 4 constant (one far from zero); band 3 = 2·band 0 - band 2 (rank 3 of 5).
  const m = matrix(1003, 5, () => 0);
  for (let r = 0; r < m.rows; r++) {
    const a = next() * 10 - 5;
    const b = 100 + next();
    m.data.set([a, 12345.678, b, Math.fround(2 * a - b), -3.25], r * 5);
  }
  const r = await covariance(m, wasm);
  for (const band of [1, 4]) {
    for (let j = 0; j < 5; j++) {
      deepStrictEqual(r.covariance[band * 5 + j], 0, `cov[${band}][${j}]`);
      deepStrictEqual(r.covariance[j * 5 + band], 0);
    }
  }
  deepStrictEqual([r.mean[1], r.mean[4]], [Math.fround(12345.678), -3.25]);
  ok(relError(r.covariance, reference(m).cov) < 1e-5);
});

Deno.test("covariance() takes a cube, an AsyncIterable and a kernel-memory matrix", async () => {
  const next = random(4);
  const m = matrix(37 * 29, 13, () => next() * 4 + 50);
  const ref = reference(m);
  const cube = await covariance({ data: m.data, height: 37, width: 29, bands: 13 }, wasm);
  ok(relError(cube.covariance, ref.cov) < 1e-5);
  const seen: number[] = [];
  const stream = await covariance(chunks(m, [1, 2, 500, 1000]), {
    ...wasm,
    onProgress: (p) => seen.push(p.done),
  });
  ok(relError(stream.covariance, ref.cov) < 1e-5);
  deepStrictEqual(seen, [1, 2, 500, 1000, 1073]);
  using km = await allocMatrix(m.rows, m.cols);
  km.data.set(m.data);
  ok(relError((await covariance(km, wasm)).covariance, ref.cov) < 1e-5);
});

Deno.test("covariance() of a large matrix across workers matches the reference", async () => {
  const next = random(5);
  const m = matrix(100_003, 50, () => 1000 + next() * 2 - 1);
  const ref = reference(m);
  const progress: number[] = [];
  const plain = await covariance(m, { ...wasm, onProgress: (p) => progress.push(p.done) });
  ok(relError(plain.covariance, ref.cov) < 1e-5, `plain ${relError(plain.covariance, ref.cov)}`);
  deepStrictEqual(progress.at(-1), 100_003);
  using km = await allocMatrix(m.rows, m.cols);
  km.data.set(m.data);
  const inPlace = await covariance(km, wasm);
  ok(relError(inPlace.covariance, ref.cov) < 1e-5);
});

Deno.test("CovarianceAccumulator merges random splits and trees within 1e-12 of one pass", async () => {
  const next = random(6);
  // Quantised data (sensor counts near 1000): every float32 product and block sum is exact,
  // so any split must agree with one pass to float64 rounding.
  const m = matrix(5000, 7, (_, c) => 1000 + c * 37 + Math.floor(next() * 7) - 3);
  const one = new CovarianceAccumulator(7, wasm);
  await one.add(m);
  const whole = one.result();
  for (let trial = 0; trial < 4; trial++) {
    const cuts = [...new Set(Array.from({ length: 6 }, () => Math.floor(next() * 5000)))]
      .sort((a, b) => a - b);
    const parts: CovarianceAccumulator[] = [];
    let r0 = 0;
    for (const r1 of [...cuts, 5000]) {
      const acc = new CovarianceAccumulator(7, wasm);
      await acc.add(rowsOf(m, r0, r1));
      parts.push(acc);
      r0 = r1;
    }
    // Tree merge: pairs, then pairs of pairs.
    let level = parts;
    while (level.length > 1) {
      const up: CovarianceAccumulator[] = [];
      for (let i = 0; i < level.length; i += 2) {
        up.push(i + 1 < level.length ? level[i].merge(level[i + 1]) : level[i]);
      }
      level = up;
    }
    const merged = level[0].result();
    deepStrictEqual(merged.count, 5000);
    ok(relError(merged.covariance, whole.covariance) < 1e-12, `trial ${trial} cuts ${cuts}`);
    ok(relError(merged.mean, whole.mean) < 1e-14);
  }
  // Continuous data: splits differ only by the kernels' float32 rounding.
  const f = matrix(3001, 9, () => next() * 2 - 1 + 1000);
  const a = new CovarianceAccumulator(9, wasm);
  await a.add(rowsOf(f, 0, 1234));
  const b = new CovarianceAccumulator(9, wasm);
  await b.add(rowsOf(f, 1234, 3001));
  ok(relError(a.merge(b).result().covariance, reference(f).cov) < 1e-5);
});

Deno.test("CovarianceAccumulator round-trips through JSON exactly and validates on load", async () => {
  const next = random(7);
  const m = matrix(300, 4, () => next() * 100);
  const acc = new CovarianceAccumulator(4, wasm);
  await acc.add(rowsOf(m, 0, 150));
  const text = JSON.stringify(acc);
  const back = await CovarianceAccumulator.fromJSON(JSON.parse(text));
  deepStrictEqual(JSON.stringify(back), text);
  await acc.add(rowsOf(m, 150, 300));
  await back.add(rowsOf(m, 150, 300));
  deepStrictEqual(back.result(), acc.result());
  const bad = JSON.parse(text);
  await rejects(CovarianceAccumulator.fromJSON({ ...bad, m2: bad.m2.slice(1) }), TypeError);
  // An unknown version is a bad saved state, as in RxDetector.fromJSON.
  await rejects(CovarianceAccumulator.fromJSON({ ...bad, version: 2 }), InvalidDataError);
  await rejects(CovarianceAccumulator.fromJSON({ ...bad, count: -1 }), RangeError);
  await rejects(
    CovarianceAccumulator.fromJSON({ ...bad, mean: [1, null, 3, 4] }),
    InvalidDataError,
  );
  await rejects(CovarianceAccumulator.fromJSON({ ...bad, rowsSeen: 3 }), InvalidDataError);
  await rejects(CovarianceAccumulator.fromJSON(null as never), TypeError);
});

Deno.test("covariance() names the first NaN/Inf pixel and band, or skips and counts them", async () => {
  const m = matrix(600, 3, (r, c) => r + c * 0.5 + (r % 3));
  m.data[411 * 3 + 2] = NaN;
  m.data[499 * 3 + 0] = Infinity;
  const err = await rejects(() => covariance(m, wasm), (e: unknown) => {
    ok(e instanceof InvalidDataError, String(e));
    ok(e.message.includes("pixel 411") && e.message.includes("band 2"), e.message);
    deepStrictEqual(e.position, { pixel: 411, band: 2 });
    return true;
  });
  void err;
  // Across chunks the pixel number is global.
  await rejects(
    () => covariance(chunks(m, [400]), wasm),
    (e: InvalidDataError) => e.position?.pixel === 411,
  );
  const skipped = await covariance(m, { ...wasm, skipInvalid: true });
  const clean = matrix(598, 3, () => 0);
  let k = 0;
  for (let r = 0; r < 600; r++) {
    if (r !== 411 && r !== 499) clean.data.set(m.data.subarray(r * 3, r * 3 + 3), 3 * k++);
  }
  deepStrictEqual([skipped.count, skipped.skipped], [598, 2]);
  ok(relError(skipped.covariance, reference(clean).cov) < 1e-5);
});

Deno.test("covariance() rejects bad shapes, too few pixels, band changes and aborts", async () => {
  await rejects(() => covariance({ data: new Float32Array(5), rows: 2, cols: 3 }, wasm), TypeError);
  await rejects(
    () => covariance({ data: new Float64Array(6) as unknown as Float32Array, rows: 2, cols: 3 }),
    TypeError,
  );
  await rejects(() => covariance(42 as unknown as Matrix), TypeError);
  await rejects(
    () => covariance({ data: new Float32Array(5), height: 2, width: 1, bands: 3 }),
    TypeError,
  );
  for (const rows of [0, 1]) {
    await rejects(
      () => covariance({ data: new Float32Array(rows * 2), rows, cols: 2 }, wasm),
      (e: Error) =>
        e instanceof RangeError &&
        e.message === `Cannot compute covariance: input has ${rows} rows, need at least 2`,
    );
  }
  const two = { data: new Float32Array([1, 2, 3, 5]), rows: 2, cols: 2 };
  await rejects(() => covariance(two, { ...wasm, ddof: 2 }), RangeError);
  const nan = { data: new Float32Array([1, 2, NaN, 5, 3, 3]), rows: 3, cols: 2 };
  await rejects(
    () => covariance(nan, { ...wasm, skipInvalid: true, ddof: 1 }).then(() => covariance(nan)),
    InvalidDataError,
  );
  async function* changing() {
    yield { data: new Float32Array(6), rows: 2, cols: 3 };
    yield { data: new Float32Array(8), rows: 2, cols: 4 };
  }
  await rejects(
    () => covariance(changing(), wasm),
    (e: Error) => e instanceof TypeError && e.message.includes("chunk 1"),
  );
  const controller = new AbortController();
  controller.abort();
  await rejects(() => covariance(two, { ...wasm, signal: controller.signal }), AbortedError);
  const big = matrix(200_000, 20, (r, c) => r % 7 + c);
  const late = new AbortController();
  const pending = covariance(big, { ...wasm, signal: late.signal });
  late.abort();
  await rejects(pending, AbortedError);
  throws(() => new CovarianceAccumulator(0), RangeError);
  await rejects(() => new CovarianceAccumulator(2).add(matrix(3, 3, () => 1)), TypeError);
});

Deno.test("covariance() writes its result over its own state; result() leaves the state whole", async () => {
  // 257 x 61 (primes around a 128-row block): covariance() takes the result in place of M2,
  // which must give what result() gives, while result() must not touch the state it reads.
  const next = random(31);
  const m = matrix(257, 61, () => next() * 3 + 50);
  const once = await covariance(m, { backend: "wasm" });
  const acc = new CovarianceAccumulator(61, { backend: "wasm" });
  await acc.add(m);
  const first = acc.result();
  deepStrictEqual(once.covariance, first.covariance);
  deepStrictEqual(once.mean, first.mean);
  const second = acc.result();
  deepStrictEqual(second.covariance, first.covariance);
  await acc.add(m);
  const twice = acc.result();
  const ref = reference({ data: new Float32Array([...m.data, ...m.data]), rows: 514, cols: 61 });
  ok(
    relError(twice.covariance, ref.cov) < 1e-5,
    `after result(): ${relError(twice.covariance, ref.cov)}`,
  );
});
