/**
 * Progress of long work on stderr: on a terminal, one bar redrawn in place with the rate and the
 * time left; elsewhere (CI logs, pipes), a plain line at most once a second, so logs stay short.
 * Work that finishes within the first second prints nothing. `--quiet` gives a silent reporter
 * (`./_output.ts`).
 *
 * @module
 */

/** Reports `done` of `total` units (`total` undefined when unknown); call as often as you like. */
export type ProgressLine = (done: number, total: number | undefined, unit: string) => void;

/** How a reporter draws; the defaults suit a command. */
export interface ProgressOptions {
  /** Draw a bar in place (default: whether stderr is a terminal). */
  readonly terminal?: boolean;
  /** The least time between two plain lines; default 1000 ms (a bar redraws every 100 ms). */
  readonly intervalMs?: number;
  /** Where the text goes; default stderr. */
  readonly write?: (text: string) => void;
  /** The clock, in milliseconds; default `performance.now`. */
  readonly now?: () => number;
}

const BAR_WIDTH = 24;
const QUIET_START_MS = 1000;

function stderrIsTerminal(): boolean {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}

function writeStderr(text: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(text));
}

/** Seconds as `42 s`, `3 min 05 s` or `2 h 07 min`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor(s / 60) % 60).padStart(2, "0")} min`;
}

/**
 * Makes a progress reporter.
 *
 * @param label What is running, e.g. `"rx fit"`.
 * @param options Terminal or plain, interval, output, clock.
 * @returns The reporter.
 */
export function progressLine(label: string, options: ProgressOptions = {}): ProgressLine {
  const now = options.now ?? (() => performance.now());
  const write = options.write ?? writeStderr;
  const terminal = options.terminal ?? stderrIsTerminal();
  const interval = terminal ? 100 : options.intervalMs ?? 1000;
  const start = now();
  let last = start;
  let drawn = false;
  let finished = false;
  return (done, total, unit) => {
    const t = now();
    const complete = total !== undefined && done >= total;
    if (finished || t - start < QUIET_START_MS) return;
    // A bar already drawn is always completed, so the terminal is not left mid-line.
    if (!(complete && drawn) && t - last < interval) return;
    last = t;
    const secs = (t - start) / 1000;
    const rate = done / secs;
    const parts = [`${done}${total === undefined ? "" : ` / ${total}`} ${unit}`];
    parts.push(`${rate.toFixed(rate < 10 ? 2 : 0)} ${unit}/s`);
    if (total !== undefined && !complete) {
      parts.push(`${formatDuration((total - done) / rate)} left`);
    } else parts.push(`${formatDuration(secs)}`);
    const pct = total ? ` ${(100 * Math.min(done / total, 1)).toFixed(1).padStart(5)}%` : "";
    if (terminal) {
      const filled = total ? Math.round(BAR_WIDTH * Math.min(done / total, 1)) : 0;
      const bar = total ? ` [${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}]` : "";
      write(`\r\x1b[2K${label}${bar}${pct} ${parts.join(", ")}${complete ? "\n" : ""}`);
      drawn = !complete;
    } else write(`${label}:${pct} ${parts.join(", ")}\n`);
    finished = complete;
  };
}
