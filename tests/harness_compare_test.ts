/**
 * `compare` (harness/compare.ts, cli/compare.ts): a made-up regression is flagged and exits 1,
 * an equal pair passes, an improvement is not a regression, runs from different machines are
 * not compared on absolute figures (ratios and AUCs still are), and a CSV from another tool or
 * with other columns is refused naming the columns.
 */

import assert from "node:assert/strict";
import { compareCsv, compareRecords, metricOfColumn } from "../harness/compare.ts";
import { buildRecord, type PerformanceRecord, writeRecord } from "../harness/record.ts";
import { RssWatch } from "../harness/memory.ts";
import { formatCsv } from "../io/csv.ts";
import { runMain } from "./_cli_helpers.ts";
import { inTempDir, listDir } from "./_io_helpers.ts";

using watch = new RssWatch();
const base: PerformanceRecord = await buildRecord({
  command: "stress --scale small",
  startedAt: new Date(),
  totalSeconds: 20,
  samples: 10,
  rss: watch.figures(),
  metrics: {
    rx_ms_per_sample: { value: 40, unit: "ms", better: "lower", absolute: true },
    plain_rx_auc_mean: { value: 0.9, unit: "1", better: "higher", absolute: false },
    latency_batch16_over_batch1: { value: 0.5, unit: "1", better: "lower", absolute: false },
  },
});

/** `base` with some metrics' values replaced. */
function withMetrics(r: PerformanceRecord, values: Record<string, number>): PerformanceRecord {
  const metrics = { ...r.metrics };
  for (const [k, v] of Object.entries(values)) metrics[k] = { ...metrics[k], value: v };
  return { ...r, metrics };
}

const SECTION2 = [
  "timestamp",
  "mode",
  "tile_size",
  "batch_size",
  "device",
  "model_params",
  "model_size_mb",
  "avg_time_ms",
  "std_time_ms",
  "throughput_samples_per_sec",
  "memory_peak_mb",
  "error",
];
const row = (tile: number, batch: number, ms: number, error = "") => [
  "2026-01-01T00:00:00Z",
  "inference",
  String(tile),
  String(batch),
  "cpu",
  "6600532",
  "25.18",
  String(ms),
  String(ms / 10),
  String(batch * 1000 / ms),
  "300",
  error,
];

Deno.test("metricOfColumn: directions of §2's columns; configuration and noise are not metrics", () => {
  assert.deepEqual(metricOfColumn("avg_time_ms"), { better: "lower", absolute: true });
  assert.deepEqual(metricOfColumn("memory_peak_mb"), { better: "lower", absolute: true });
  assert.deepEqual(metricOfColumn("throughput_samples_per_sec"), {
    better: "higher",
    absolute: true,
  });
  assert.deepEqual(metricOfColumn("numpy_ratio"), { better: "lower", absolute: false });
  assert.deepEqual(metricOfColumn("auc"), { better: "higher", absolute: false });
  for (const c of ["tile_size", "batch_size", "mode", "model_size_mb", "std_time_ms", "error"]) {
    assert.equal(metricOfColumn(c), undefined, c);
  }
});

Deno.test("compareRecords: an equal pair passes; a made-up regression is flagged, an improvement is not", () => {
  const same = compareRecords(base, structuredClone(base));
  assert.equal(same.regressions, 0);
  assert.equal(same.sameMachine, true);
  assert.ok(same.metrics.every((m) => m.verdict === "same"));
  const worse = compareRecords(
    base,
    withMetrics(base, { rx_ms_per_sample: 46, plain_rx_auc_mean: 0.7 }),
  );
  assert.deepEqual(
    worse.metrics.filter((m) => m.verdict === "regression").map((m) => m.metric),
    ["rx_ms_per_sample", "plain_rx_auc_mean"],
  );
  assert.equal(worse.regressions, 2);
  const r = worse.metrics.find((m) => m.metric === "rx_ms_per_sample")!;
  assert.ok(Math.abs(r.change! - 0.15) < 1e-12);
  // 15 % slower is within a 20 % threshold; 30 % faster is an improvement either way.
  assert.equal(
    compareRecords(base, withMetrics(base, { rx_ms_per_sample: 46 }), { threshold: 0.2 })
      .regressions,
    0,
  );
  const better = compareRecords(base, withMetrics(base, { rx_ms_per_sample: 28 }));
  assert.equal(better.regressions, 0);
  assert.equal(better.metrics.find((m) => m.metric === "rx_ms_per_sample")!.verdict, "improved");
  assert.throws(() => compareRecords(base, base, { threshold: -0.1 }), /threshold must be/);
});

Deno.test("compareRecords refuses to compare absolute figures across machines, still compares ratios", () => {
  const other = {
    ...withMetrics(base, { rx_ms_per_sample: 400, latency_batch16_over_batch1: 0.8 }),
    machine: { ...base.machine, cpu: "Some Other CPU" },
  };
  const c = compareRecords(base, other);
  assert.equal(c.sameMachine, false);
  assert.match(c.notes[0], /different machines \(cpu ".*" vs "Some Other CPU"\)/);
  const verdict = (name: string) => c.metrics.find((m) => m.metric === name)!.verdict;
  assert.equal(verdict("rx_ms_per_sample"), "not compared");
  assert.equal(verdict("totalSeconds"), "not compared");
  assert.equal(verdict("latency_batch16_over_batch1"), "regression");
  assert.equal(verdict("plain_rx_auc_mean"), "same");
  assert.equal(c.regressions, 1);
});

Deno.test("compareCsv: rows matched on configuration, last row wins, failed rows skipped", () => {
  const a = { header: SECTION2, rows: [row(256, 1, 30), row(256, 2, 50), row(384, 1, 45, "OOM")] };
  const b = {
    header: SECTION2,
    rows: [row(256, 1, 99), row(256, 1, 31), row(256, 2, 70), row(384, 1, 45)],
  };
  const c = compareCsv(a, b, { names: ["a.csv", "b.csv"] });
  assert.equal(c.sameMachine, null);
  const flagged = c.metrics.filter((m) => m.verdict === "regression");
  // Batch 2 got 40 % slower: its time and throughput both regress; batch 1 (31 vs 30) does not.
  assert.deepEqual(flagged.map((m) => m.metric), ["avg_time_ms", "throughput_samples_per_sec"]);
  assert.ok(
    flagged.every((m) => m.key.includes("tile_size=256") && m.key.includes("batch_size=2")),
  );
  assert.ok(c.notes.some((n) => n.includes("tile_size=384") && n.includes("error OOM")));
  assert.equal(compareCsv(a, a).regressions, 0);
});

Deno.test("compareCsv refuses other columns and a CSV from another tool, naming the columns", () => {
  const a = { header: SECTION2, rows: [row(256, 1, 30)] };
  const fewer = {
    header: SECTION2.filter((c) => c !== "avg_time_ms"),
    rows: [row(256, 1, 30).slice(1)],
  };
  assert.throws(
    () => compareCsv(a, fewer, { names: ["a.csv", "b.csv"] }),
    /b\.csv lacks avg_time_ms/,
  );
  const foreign = { header: ["name", "colour"], rows: [["x", "red"]] };
  assert.throws(
    () => compareCsv(foreign, foreign, { names: ["f.csv", "f.csv"] }),
    /f\.csv has no metric column.*name, colour/,
  );
  assert.throws(
    () => compareCsv(a, { header: SECTION2, rows: [["1"]] }),
    /row 2 has 1 fields for 12 columns/,
  );
});

Deno.test("compareCsv with each run's machine from a record: different machines compare no times", () => {
  const a = { header: SECTION2, rows: [row(256, 1, 30)] };
  const b = { header: SECTION2, rows: [row(256, 1, 60)] };
  const same = { cpu: "A", cores: 2, adapter: "none" };
  assert.equal(compareCsv(a, b, { machines: [same, same] }).regressions, 2);
  const c = compareCsv(a, b, { machines: [same, { ...same, cores: 64 }] });
  assert.equal(c.regressions, 0);
  assert.ok(c.metrics.every((m) => m.verdict === "not compared"));
  assert.match(c.notes[0], /cores "2" vs "64"/);
});

Deno.test("cli compare: exit 0 on an equal pair, 1 on a regression, 2 on a mixed pair; nothing written", async () => {
  await inTempDir(async (dir) => {
    await writeRecord(`${dir}/a.json`, base);
    await writeRecord(`${dir}/b.json`, withMetrics(base, { rx_ms_per_sample: 60 }));
    await Deno.mkdir(`${dir}/x`);
    await Deno.writeTextFile(`${dir}/x/a.csv`, formatCsv(SECTION2, [row(256, 1, 30)]));
    await Deno.writeTextFile(`${dir}/x/b.csv`, formatCsv(SECTION2, [row(256, 1, 30)]));
    await Deno.writeTextFile(`${dir}/x/c.csv`, formatCsv(SECTION2, [row(256, 1, 45)]));
    await Deno.writeTextFile(`${dir}/x/other.csv`, "step,layer\n1,conv\n");
    await Deno.writeTextFile(`${dir}/track.json`, JSON.stringify({ conv: [{ step: 1 }] }));
    const before = await listDir(dir);
    const equal = await runMain(["compare", `${dir}/a.json`, `${dir}/a.json`]);
    assert.equal(equal.code, 0, equal.err);
    assert.match(equal.out, /no regression beyond 10 %/);
    const worse = await runMain(["compare", `${dir}/a.json`, `${dir}/b.json`]);
    assert.equal(worse.code, 1);
    assert.match(worse.out, /rx_ms_per_sample .* regression/);
    assert.equal((await runMain(["compare", `${dir}/x/a.csv`, `${dir}/x/b.csv`])).code, 0);
    const slower = await runMain([
      "compare",
      `${dir}/x/a.csv`,
      `${dir}/x/c.csv`,
      "--threshold",
      "60%",
    ]);
    assert.equal(slower.code, 0, "50 % slower is within a 60 % threshold");
    assert.equal((await runMain(["compare", `${dir}/x/a.csv`, `${dir}/x/c.csv`])).code, 1);
    const mixed = await runMain(["compare", `${dir}/a.json`, `${dir}/x/a.csv`]);
    assert.equal(mixed.code, 2);
    assert.match(mixed.err, /compare two CSV logs or two records/);
    const foreign = await runMain(["compare", `${dir}/x/other.csv`, `${dir}/x/a.csv`]);
    assert.equal(foreign.code, 1);
    assert.match(foreign.err, /lacks timestamp, mode, tile_size/);
    const notRecord = await runMain(["compare", `${dir}/x/../a.txt`, `${dir}/a.json`]);
    assert.equal(notRecord.code, 2);
    const track = await runMain(["compare", `${dir}/track.json`, `${dir}/a.json`]);
    assert.equal(track.code, 1);
    assert.match(track.err, /not a performance record: missing or mistyped: format/);
    assert.equal((await runMain(["compare", `${dir}/a.json`])).code, 2);
    assert.equal(
      (await runMain(["compare", `${dir}/a.json`, `${dir}/a.json`, "--threshold", "-5"])).code,
      2,
    );
    assert.deepEqual(await listDir(dir), before);
  });
});
