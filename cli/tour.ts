/**
 * `deno run -A cli.ts` (or `tour`): every operation prism has, on built-in synthetic data, with
 * its backend, its time and the files it wrote. The steps are in `./_tour_steps.ts`.
 *
 * @module
 */

import type { Command } from "./_command.ts";
import { parseCommandArgs } from "./_args.ts";
import { formatMs } from "./_format.ts";
import { type TourContext, type TourLine, tourSteps } from "./_tour_steps.ts";
import {
  formatTourTable,
  tourMetrics,
  type TourRow,
  tourRows,
  writeTourResults,
} from "./_tour_report.ts";
import { buildRecord, type PerformanceRecord, writeRecord } from "../harness/record.ts";
import { RssWatch } from "../harness/memory.ts";
import { PRISM } from "./_version.ts";
import { tourChart } from "./_tour_chart.ts";
import { renderChart, writeChart } from "../harness/plot.ts";
import { checkOutputFolder } from "./_out_path.ts";
import { gpuStatus, releaseGpu } from "../gpu/device.ts";

/**
 * A new folder for this run under `parent`, named by the UTC time it started
 * (`2026-12-07T13-05-12Z`, sortable, no characters a file system refuses), with `-2`, `-3`, ...
 * when two runs start in the same second.
 */
async function makeRunFolder(parent: string, started: Date): Promise<string> {
  const stamp = started.toISOString().slice(0, 19).replaceAll(":", "-") + "Z";
  for (let n = 1;; n++) {
    const dir = `${parent}/${stamp}${n === 1 ? "" : `-${n}`}`;
    try {
      await Deno.mkdir(dir);
      return dir;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
}

/** The tour command, the CLI's main job. */
export const tourCommand: Command = {
  name: "tour",
  summary: "the main job (also with no command): every operation on synthetic data, timed",
  example: "deno run -A cli.ts --out-dir prism-runs",
  usage: [
    "usage: deno run -A cli.ts [tour] [--out-dir DIR] [--no-gpu]",
    "",
    "Runs every operation prism has on built-in synthetic data, on WASM SIMD and, when an",
    "adapter exists, on WebGPU (a software adapter proves the GPU path works, not its speed).",
    "Prints one table (operation, backend, time, throughput, peak memory, agreement between",
    "backends) and writes a run folder DIR/<UTC time>/ holding results.csv, report.h5,",
    "record.json (+ .txt: the performance record `compare` reads),",
    "summary.png (and .svg: the table as charts) and each step's outputs (.npy, .h5, .csv, .json).",
    "",
    "  --out-dir DIR   where run folders go (default: prism-out in the working directory)",
    "  --no-gpu        skip the WebGPU runs",
    "",
    "example: deno run -A cli.ts --out-dir /tmp/prism-runs",
  ].join("\n"),
  async run(args, out) {
    const { values } = parseCommandArgs(args, {
      "out-dir": { type: "string", default: "prism-out" },
      "no-gpu": { type: "boolean" },
    });
    const parent = values["out-dir"];
    await Deno.mkdir(parent, { recursive: true });
    await checkOutputFolder(parent, { flag: "--out-dir" });
    const startedAt = new Date();
    const outDir = await makeRunFolder(parent, startedAt);
    const gpu = values["no-gpu"] ? undefined : await gpuStatus();
    const ctx: TourContext = {
      outDir,
      gpu: gpu?.available ? gpu : undefined,
      backends: gpu?.available ? ["wasm", "webgpu"] : ["wasm"],
    };
    out.say("prism tour: every operation on built-in synthetic data\n");
    if (values["no-gpu"]) out.say("WebGPU runs skipped (--no-gpu).\n");
    else if (!gpu?.available) out.say(`WebGPU runs skipped: ${gpu?.reason}.\n`);
    else if (gpu.adapter.isSoftware) {
      out.say(
        `WebGPU runs on ${gpu.adapter.description}, a software adapter: ` +
          "its times show the path works, not GPU speed.\n",
      );
    }
    const lines: TourLine[] = [];
    const started = performance.now();
    using watch = new RssWatch();
    let record: PerformanceRecord;
    let rows: TourRow[];
    try {
      const progress = out.progress("tour");
      for (const [i, step] of tourSteps.entries()) {
        lines.push(...await step(ctx));
        progress(i + 1, tourSteps.length, "steps");
      }
      rows = tourRows(lines);
      // Before the device is released: the record reads the GPU pool's figures.
      record = await buildRecord({
        command: "tour",
        startedAt,
        totalSeconds: (performance.now() - started) / 1000,
        gpuUsed: ctx.backends.includes("webgpu"),
        rss: watch.figures(),
        metrics: tourMetrics(rows),
      });
    } finally {
      await releaseGpu();
    }
    for (const line of formatTourTable(rows)) out.say(line);
    const total = performance.now() - started;
    const files = rows.flatMap((r) => r.files ?? []);
    files.push(
      ...await writeTourResults(outDir, rows, {
        prismVersion: PRISM.version,
        startedAt: startedAt.toISOString(),
        totalSeconds: total / 1000,
        gpuAdapter: ctx.gpu?.adapter.description ?? "",
      }),
      ...Object.values(await writeRecord(`${outDir}/record.json`, record)),
      ...await writeChart(`${outDir}/summary.png`, await renderChart(tourChart(rows))),
    );
    out.summary({
      outDir,
      gpu: ctx.backends.includes("webgpu"),
      steps: rows.map(({ title, backend, ms, detail, peakRssBytes, agreement }) => ({
        title,
        backend,
        ms,
        detail,
        peakRssBytes,
        agreement,
      })),
      files,
      seconds: total / 1000,
    });
    out.say(`\ntotal ${formatMs(total)}; the run folder is ${outDir}/:`);
    for (const f of files) {
      out.say(`  ${f.startsWith(`${outDir}/`) ? f.slice(outDir.length + 1) : f}`);
    }
    out.say(
      "\n`deno run -A cli.ts --help` lists the commands that run each step on your data.",
    );
    return 0;
  },
};
