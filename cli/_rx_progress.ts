/**
 * Progress on stderr for the long-running commands (`cov`, `rx`, `synth`, `stress`): a bar with
 * rate and ETA on a terminal, plain lines otherwise; at most one line a second, never one per
 * chunk, and nothing for runs that finish within the first second.
 *
 * @module
 */

import type { Backend } from "../core/types.ts";
import { UsageError } from "./_command.ts";

/** Reports `done` of `total` units; call as often as you like. */
export type ProgressLine = (done: number, total: number | undefined, unit: string) => void;

/**
 * Makes a throttled progress reporter that writes to stderr: on a terminal a bar redrawn in
 * place (ended by a line break when `done` reaches `total`), otherwise plain lines; both with
 * the rate and, when the total is known, the time left at that rate.
 *
 * @param label What is running, e.g. `"rx fit"`.
 * @param intervalMs The least time between lines; default 1000 (a bar: a quarter of it).
 * @param terminal Draw a bar (default: whether stderr is a terminal).
 * @returns The reporter.
 */
export function progressLine(
  label: string,
  intervalMs = 1000,
  terminal: boolean = Deno.stderr.isTerminal(),
): ProgressLine {
  const start = performance.now();
  let last = start;
  const encoder = new TextEncoder();
  const every = terminal ? intervalMs / 4 : intervalMs;
  let drawn = false;
  return (done, total, unit) => {
    const now = performance.now();
    // Nothing in the first interval; then a bar redrawn often, or a line now and then.
    if (now - start < intervalMs) return;
    const finished = terminal && total !== undefined && done >= total;
    if (now - last < every && !(finished && drawn)) return;
    last = now;
    drawn = true;
    const secs = (now - start) / 1000;
    const rate = done / secs;
    const eta = total && rate > 0 && done < total ? `, ETA ${etaText((total - done) / rate)}` : "";
    const pct = total ? ` (${(100 * done / total).toFixed(1)}%)` : "";
    const figures = `${done}${total ? ` / ${total}` : ""} ${unit}${pct}, ${secs.toFixed(1)} s, ` +
      `${rate.toFixed(rate < 10 ? 2 : 0)} ${unit}/s${eta}`;
    const text = terminal
      ? `\r${label} ${bar(total ? done / total : 0)} ${figures}\x1b[K${finished ? "\n" : ""}`
      : `${label}: ${figures}\n`;
    Deno.stderr.writeSync(encoder.encode(text));
  };
}

/** A 24-cell bar for a fraction in [0, 1]. */
function bar(fraction: number): string {
  const cells = Math.round(24 * Math.min(1, Math.max(0, fraction)));
  return `[${"#".repeat(cells)}${"-".repeat(24 - cells)}]`;
}

/** Time left, rounded for reading: `42 s`, `7.5 min`, `3.2 h`, `12 days`. */
function etaText(seconds: number): string {
  if (seconds < 90) return `${seconds.toFixed(0)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(0)} days`;
}

/**
 * Checks a `--backend` value.
 *
 * @param value The option's text.
 * @returns The backend.
 * @throws {UsageError} When it is not auto, wasm or webgpu.
 */
export function checkBackend(value: string | undefined): Backend {
  if (value !== "auto" && value !== "wasm" && value !== "webgpu") {
    throw new UsageError(`--backend must be auto, wasm or webgpu, got "${value}"`);
  }
  return value;
}
