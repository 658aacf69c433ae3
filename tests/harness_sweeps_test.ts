import assert from "node:assert/strict";
import { convSweep, planConvSweep } from "../harness/conv_sweep.ts";
import { opSweep } from "../harness/op_sweep.ts";
import { appendRows, checkLog, CONV_COLUMNS, OP_COLUMNS } from "../harness/sweep_log.ts";
import { meanStd } from "../harness/stats.ts";
import { parseCsv } from "../io/csv.ts";
import { runMain } from "./_cli_helpers.ts";
import { hasNumpy, inTempDir, python } from "./_io_helpers.ts";

/** EXPERIMENTS.md §2's log columns, copied from its text: the log must start with exactly these. */
const SECTION_2_COLUMNS = (
  "timestamp, mode, tile_size, batch_size, device, model_params, model_size_mb, avg_time_ms, " +
  "std_time_ms, throughput_samples_per_sec, memory_allocated_mb, memory_reserved_mb, " +
  "memory_peak_mb, forward_time_ms, backward_time_ms, total_time_ms, error"
).split(", ");

const tiny = { model: "small", warmup: 0, iterations: 1 } as const;

async function rowsOf<T>(gen: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const r of gen) out.push(r);
  return out;
}

Deno.test("CONV_COLUMNS are §2's, in §2's order", () => {
  assert.deepEqual([...CONV_COLUMNS], SECTION_2_COLUMNS);
});

Deno.test("planConvSweep: §2's defaults and the impossible sizes", () => {
  const inference = planConvSweep();
  assert.deepEqual(
    [inference.tileSizes, inference.batchSizes, inference.warmup, inference.iterations],
    [[256, 384], [1, 2, 4], 10, 50],
  );
  assert.throws(() => planConvSweep({ batchSizes: [1, 0] }), /batch sizes must be whole/);
  assert.throws(() => planConvSweep({ tileSizes: [] }), /tile sizes is empty/);
  assert.throws(() => planConvSweep({ tileSizes: [-16] }), /tile sizes must be whole/);
  assert.throws(() => planConvSweep({ tileSizes: [100] }), /multiple of 16 pixels \(e\.g\. 96\)/);
  assert.throws(() => planConvSweep({ iterations: 0 }), /iterations must be/);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => planConvSweep({ mode: "eval" as any }), /mode must be/);
});

Deno.test("convSweep: a failing configuration is a row with its error, and the sweep goes on", async () => {
  // 1 × 40000² × 6 float32 is 38 GB: the input cannot be allocated.
  const rows = await rowsOf(convSweep({ ...tiny, tileSizes: [8, 40000, 12], batchSizes: [1] }));
  assert.deepEqual(rows.map((r) => r.tile_size), [8, 40000, 12]);
  assert.equal(rows[0].error, "");
  assert.equal(rows[2].error, "");
  assert.notEqual(rows[1].error, "");
  assert.equal(rows[1].avg_time_ms, undefined);
  assert.equal(rows[1].model_params, 12742, "the failed row still names its model");
});

Deno.test("convSweep: train rows split the step into forward and backward", async () => {
  const [row] = await rowsOf(
    convSweep({ ...tiny, mode: "train", tileSizes: [8], batchSizes: [2], iterations: 2 }),
  );
  assert.equal(row.error, "");
  const [avg, fwd, bwd] = [row.avg_time_ms, row.forward_time_ms, row.backward_time_ms].map(Number);
  assert(fwd > 0);
  assert.equal(bwd, Math.max(0, avg - fwd));
  assert.equal(Number(row.total_time_ms), avg);
  assert.equal(Number(row.throughput_samples_per_sec), 2 / (avg / 1000));
  assert.equal(Number(row.pixels_per_sec), Number(row.throughput_samples_per_sec) * 64);
});

Deno.test("opSweep: quick cov, rx and spectrum sweeps give one good row per problem", async () => {
  for (const [experiment, count] of [["cov", 7], ["rx", 7], ["spectrum", 3]] as const) {
    const rows = await rowsOf(opSweep(experiment, { quick: true, warmup: 0, iterations: 1 }));
    assert.equal(rows.length, count, experiment);
    for (const r of rows) {
      assert.equal(r.error, "", `${experiment} ${r.rows}x${r.cols}: ${r.error}`);
      assert(Object.keys(r).every((k) => OP_COLUMNS.includes(k)), "only log columns");
    }
  }
});

Deno.test("meanStd against float64 references", () => {
  // Reference: mean 2.5, population variance 1.25.
  const { mean, std } = meanStd([1, 2, 3, 4]);
  assert.equal(mean, 2.5);
  assert(Math.abs(std - Math.sqrt(1.25)) < 1e-15);
  assert.deepEqual(meanStd([7]), { mean: 7, std: 0 });
  assert.throws(() => meanStd([]), /at least one/);
});

Deno.test("appendRows keeps old rows; a log with other columns is refused untouched", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/log.csv`;
    await appendRows(path, ["a", "b"], [{ a: 1, b: "x,y" }]);
    await appendRows(path, ["a", "b"], [{ a: 2 }]);
    assert.deepEqual(parseCsv(await Deno.readTextFile(path)), [["a", "b"], ["1", "x,y"], [
      "2",
      "",
    ]]);
    const before = await Deno.readTextFile(path);
    await assert.rejects(appendRows(path, ["a", "c"], [{ a: 3 }]), /column 2 is "b"/);
    await assert.rejects(appendRows(path, ["a", "b"], [{ z: 3 }]), /"z", which is not a column/);
    assert.equal(await Deno.readTextFile(path), before);
    assert.deepEqual(await checkLog(`${dir}/absent.csv`, ["a"]), []);
  });
});

Deno.test("cli bench conv: the log starts with §2's columns; rows append across runs", async () => {
  await inTempDir(async (dir) => {
    const output = `${dir}/logs/bench.csv`; // the folder is created
    const args = ["bench", "conv", "--model", "small", "--tile-sizes", "8", "12", "--batch-sizes"];
    const r = await runMain([
      ...args,
      "1",
      "2",
      "--warmup",
      "0",
      "--iterations",
      "1",
      "--output",
      output,
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\[4\/4\] inference small 12² batch 2: /);
    const again = await runMain([...args, "3", "--iterations", "1", "--output", output, "--quiet"]);
    assert.equal(again.code, 0, again.err);
    const [header, ...rows] = parseCsv(await Deno.readTextFile(output));
    assert.deepEqual(header.slice(0, SECTION_2_COLUMNS.length), SECTION_2_COLUMNS);
    assert.deepEqual(rows.map((row) => [row[2], row[3]]), [
      ["8", "1"],
      ["8", "2"],
      ["12", "1"],
      ["12", "2"],
      ["8", "3"],
      ["12", "3"],
    ]);
    assert(rows.every((row) => !Number.isNaN(Date.parse(row[0])) && row[16] === ""));
  });
});

Deno.test("cli bench conv: impossible sizes and unwritable folders fail before any work", async () => {
  await inTempDir(async (dir) => {
    const output = `${dir}/bench.csv`;
    const zero = await runMain(["bench", "conv", "--batch-sizes", "0", "--output", output]);
    assert.equal(zero.code, 2);
    assert.match(zero.err, /--batch-sizes must be whole numbers ≥ 1, got 0/);
    const odd = await runMain(["bench", "conv", "--tile-sizes", "250", "--output", output]);
    assert.match(odd.err, /tile size 250 does not fit the refiner network/);
    const words = await runMain(["bench", "conv", "--tile-sizes", "big", "--output", output]);
    assert.match(words.err, /--tile-sizes takes whole numbers/);
    await assert.rejects(Deno.stat(output), Deno.errors.NotFound);
    await Deno.writeTextFile(`${dir}/file`, "");
    const blocked = await runMain(["bench", "cov", "--quick", "--output", `${dir}/file/x.csv`]);
    assert.equal(blocked.code, 1);
    assert.match(blocked.err, /cannot create the folder/);
    await Deno.writeTextFile(output, "x,y\r\n1,2\r\n");
    const foreign = await runMain(["bench", "rx", "--quick", "--output", output]);
    assert.match(foreign.err, /other columns: column 1 is "x" where this log needs "timestamp"/);
    assert.equal(await Deno.readTextFile(output), "x,y\r\n1,2\r\n");
  });
});

Deno.test({
  name: "a bench log reads in Python (csv + numpy) with the same header and numbers",
  ignore: !hasNumpy,
}, async () => {
  await inTempDir(async (dir) => {
    const output = `${dir}/cov.csv`;
    const r = await runMain([
      "bench",
      "cov",
      "--quick",
      "--warmup",
      "0",
      "--iterations",
      "1",
      "--output",
      output,
      "--quiet",
    ]);
    assert.equal(r.code, 0, r.err);
    const got = JSON.parse(
      await python(
        `import csv, json, sys, numpy as np
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
print(json.dumps({"header": list(rows[0].keys()),
  "cols": np.array([float(r["cols"]) for r in rows]).tolist(),
  "ms": float(np.sum([float(r["avg_time_ms"]) for r in rows]))}))`,
        output,
      ),
    );
    const [header, ...rows] = parseCsv(await Deno.readTextFile(output));
    assert.deepEqual(got.header, header);
    assert.deepEqual(got.cols, rows.map((row) => Number(row[4])));
    const sum = rows.reduce((s, row) => s + Number(row[6]), 0);
    assert(Math.abs(got.ms - sum) <= 1e-9 * sum);
  });
});
