import assert from "node:assert/strict";
import { formatCsv } from "../io/csv.ts";
import { CONV_COLUMNS, CONV_EXTRA_COLUMNS, OP_COLUMNS } from "../harness/sweep_log.ts";
import { convPanels, sweepPanels } from "../harness/plot_specs.ts";
import { renderChart } from "../harness/plot.ts";
import { DimensionalityTracker } from "../track/tracker.ts";
import { runMain } from "./_cli_helpers.ts";
import { inTempDir, listDir } from "./_io_helpers.ts";

/** A §2 log as `bench conv` writes it: 2 tiles × 3 batches, the largest out of memory. */
function convFixture(): string {
  const columns = [...CONV_COLUMNS, ...CONV_EXTRA_COLUMNS];
  const rows = [];
  for (const tile of [256, 384]) {
    for (const batch of [1, 2, 4]) {
      const oom = tile === 384 && batch === 4;
      const ms = tile * tile * batch / 2000;
      const row: Record<string, unknown> = {
        timestamp: "2026-01-01T00:00:00.000Z",
        mode: "train",
        tile_size: tile,
        batch_size: batch,
        device: "cpu",
        model_params: 6600532,
        model_size_mb: 25.18,
        error: oom ? "OOM" : "",
        model: "refiner",
      };
      if (!oom) {
        Object.assign(row, {
          avg_time_ms: ms,
          std_time_ms: ms / 20,
          throughput_samples_per_sec: batch / (ms / 1000),
          memory_peak_mb: tile * batch / 4,
          forward_time_ms: ms / 3,
          backward_time_ms: 2 * ms / 3,
          total_time_ms: ms,
        });
      }
      rows.push(columns.map((c) => row[c] as string | number | undefined));
    }
  }
  return formatCsv(columns, rows);
}

/** PNG signature, then the IHDR chunk's width and height (big-endian, bytes 16-23). */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(new TextDecoder().decode(bytes.subarray(12, 16)), "IHDR");
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

Deno.test("plot of a §2 log: PNG and SVG with the four panels' axis titles", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/bench.csv`, convFixture());
    const output = `${dir}/reports/bench.png`;
    const r = await runMain(["plot", "--input", `${dir}/bench.csv`, "--output", output]);
    assert.equal(r.code, 0, r.err);
    const { width, height } = pngSize(await Deno.readFile(output));
    // Four 300 × 200 panels in two rows, at scale 2: well over 1200 × 800 pixels.
    assert(width > 1200 && height > 800, `${width} x ${height}`);
    const svg = await Deno.readTextFile(`${dir}/reports/bench.svg`);
    for (
      const title of [
        "peak memory (MiB)",
        "throughput (samples/s)",
        "tile size (px)",
        "time per step (ms)",
        "batch size",
        "1 failed (not drawn)",
      ]
    ) assert(svg.includes(title), `the SVG lacks "${title}"`);
    assert.deepEqual((await listDir(`${dir}/reports`)).sort(), ["bench.png", "bench.svg"]);
  });
});

Deno.test("plot of a sweep log states the fitted growth exponent; of a tracker run, its jumps", async () => {
  await inTempDir(async (dir) => {
    // Time exactly ∝ C²: the legend says ~C^2.00.
    const rows = [10, 50, 100, 200].map((c) =>
      OP_COLUMNS.map((k) =>
        ({
          experiment: "cov",
          sweep: "channels",
          rows: 20480,
          cols: c,
          median_time_ms: c * c / 1e3,
        })[
          k as "cols"
        ] ?? ""
      )
    );
    await Deno.writeTextFile(`${dir}/cov.csv`, formatCsv(OP_COLUMNS, rows));
    const r = await runMain(["plot", "--input", `${dir}/cov.csv`, "--output", `${dir}/cov.png`]);
    assert.equal(r.code, 0, r.err);
    const svg = await Deno.readTextFile(`${dir}/cov.svg`);
    assert(svg.includes("covariance (~C^2.00)") && svg.includes("median time (ms)"));
    pngSize(await Deno.readFile(`${dir}/cov.png`));

    let i = 0;
    const tracker = new DimensionalityTracker({ samplingFrequency: 1 });
    for (let step = 0; step < 30; step++) {
      // One column scaled up at step 25: the stable rank leaps there.
      const a = new Float32Array(8 * 4).map(() => ((i++ * 7919) % 13) / 13);
      if (step === 25) { for (let k = 0; k < 8; k++) a[k * 4] *= 40; }
      await tracker.observe(step, { layer: "fc", activations: { data: a, rows: 8, cols: 4 } });
    }
    await tracker.export(`${dir}/run.json`);
    const t = await runMain(["plot", "--input", `${dir}/run.json`, "--output", `${dir}/t.png`]);
    assert.equal(t.code, 0, t.err);
    const tsvg = await Deno.readTextFile(`${dir}/t.svg`);
    assert(tsvg.includes("training step") && tsvg.includes("stable rank"));
    assert.match(tsvg, /[1-9]\d* jumps marked/);
  });
});

Deno.test("plot refuses a foreign CSV naming the missing columns, and writes nothing", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/other.csv`, "timestamp,mode,tile_size,latency\r\n1,a,2,3\r\n");
    const r = await runMain(["plot", "--input", `${dir}/other.csv`, "--output", `${dir}/o.png`]);
    assert.equal(r.code, 1);
    assert.match(r.err, /as a bench conv log \(§2\) it is missing the columns batch_size, device/);
    const empty = await runMain(["plot", "--input", `${dir}/none.csv`]);
    assert.match(empty.err, /--input .*none\.csv/);
    const bad = await runMain(["plot", "--input", `${dir}/other.csv`, "--output", `${dir}/o.jpg`]);
    assert.match(bad.err, /unknown output extension \.jpg; use a \.png file/);
    assert.deepEqual(await listDir(dir), ["other.csv"]);
  });
});

Deno.test("spec builders refuse logs with nothing to draw; renderChart checks its input", async () => {
  assert.throws(
    () => convPanels([{ mode: "inference", tile_size: 256, batch_size: 8, error: "OOM" }]),
    /no configuration without an error to plot \(1 failed: OOM\)/,
  );
  assert.throws(() => sweepPanels([]), /no sweep row/);
  // deno-lint-ignore no-explicit-any
  await assert.rejects(renderChart(null as any), TypeError);
  await assert.rejects(renderChart({ mark: "line" }, { scale: 0 }), /scale must be/);
});
