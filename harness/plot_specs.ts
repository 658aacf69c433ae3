/**
 * The experiments' charts as Vega-Lite specs, for {@linkcode renderChart} in `plot.ts`: §2's four
 * panels from a `bench conv` log, §1's sweeps with their fitted growth exponent from a `bench
 * cov|rx|spectrum` log, and a tracker run's metrics over steps per layer with its jumps marked.
 *
 * @module
 */

import { growthExponent } from "./growth.ts";
import { detectJumps } from "../track/jumps.ts";
import type { TrackData } from "../track/row.ts";
import type { ChartSpec } from "./plot.ts";

/** A log row as read from CSV (text) or made by a sweep (numbers). */
export type LogRow = Readonly<Record<string, string | number | null | undefined>>;

const PANEL = { width: 300, height: 200 };

function num(v: unknown): number {
  return typeof v === "number" ? v : v === undefined || v === null || v === "" ? NaN : Number(v);
}

/** The last row of each configuration (a log appended twice holds both runs). */
function latest(rows: readonly LogRow[], key: (r: LogRow) => string): LogRow[] {
  const byKey = new Map<string, LogRow>();
  for (const r of rows) byKey.set(key(r), r);
  return [...byKey.values()];
}

/**
 * §2's four panels from `bench conv` rows: peak memory vs tile size per batch size; throughput vs
 * tile size per batch size; time breakdown (forward, backward) per configuration; peak memory vs
 * throughput (the efficiency frontier). Rows with an `error` are left out of the panels and
 * counted in the title; the latest row of a configuration wins.
 *
 * @param rows The log's rows (§2's columns).
 * @returns The spec.
 * @throws {RangeError} When no row without an error is left to draw.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { convPanels } from "./plot_specs.ts";
 * const row = (tile: number, batch: number) => ({
 *   mode: "inference", device: "cpu", tile_size: tile, batch_size: batch, avg_time_ms: 10,
 *   throughput_samples_per_sec: batch * 100, memory_peak_mb: tile * batch / 10,
 *   forward_time_ms: 10, backward_time_ms: 0, error: "",
 * });
 * const spec = convPanels([row(256, 1), row(384, 1), { ...row(384, 4), error: "OOM" }]);
 * assert.strictEqual(JSON.stringify(spec).includes("peak memory (MiB)"), true);
 * assert.match(String((spec.title as { text: string }).text), /1 failed/);
 * ```
 */
export function convPanels(rows: readonly LogRow[]): ChartSpec {
  const key = (r: LogRow) =>
    `${r.mode}|${r.device}|${r.model ?? ""}|${r.tile_size}|${r.batch_size}`;
  const all = latest(rows, key);
  const ok = all.filter((r) => !r.error);
  if (ok.length === 0) {
    throw new RangeError(
      `no configuration without an error to plot (${all.length} failed: ` +
        `${[...new Set(all.map((r) => r.error))].join("; ")})`,
    );
  }
  const values = ok.map((r) => ({
    run: `${r.mode} ${r.model ?? ""} ${r.device}`.replace(/\s+/g, " "),
    config: `${r.mode} ${r.tile_size}² ×${r.batch_size}`,
    tile: num(r.tile_size),
    batch: String(r.batch_size),
    peak: num(r.memory_peak_mb),
    throughput: num(r.throughput_samples_per_sec),
    forward: num(r.forward_time_ms),
    backward: num(r.backward_time_ms),
  }));
  const batch = { field: "batch", type: "nominal", title: "batch size" };
  const tile = { field: "tile", type: "quantitative", title: "tile size (px)" };
  const run = { field: "run", type: "nominal", title: "run" };
  const failed = all.length - ok.length;
  return {
    title: {
      text: `Tile × batch sweep (EXPERIMENTS.md §2): ${ok.length} configurations` +
        (failed > 0 ? `, ${failed} failed (not drawn)` : ""),
    },
    data: { values },
    vconcat: [{
      resolve: { scale: { color: "independent" }, legend: { color: "independent" } },
      hconcat: [
        {
          ...PANEL,
          title: "Peak memory vs tile size",
          mark: { type: "line", point: true },
          encoding: {
            x: tile,
            y: { field: "peak", type: "quantitative", title: "peak memory (MiB)" },
            color: batch,
            strokeDash: run,
          },
        },
        {
          ...PANEL,
          title: "Throughput vs tile size",
          mark: { type: "line", point: true },
          encoding: {
            x: tile,
            y: { field: "throughput", type: "quantitative", title: "throughput (samples/s)" },
            color: batch,
            strokeDash: run,
          },
        },
      ],
    }, {
      resolve: { scale: { color: "independent" }, legend: { color: "independent" } },
      hconcat: [
        {
          ...PANEL,
          title: "Time breakdown per configuration",
          transform: [{ fold: ["forward", "backward"], as: ["part", "ms"] }],
          mark: "bar",
          encoding: {
            x: { field: "config", type: "nominal", title: "configuration", sort: null },
            y: { field: "ms", type: "quantitative", title: "time per step (ms)", stack: "zero" },
            color: { field: "part", type: "nominal", title: "part of the step" },
          },
        },
        {
          ...PANEL,
          title: "Memory vs throughput (efficiency frontier)",
          mark: { type: "point", filled: true, size: 80 },
          encoding: {
            x: { field: "peak", type: "quantitative", title: "peak memory (MiB)" },
            y: { field: "throughput", type: "quantitative", title: "throughput (samples/s)" },
            color: batch,
            shape: { field: "tile", type: "nominal", title: "tile size (px)" },
          },
        },
      ],
    }],
    // Each panel keeps its own colour legend: batch sizes in three, parts of a step in one.
    resolve: { scale: { color: "independent" }, legend: { color: "independent" } },
  };
}

const EXPERIMENT_NAMES: Readonly<Record<string, string>> = {
  cov: "covariance",
  rx: "RX fit + score",
  spectrum: "singular values + metrics",
};

/**
 * §1's sweeps from `bench cov|rx|spectrum` rows: median time vs channels (channel sweep) and vs
 * pixels (spatial sweep) on log–log axes, each series labelled with its fitted growth exponent,
 * plus §3's shapes (time vs matrix size) when the log holds them.
 *
 * @param rows The log's rows (`OP_COLUMNS`).
 * @returns The spec.
 * @throws {RangeError} When no row without an error is left to draw.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { sweepPanels } from "./plot_specs.ts";
 * const rows = [10, 50, 100, 200].map((c) => ({
 *   experiment: "cov", sweep: "channels", rows: 20480, cols: c, median_time_ms: c * c / 100, error: "",
 * }));
 * const text = JSON.stringify(sweepPanels(rows));
 * assert(text.includes("covariance (~C^2.00)"));
 * assert(text.includes("median time (ms)"));
 * ```
 */
export function sweepPanels(rows: readonly LogRow[]): ChartSpec {
  const all = latest(rows, (r) => `${r.experiment}|${r.device}|${r.sweep}|${r.rows}|${r.cols}`);
  const ok = all.filter((r) => !r.error && num(r.median_time_ms) > 0);
  if (ok.length === 0) throw new RangeError("no sweep row without an error to plot");
  const panels: ChartSpec[] = [];
  for (
    const [sweep, x, title, symbol] of [
      ["channels", "cols", "channels C", "C"],
      ["spatial", "rows", "pixels", "pixels"],
      ["shapes", "size", "matrix size (rows × cols)", "size"],
    ] as const
  ) {
    const these = ok.filter((r) => r.sweep === sweep);
    if (these.length === 0) continue;
    const values: { series: string; x: number; ms: number; shape: string }[] = [];
    for (const experiment of new Set(these.map((r) => `${r.experiment}|${r.device}`))) {
      const series = these.filter((r) => `${r.experiment}|${r.device}` === experiment);
      const xs = series.map((r) => sweep === "shapes" ? num(r.rows) * num(r.cols) : num(r[x]));
      const ys = series.map((r) => num(r.median_time_ms));
      const k = new Set(xs).size >= 2 ? growthExponent(xs, ys).exponent : undefined;
      const [name, device] = experiment.split("|");
      const label = `${EXPERIMENT_NAMES[name] ?? name}${device === "gpu" ? " (gpu)" : ""}` +
        (k === undefined ? "" : ` (~${symbol}^${k.toFixed(2)})`);
      series.forEach((r, i) =>
        values.push({ series: label, x: xs[i], ms: ys[i], shape: `${r.rows}×${r.cols}` })
      );
    }
    panels.push({
      ...PANEL,
      title: sweep === "shapes"
        ? "Time vs matrix size (§3 shapes)"
        : `Time vs ${title} (§1 ${sweep} sweep)`,
      data: { values },
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "x", type: "quantitative", title, scale: { type: "log" } },
        y: { field: "ms", type: "quantitative", title: "median time (ms)", scale: { type: "log" } },
        color: { field: "series", type: "nominal", title: "operation (fitted growth)" },
        tooltip: [{ field: "shape" }],
      },
    });
  }
  return {
    title: { text: "Operation sweeps (EXPERIMENTS.md §1, §3), log–log axes" },
    hconcat: panels,
    config: { legend: { orient: "bottom", labelLimit: 400, titleLimit: 400 } },
  };
}

/** The metrics drawn from a tracker run, in panel order. */
const TRACK_METRICS = ["stable_rank", "participation_ratio", "cumulative_90"] as const;

/**
 * A tracker run: each metric over steps, one line per layer, its jumps (detected as
 * `track/jumps.ts` does, per layer and metric) marked as red points.
 *
 * @param data The run, as `readTrack` gives it.
 * @returns The spec.
 * @throws {RangeError} When the run has no rows.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { trackPanels } from "./plot_specs.ts";
 * const rows = Array.from({ length: 40 }, (_, step) => ({
 *   step, loss: null, grad_norm: null, stable_rank: step === 30 ? 50 : 5 + (step % 3) * 0.1,
 *   participation_ratio: 3, cumulative_90: 2, nuclear_norm_ratio: 2, spectral_entropy: 1,
 *   effective_rank: 2.7, condition_number: 10, numerical_rank: 4,
 * }));
 * const spec = trackPanels({ samplingFrequency: 1, metadata: undefined, layers: [{ name: "fc1", rows }] });
 * const jumps = (spec.data as { values: { jump: boolean }[] }).values.filter((v) => v.jump);
 * assert.strictEqual(jumps.length, 1);
 * ```
 */
export function trackPanels(data: TrackData): ChartSpec {
  const values: { layer: string; step: number; metric: string; value: number; jump: boolean }[] =
    [];
  for (const layer of data.layers) {
    for (const metric of TRACK_METRICS) {
      const series = layer.rows.map((r) => r[metric]);
      const jumps = new Set(detectJumps(series).map((j) => j.index));
      layer.rows.forEach((r, i) =>
        values.push({
          layer: layer.name,
          step: r.step,
          metric,
          value: series[i],
          jump: jumps.has(i),
        })
      );
    }
  }
  if (values.length === 0) throw new RangeError("the tracker run holds no rows to plot");
  const jumpCount = values.filter((v) => v.jump).length;
  return {
    title: {
      text: `Dimensionality over training (EXPERIMENTS.md §3): ${data.layers.length} layers, ` +
        `${jumpCount} jumps marked`,
    },
    data: { values },
    vconcat: TRACK_METRICS.map((metric) => ({
      width: 560,
      height: 150,
      title: metric.replaceAll("_", " "),
      transform: [{ filter: { field: "metric", equal: metric } }],
      layer: [
        {
          mark: "line",
          encoding: {
            x: { field: "step", type: "quantitative", title: "training step" },
            y: { field: "value", type: "quantitative", title: metric.replaceAll("_", " ") },
            color: { field: "layer", type: "nominal", title: "layer" },
          },
        },
        {
          transform: [{ filter: "datum.jump" }],
          mark: { type: "point", color: "red", size: 70, filled: true },
          encoding: {
            x: { field: "step", type: "quantitative" },
            y: { field: "value", type: "quantitative" },
            shape: { datum: "jump (|z| > 3)", type: "nominal", title: "" },
          },
        },
      ],
    })),
  };
}
