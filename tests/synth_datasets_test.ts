import assert from "node:assert/strict";
import { datasetRows, SCALES, synthDataset } from "../synth/datasets.ts";
import { synthCube } from "../synth/cube.ts";
import { AbortedError } from "../core/errors.ts";
import { rejectsWith } from "./_io_helpers.ts";

Deno.test("SCALES match the stress suite's table", () => {
  const rows = Object.entries(SCALES).map(([k, s]) => [k, s.samples, s.height, s.width, s.bands]);
  assert.deepEqual(rows, [
    ["small", 10, 64, 64, 10],
    ["medium", 100, 128, 128, 50],
    ["large", 1000, 256, 256, 100],
    ["extra-large", 10000, 512, 512, 200],
  ]);
  // 1.6 MB, 328 MB, 26 GB, 2.1 TB as the table rounds them.
  assert.deepEqual(
    [
      SCALES.small.rawBytes / 1e6,
      SCALES.medium.rawBytes / 1e6,
      SCALES.large.rawBytes / 1e9,
      SCALES["extra-large"].rawBytes / 1e12,
    ].map((v) => Math.round(v * 10) / 10),
    [1.6, 327.7, 26.2, 2.1],
  );
});

Deno.test("synthDataset() yields each sample from its own stream, independent of start", async () => {
  const shape = { samples: 6, height: 9, width: 11, bands: 4 };
  const all = [];
  for await (const s of synthDataset(shape, { seed: 3 })) all.push(s);
  assert.deepEqual(all.map((s) => s.index), [0, 1, 2, 3, 4, 5]);
  const later = [];
  for await (const s of synthDataset(shape, { seed: 3, start: 4, count: 2 })) later.push(s);
  assert.deepEqual(later.map((s) => s.index), [4, 5]);
  assert.deepEqual(later[0].cube.data, all[4].cube.data);
  assert.deepEqual(later[1].labels, all[5].labels);
  assert.deepEqual(
    all[2].cube.data,
    synthCube({ height: 9, width: 11, bands: 4, seed: 3, sampleIndex: 2 }).cube.data,
  );
  assert.notDeepEqual(all[0].cube.data, all[1].cube.data);
});

Deno.test("datasetRows() streams the same pixels as synthDataset() in bounded chunks", async () => {
  const shape = { samples: 3, height: 13, width: 7, bands: 5 };
  const expected = [];
  for await (const s of synthDataset(shape, { seed: 8, noiseStd: 0.3 })) expected.push(s.cube.data);
  const chunks = [];
  for await (const m of datasetRows(shape, { seed: 8, noiseStd: 0.3, maxRows: 20 })) {
    assert.equal(m.cols, 5);
    assert.ok(m.rows <= 20 && m.rows % 7 === 0 && m.data.length === m.rows * 5);
    chunks.push(m.data);
  }
  const joined = new Float32Array(chunks.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    joined.set(c, at);
    at += c.length;
  }
  const whole = new Float32Array(3 * 13 * 7 * 5);
  expected.forEach((d, i) => whole.set(d, i * d.length));
  assert.deepEqual(joined, whole);
  // maxRows below one line still yields whole lines.
  for await (const m of datasetRows({ ...shape, samples: 1 }, { maxRows: 1 })) {
    assert.equal(m.rows, 7);
  }
});

Deno.test("synthDataset() and datasetRows() validate and can be aborted", async () => {
  await rejectsWith(
    () => synthDataset("huge" as "small").next(),
    TypeError,
    "unknown scale 'huge'",
  );
  await rejectsWith(() => synthDataset("small", { start: 11 }).next(), RangeError, "start");
  await rejectsWith(
    () => synthDataset("small", { anomalyRatio: 2 }).next(),
    RangeError,
    "anomalyRatio",
  );
  await rejectsWith(() => datasetRows("small", { maxRows: 0 }).next(), RangeError, "maxRows");
  const controller = new AbortController();
  const it = synthDataset("small", { signal: controller.signal });
  await it.next();
  controller.abort();
  await rejectsWith(() => it.next(), AbortedError, "aborted");
});

Deno.test("datasetRows() streams an extra-large sample without holding it", async () => {
  // One 512x512x200 sample as 200 MB would be; here only its first 2 chunks of 32 lines are drawn.
  let rows = 0;
  for await (const m of datasetRows("extra-large", { count: 1, maxRows: 512 * 32 })) {
    rows += m.rows;
    if (rows >= 2 * 512 * 32) break;
  }
  assert.equal(rows, 2 * 512 * 32);
});
