import assert from "node:assert/strict";
import { formatTourTable, tourMetrics, tourRows, writeTourResults } from "../cli/_tour_report.ts";
import { formatRate } from "../cli/_format.ts";
import { parseCsv } from "../io/csv.ts";
import { readHdf5Dataset, readHdf5Tree } from "../io/hdf5_read.ts";
import { hasH5py, inTempDir, python } from "./_io_helpers.ts";
import { profiled, resetPeakRss } from "../harness/memory.ts";
import { tourChart } from "../cli/_tour_chart.ts";
import { renderChart } from "../harness/plot.ts";

const LINES = [
  { title: "machine", detail: "2 CPUs" },
  {
    title: "covariance 9 px × 2",
    backend: "wasm",
    ms: 2,
    detail: "var 1",
    work: { amount: 9, unit: "px" },
    result: new Float32Array([4, -2, 1]),
  },
  {
    title: "covariance 9 px × 2",
    backend: "webgpu",
    ms: 4,
    detail: "var 1",
    work: { amount: 9, unit: "px" },
    peakRssBytes: 3 * 2 ** 20,
    result: new Float32Array([4, -2.004, 1]),
  },
];

Deno.test("tourRows: agreement is max |Δ| over the first backend's largest magnitude", () => {
  const rows = tourRows(LINES);
  assert.equal(rows[0].agreement, undefined);
  assert.equal(rows[1].agreement, undefined); // the reference itself
  assert(Math.abs(rows[2].agreement! - 0.001) < 1e-6, String(rows[2].agreement));
  // Different lengths never agree; an all-zero reference falls back to the absolute difference.
  const odd = tourRows([
    { ...LINES[1], result: new Float32Array(2) },
    { ...LINES[2], result: new Float32Array([0, 0.5]) },
    { ...LINES[2], result: new Float32Array(3) },
  ]);
  assert.equal(odd[1].agreement, 0.5);
  assert.equal(odd[2].agreement, Infinity);
});

Deno.test("formatTourTable: one header, one aligned line per row, results at the end", () => {
  const table = formatTourTable(tourRows(LINES));
  assert.equal(table.length, 4);
  assert.match(table[0], /^operation +backend +time +throughput +peak RSS +agreement +result$/);
  assert.match(
    table[3],
    /^covariance 9 px × 2 webgpu +4\.00 ms +2\.25 kpx\/s +3\.00 MiB +1\.0e-3 +var 1$/,
  );
  assert.equal(table[1].indexOf("2 CPUs"), table[2].indexOf("var 1"));
});

Deno.test("formatRate picks an SI prefix and says nothing for no time", () => {
  assert.equal(formatRate(5e9, 1000, "FLOP"), "5.00 GFLOP/s");
  assert.equal(formatRate(120, 2000, "steps"), "60.0 steps/s");
  assert.equal(formatRate(3, 0, "px"), "");
});

Deno.test("writeTourResults: results.csv and report.h5 hold the same rows", () =>
  inTempDir(async (dir) => {
    const rows = tourRows(LINES);
    const files = await writeTourResults(dir, rows, {
      prismVersion: "9.9.9",
      startedAt: "2026-12-07T13:00:00.000Z",
      totalSeconds: 1.5,
      gpuAdapter: "",
    });
    assert.deepEqual(files, [`${dir}/results.csv`, `${dir}/report.h5`]);
    const csv = parseCsv(await Deno.readTextFile(files[0]));
    assert.equal(csv.length, 4);
    assert.deepEqual(csv[3].slice(0, 6), [
      "covariance 9 px × 2",
      "webgpu",
      "4",
      "2250",
      "px",
      "3145728",
    ]);
    assert.deepEqual(csv[1].slice(1, 7), ["", "", "", "", "", ""]); // machine: nothing applies
    const tree = await readHdf5Tree(files[1]);
    assert.equal(tree.attrs.prism_version, "9.9.9");
    const results = tree.groups.find((g) => g.path === "/results")!;
    assert.deepEqual(results.attrs.backend, ["", "wasm", "webgpu"]);
    const time = await readHdf5Dataset(files[1], "results/time_ms");
    assert(Number.isNaN(time.data[0]) && time.data[2] === 4);
    if (hasH5py) {
      const said = await python(
        "import h5py, sys; f = h5py.File(sys.argv[1]); g = f['results']; " +
          "print(list(g.attrs['operation'])[2], g['agreement'][2].round(4), f.attrs['total_seconds'])",
        files[1],
      );
      assert.equal(said.trim(), "covariance 9 px × 2 0.001 1.5");
    } else console.log("h5py absent: report.h5 checked with prism's reader only");
  }));

Deno.test("profiled: the peak covers what the work allocated (where Linux tells)", async () => {
  if (!resetPeakRss()) {
    console.log("no /proc/self/clear_refs here: the peak is undefined, as documented");
    assert.equal((await profiled(() => 1)).peakRssBytes, undefined);
    return;
  }
  // The resident size while the work holds its 64 MiB, read inside the work: the peak must
  // cover it. (Comparing with the mark before the work instead is flaky: a collection between
  // the two readings can lower the resident size by more than the slack.)
  const p = await profiled(() => {
    const held = new Uint8Array(64 * 2 ** 20).fill(1);
    return { rss: Deno.memoryUsage().rss, touched: held[held.length - 1] };
  });
  assert.equal(p.value.touched, 1);
  assert(p.peakRssBytes! >= p.value.rss, `peak ${p.peakRssBytes} < resident ${p.value.rss}`);
  assert(p.value.rss >= 64 * 2 ** 20, `resident ${p.value.rss} cannot hold the 64 MiB`);
});

Deno.test("tourChart: the timed rows as two panels that render; nothing timed is refused", async () => {
  const spec = tourChart(tourRows(LINES)) as { data: { values: { backend: string }[] } };
  assert.deepEqual(spec.data.values.map((v) => v.backend), ["wasm", "webgpu"]);
  const chart = await renderChart(spec);
  assert.deepEqual([...chart.png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  for (const title of ["time (ms)", "peak RSS (MiB)", "covariance 9 px × 2"]) {
    assert(chart.svg.includes(title), `the SVG lacks "${title}"`);
  }
  assert.throws(() => tourChart([LINES[0]]), /no timed tour row/);
});

Deno.test("tourMetrics: each timed row's time and each agreement, for compare", () => {
  const metrics = tourMetrics(tourRows(LINES));
  assert.deepEqual(Object.keys(metrics), [
    "covariance 9 px × 2 [wasm] time_ms",
    "covariance 9 px × 2 [webgpu] time_ms",
    "covariance 9 px × 2 [webgpu] agreement",
  ]);
  assert.deepEqual(metrics["covariance 9 px × 2 [webgpu] time_ms"], {
    value: 4,
    unit: "ms",
    better: "lower",
    absolute: true,
  });
  assert.equal(metrics["covariance 9 px × 2 [webgpu] agreement"].absolute, false);
});
