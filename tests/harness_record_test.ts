/**
 * Performance records (harness/record.ts, machine.ts, memory.ts): every field present with its
 * type, samples/s from the samples' own time, the commit "unknown" outside a checkout, the JSON
 * and text written atomically and readable by Python's json, and `parseRecord` naming what a
 * foreign document lacks.
 */

import assert from "node:assert/strict";
import {
  buildRecord,
  parseRecord,
  RECORD_FORMAT,
  RECORD_VERSION,
  recordText,
  textPathOf,
  writeRecord,
} from "../harness/record.ts";
import { gitCommit } from "../harness/machine.ts";
import { RssWatch } from "../harness/memory.ts";
import { inTempDir, listDir, python } from "./_io_helpers.ts";

const hasPython = await python("print(1)").then(() => true, (e) => {
  console.log(`python3 unavailable (${(e as Error).message}): the JSON cross-check is skipped`);
  return false;
});

async function sample() {
  using watch = new RssWatch();
  const keep = new Float64Array(2_000_000).fill(1); // 16 MB touched: the peak must see it
  watch.sample();
  assert.equal(keep[1], 1);
  return await buildRecord({
    command: "stress --scale tiny",
    startedAt: new Date("2026-01-02T03:04:05Z"),
    totalSeconds: 8,
    samples: 12,
    sampleSeconds: 6,
    backend: "wasm",
    rss: watch.figures(),
    model: { name: "small", parameters: 12742, sizeMb: 0.050968 },
    metrics: { auc: { value: 0.9, unit: "1", better: "higher", absolute: false } },
  });
}

Deno.test("buildRecord: every field present and typed", async () => {
  const r = await sample();
  assert.equal(r.format, RECORD_FORMAT);
  assert.equal(r.version, RECORD_VERSION);
  assert.equal(r.timestamp, "2026-01-02T03:04:05.000Z");
  assert.equal(r.samplesPerSecond, 2); // 12 samples in their own 6 s, not the 8 s in all
  for (const key of ["peakRssBytes", "wasmHeapBytes"] as const) {
    assert.ok(Number.isInteger(r.memory[key]) && r.memory[key] > 0, key);
  }
  // No kernel ran in this process yet: nothing allocated is a true 0, not a missing figure.
  assert.ok(Number.isInteger(r.memory.wasmPeakBytes) && r.memory.wasmPeakBytes >= 0);
  assert.equal(typeof r.memory.rssDeltaBytes, "number");
  assert.ok(r.memory.peakRssBytes >= 16e6, `peak RSS ${r.memory.peakRssBytes}`);
  // The run did not use the GPU: the pool is not read (and no device is opened for it).
  assert.equal(r.memory.gpuPoolBytes, null);
  assert.equal(r.memory.gpuPoolPeakBytes, null);
  assert.equal(r.device.backend, "wasm");
  assert.ok(r.device.adapter.length > 0);
  assert.equal(typeof r.device.softwareAdapter, "boolean");
  assert.match(r.binary.variant, /^wasm-simd128(\+threads)?$/);
  assert.match(r.binary.sourceHash, /^([0-9a-f]{64}|unknown)$/);
  assert.ok(r.binary.workers >= 1);
  assert.deepEqual(r.model, { name: "small", parameters: 12742, sizeMb: 0.050968 });
  assert.match(r.prism.version, /^\d+\.\d+\.\d+/);
  assert.match(r.prism.commit, /^([0-9a-f]{40}(\+dirty)?|unknown)$/);
  assert.ok(r.machine.cpu.length > 0 && r.machine.cores === navigator.hardwareConcurrency);
  assert.equal(r.machine.deno, Deno.version.deno);
  assert.equal(r.metrics.auc.better, "higher");
});

Deno.test("buildRecord: no samples gives null samples/s; bad figures are refused", async () => {
  using watch = new RssWatch();
  const base = { command: "x", startedAt: new Date(), totalSeconds: 1, rss: watch.figures() };
  assert.equal((await buildRecord(base)).samplesPerSecond, null);
  assert.equal((await buildRecord(base)).model, null);
  await assert.rejects(
    buildRecord({ ...base, totalSeconds: NaN }),
    /totalSeconds must be a finite/,
  );
  await assert.rejects(buildRecord({ ...base, samples: -1 }), /samples must be a whole number/);
  await assert.rejects(buildRecord({ ...base, samples: 1.5 }), /samples must be a whole number/);
});

Deno.test("gitCommit: a hash in this checkout, unknown outside any", async () => {
  assert.match(await gitCommit(), /^([0-9a-f]{40}(\+dirty)?|unknown)$/);
  await inTempDir(async (dir) => assert.equal(await gitCommit(dir), "unknown"));
  assert.equal(await gitCommit("/no/such/folder"), "unknown");
});

Deno.test("writeRecord writes JSON and text beside it, nothing else; Python reads the JSON", async () => {
  const r = await sample();
  await inTempDir(async (dir) => {
    const { json, text } = await writeRecord(`${dir}/run.json`, r, "TABLES");
    assert.equal(text, `${dir}/run.txt`);
    assert.deepEqual(await listDir(dir), ["run.json", "run.txt"]);
    assert.deepEqual(parseRecord(JSON.parse(await Deno.readTextFile(json)), json), r);
    const report = await Deno.readTextFile(text);
    assert.ok(report.startsWith(recordText(r)) && report.endsWith("TABLES"));
    assert.match(report, /12 samples|samples 12, 2\.000 samples\/s/);
    if (!hasPython) return;
    const got = JSON.parse(
      await python(
        "import json,sys; r=json.load(open(sys.argv[1])); " +
          "print(json.dumps([r['samplesPerSecond'], r['memory']['peakRssBytes'], r['machine']['cpu']]))",
        json,
      ),
    );
    assert.deepEqual(got, [2, r.memory.peakRssBytes, r.machine.cpu]);
  });
});

Deno.test("writeRecord into a missing folder fails and leaves nothing", async () => {
  const r = await sample();
  await inTempDir(async (dir) => {
    await assert.rejects(writeRecord(`${dir}/none/run.json`, r), Deno.errors.NotFound);
    assert.deepEqual(await listDir(dir), []);
  });
});

Deno.test("textPathOf and parseRecord name what is wrong", async () => {
  assert.equal(textPathOf("a/b.JSON"), "a/b.txt");
  assert.equal(textPathOf("a/b"), "a/b.txt");
  assert.throws(() => parseRecord([1], "x.json"), /JSON is not an object/);
  assert.throws(() => parseRecord({ format: "prism-track" }, "t.json"), /"prism-track" document/);
  assert.throws(
    () => parseRecord({ layers: {} }, "other.json"),
    /other\.json is not a performance record: missing or mistyped: format \(string\), version/,
  );
  const r = await sample();
  const { machine: _, ...noMachine } = r;
  assert.throws(() => parseRecord(noMachine, "r.json"), /machine\.cpu \(string\), machine\.cores/);
  assert.throws(
    () => parseRecord({ ...r, version: 9 }, "r.json"),
    /version 9; this prism reads version 1/,
  );
});
