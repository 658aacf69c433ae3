/**
 * What a stress run prints and records: §1-style tables of a {@linkcode StressReport}, and its
 * figures as record metrics (absolute ones, which depend on the machine, and ratios and
 * detection quality, which `compare` still compares across machines).
 *
 * @module
 */

import type { RecordMetric } from "./record.ts";
import type { Range3, StressReport, SweepResult } from "./stress.ts";
import { formatTable } from "./table.ts";

const MB = 1e6;
const mb = (bytes: number) => (bytes / MB).toFixed(1);
const ms = (v: number) => v < 10 ? v.toFixed(3) : v < 1000 ? v.toFixed(1) : v.toFixed(0);

/** A size in §1's decimal units: `1.6 MB`, `328 MB`, `26 GB`, `2.1 TB`. */
function decimalSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let unit = 0;
  while (bytes >= 1000 && unit < units.length - 1) {
    bytes /= 1000;
    unit++;
  }
  return `${bytes.toPrecision(bytes >= 100 ? 3 : 2)} ${units[unit]}`;
}

/**
 * A duration for people: seconds, minutes, hours or days.
 *
 * @param seconds The duration.
 * @returns e.g. `"42.0 s"`, `"3.5 min"`, `"2.1 h"`, `"6.3 days"`.
 * @throws Never.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { formatDuration } from "./stress_report.ts";
 * assert.strictEqual(formatDuration(90), "1.5 min");
 * ```
 */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}

/**
 * The report's tables: throughput and memory, forward latency, the two sweeps with their growth
 * exponents, detection quality, the gradient check, and what was skipped.
 *
 * @param r The run's report.
 * @returns The text, sections separated by blank lines.
 * @throws Never.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { runStress } from "./stress.ts";
 * import { stressPlan } from "./stress_plan.ts";
 * import { stressTables } from "./stress_report.ts";
 * const text = stressTables(await runStress(stressPlan("tiny"), { backend: "wasm" }));
 * assert(text.includes("Channel sweep") && text.includes("growth exponent"));
 * ```
 */
export function stressTables(r: StressReport): string {
  const { plan, stream: s } = r;
  const d = plan.dataset;
  const parts: string[] = [];
  parts.push(
    `stress ${plan.scale}: ${d.samples.toLocaleString("en")} samples of ${d.height}×${d.width}×` +
      `${d.bands} (${decimalSize(d.samples * s.sampleBytes)} as float32), backend ${r.backend}, ` +
      `${r.seconds.toFixed(1)} s in all`,
  );
  const ended = s.end === "complete"
    ? "complete"
    : `stopped (${s.end}) after ${s.done} of ${s.planned}`;
  parts.push(
    "Throughput and memory (one sample alive at a time: generate, normalise, fit, score)\n" +
      formatTable(
        [
          "samples",
          "wall s",
          "samples/s",
          "gen ms/sample",
          "RX ms/sample",
          "RSS start MB",
          "RSS peak MB",
          "RSS delta MB",
        ],
        [[
          `${s.done}/${s.planned}`,
          s.seconds.toFixed(2),
          s.samplesPerSecond === null ? "-" : s.samplesPerSecond.toFixed(3),
          s.generate === null ? "-" : ms(s.generate.medianMs),
          s.pipeline === null ? "-" : ms(s.pipeline.medianMs),
          mb(s.rss.startBytes),
          mb(s.rss.peakBytes),
          mb(s.rss.deltaBytes),
        ]],
      ) +
      `\n${ended}` +
      (s.projectedSeconds === null || s.end === "complete"
        ? ""
        : `; at ${s.samplesPerSecond!.toFixed(3)} samples/s the whole scale would take ` +
          `${formatDuration(s.projectedSeconds)}`),
  );
  if (r.latency !== null) {
    const { side, bands } = plan.latency;
    parts.push(
      `Forward latency (fitted RX scoring a batch of ${side}×${side}×${bands} samples)\n` +
        formatTable(
          ["batch", "ms/batch", "spread ms", "ms/sample", "samples/s"],
          r.latency.map((l) => [
            String(l.batch),
            ms(l.timing.medianMs),
            ms(l.timing.spreadMs),
            ms(l.msPerSample),
            (1000 / l.msPerSample).toFixed(1),
          ]),
        ),
    );
  }
  if (r.channelSweep !== null) {
    const { side, samples } = plan.channelSweep;
    parts.push(sweepTable(
      `Channel sweep (${side}×${side}, ${samples} samples)`,
      "channels",
      r.channelSweep,
      "C",
    ));
  }
  if (r.spatialSweep !== null) {
    const { bands, samples } = plan.spatialSweep;
    parts.push(sweepTable(
      `Spatial sweep (${bands} channels, ${samples} samples)`,
      "side",
      r.spatialSweep,
      "pixels",
    ));
  }
  const auc = (name: string, a: Range3 | null) =>
    a === null ? [name, "0", "-", "-", "-"] : [
      name,
      String(a.count),
      a.min.toFixed(4),
      a.mean.toFixed(4),
      a.max.toFixed(4),
    ];
  parts.push(
    "Detection quality (ROC AUC of RX scores against the planted anomaly discs; 0.5 = chance)\n" +
      formatTable(["fit", "samples", "min", "mean", "max"], [
        auc("plain RX", s.plainAuc),
        auc("robust RX", s.robustAuc),
      ]) +
      (s.plainAuc !== null && s.plainAuc.mean < 0.5
        ? "\nplain RX ranks the discs below the background: they are about a tenth of the " +
          "pixels with one noise-free signature, so they shape the covariance they are scored " +
          "against; the robust fit (minimum covariance determinant) leaves them out"
        : "") +
      (s.robustAuc === null
        ? ""
        : `\nrobust fits took ${s.robustSeconds.toFixed(1)} s, not counted in the rate`),
  );
  if (r.gradient !== null) {
    const g = r.gradient;
    parts.push(
      `Gradient check (conv net "${g.spec}", ${g.parameters.toLocaleString("en")} parameters, ` +
        `input ${g.inputShape.join("×")}, float64 central differences)\n` +
        formatTable(["tensors", "max rel. error", "tolerance", "ms", "result"], [[
          String(g.tensors + 1),
          g.maxRelativeError.toExponential(2),
          g.tolerance.toExponential(0),
          ms(g.ms),
          g.maxRelativeError < g.tolerance ? "PASS" : "FAIL",
        ]]),
    );
  }
  if (r.skipped.length > 0) parts.push(`Skipped:\n${r.skipped.map((s) => `  ${s}`).join("\n")}`);
  return parts.join("\n\n");
}

function sweepTable(title: string, column: string, sweep: SweepResult, over: string): string {
  const table = formatTable(
    [column, "ms", "spread ms"],
    sweep.points.map((p) => [String(p.size), ms(p.timing.medianMs), ms(p.timing.spreadMs)]),
  );
  const fit = sweep.fit === null
    ? "growth exponent: fewer than two points"
    : `growth exponent: time ~ ${over}^${sweep.fit.exponent.toFixed(2)} (r² ${
      sweep.fit.r2.toFixed(3)
    }); the reference reports ~${over}^${sweep.reference}`;
  return `${title}\n${table}\n${fit}`;
}

/**
 * The run's figures as record metrics: rates and times (absolute: they depend on the machine),
 * and the batch-16 over batch-1 latency ratio and detection AUCs (not absolute).
 *
 * @param r The run's report.
 * @returns Metrics by name.
 * @throws Never.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { runStress } from "./stress.ts";
 * import { stressPlan } from "./stress_plan.ts";
 * import { stressMetrics } from "./stress_report.ts";
 * const m = stressMetrics(await runStress(stressPlan("tiny"), { backend: "wasm" }));
 * assert.strictEqual(m.plain_rx_auc_mean.better, "higher");
 * assert.strictEqual(m.plain_rx_auc_mean.absolute, false);
 * ```
 */
export function stressMetrics(r: StressReport): Record<string, RecordMetric> {
  const out: Record<string, RecordMetric> = {};
  const put = (
    name: string,
    value: number,
    unit: string,
    better: "lower" | "higher",
    absolute = true,
  ) => {
    if (Number.isFinite(value)) out[name] = { value, unit, better, absolute };
  };
  const s = r.stream;
  if (s.samplesPerSecond !== null) {
    put("stream_samples_per_s", s.samplesPerSecond, "samples/s", "higher");
  }
  if (s.pipeline !== null) put("rx_ms_per_sample", s.pipeline.medianMs, "ms", "lower");
  if (s.generate !== null) put("generate_ms_per_sample", s.generate.medianMs, "ms", "lower");
  put("stream_peak_rss_bytes", s.rss.peakBytes, "bytes", "lower");
  if (s.plainAuc !== null) put("plain_rx_auc_mean", s.plainAuc.mean, "1", "higher", false);
  if (s.robustAuc !== null) put("robust_rx_auc_mean", s.robustAuc.mean, "1", "higher", false);
  for (const l of r.latency ?? []) {
    put(`latency_batch${l.batch}_ms_per_sample`, l.msPerSample, "ms", "lower");
  }
  if (r.latency !== null && r.latency.length >= 2) {
    const first = r.latency[0], last = r.latency[r.latency.length - 1];
    put(
      `latency_batch${last.batch}_over_batch${first.batch}`,
      last.msPerSample / first.msPerSample,
      "1",
      "lower",
      false,
    );
  }
  for (const [sweep, name] of [[r.channelSweep, "channels"], [r.spatialSweep, "side"]] as const) {
    for (const p of sweep?.points ?? []) {
      put(`sweep_${name}${p.size}_ms`, p.timing.medianMs, "ms", "lower");
    }
  }
  return out;
}
