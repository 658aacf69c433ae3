/**
 * The tour's `summary.png`: its table as two panels, time per operation and peak resident
 * memory per operation, one mark per backend, drawn by the harness's Vega-Lite renderer.
 *
 * @module
 */

import type { ChartSpec } from "../harness/plot.ts";
import type { TourRow } from "./_tour_report.ts";

const PANEL = { width: 360, height: { step: 14 } } as const;

/**
 * The chart of the tour's timed rows.
 *
 * @param rows The table.
 * @returns A Vega-Lite spec.
 * @throws {RangeError} When no row was timed.
 */
export function tourChart(rows: readonly TourRow[]): ChartSpec {
  const values = rows.filter((r) => r.ms !== undefined && r.backend !== undefined).map((r) => ({
    operation: r.title,
    backend: r.backend,
    ms: Math.max(r.ms!, 1e-3), // a log axis has no zero
    peakMiB: r.peakRssBytes === undefined ? null : r.peakRssBytes / 2 ** 20,
  }));
  if (values.length === 0) throw new RangeError("no timed tour row to chart");
  const operation = {
    field: "operation",
    type: "nominal",
    title: null,
    sort: null,
    axis: { labelLimit: 360 },
  };
  const backend = { field: "backend", type: "nominal", title: "backend" };
  return {
    title: { text: "prism tour: time and peak memory per operation" },
    data: { values },
    hconcat: [{
      ...PANEL,
      title: "Time (log scale)",
      // Dots, not bars: a bar starts at zero, which a log axis cannot show.
      mark: { type: "point", filled: true, size: 70 },
      encoding: {
        y: operation,
        yOffset: backend,
        x: { field: "ms", type: "quantitative", title: "time (ms)", scale: { type: "log" } },
        color: backend,
      },
    }, {
      ...PANEL,
      title: "Peak resident memory of the process",
      mark: "bar",
      encoding: {
        y: { ...operation, axis: null },
        yOffset: backend,
        x: { field: "peakMiB", type: "quantitative", title: "peak RSS (MiB)" },
        color: backend,
      },
    }],
  };
}
