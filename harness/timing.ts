/**
 * The one way prism's benchmarks time work: warm-up runs that are not counted, then timed runs,
 * each clock stopped only after the device has finished (`sync`), summarised by the median and
 * the spread. Every report, sweep and stress run times through {@linkcode measure} so that their
 * figures mean the same thing, and states comparisons through {@linkcode ratio} in one
 * direction: prism ÷ peer, below 1 means prism is faster.
 *
 * @module
 */

/** How to time one piece of work. */
export interface MeasureOptions {
  /** Runs before the clock starts (compilation, caches, pools warming). Default 2. */
  readonly warmup?: number;
  /**
   * After `warmup` runs, more warm-up runs until this many milliseconds have passed since the
   * first. Default 0. JavaScript around a kernel reaches its optimised tier only after many
   * calls: a 20,480 × 100 covariance took about 6 ms for its first ten calls, 4 ms for the next
   * thirty and 3.5 ms from then on.
   */
  readonly warmupMs?: number;
  /** Timed runs. Default 7. */
  readonly iterations?: number;
  /**
   * Waits until the work has really finished, called inside each timed run before the clock
   * stops: for work that returns before a GPU queue drains (for instance
   * `() => device.queue.onSubmittedWorkDone()`). Work whose promise resolves after a read-back
   * needs none.
   */
  readonly sync?: () => unknown;
  /** Stops early: checked before each run; the runs done so far are kept. */
  readonly signal?: AbortSignal;
}

/** What {@linkcode measure} found, in milliseconds. */
export interface Timing {
  /** Every timed run, in the order they ran. */
  readonly samples: readonly number[];
  /** The median of `samples`. */
  readonly medianMs: number;
  /** The fastest run. */
  readonly minMs: number;
  /** The slowest run. */
  readonly maxMs: number;
  /**
   * The interquartile range (75th minus 25th percentile, linear interpolation): how much the
   * middle half of the runs disagree, insensitive to one slow outlier.
   */
  readonly spreadMs: number;
}

function checkCount(name: string, value: number, least: number): void {
  if (!Number.isInteger(value) || value < least) {
    throw new RangeError(`${name} must be an integer ≥ ${least}, got ${value}`);
  }
}

/** The `q`-quantile of sorted values, interpolating linearly between neighbours. */
function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const below = Math.floor(at);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (at - below);
}

/**
 * Summarises timed runs: median, fastest, slowest and interquartile spread.
 *
 * @param samples Milliseconds per run; at least one, all finite.
 * @returns The summary.
 * @throws {RangeError} When `samples` is empty or holds a non-finite value.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { summarise } from "./timing.ts";
 * const t = summarise([5, 1, 3, 2, 4]);
 * assert.strictEqual(t.medianMs, 3);
 * assert.strictEqual(t.spreadMs, 2);
 * ```
 */
export function summarise(samples: readonly number[]): Timing {
  if (samples.length === 0) {
    throw new RangeError("no timed runs to summarise: give at least one sample");
  }
  const bad = samples.find((s) => !Number.isFinite(s));
  if (bad !== undefined) throw new RangeError(`a timed run is not a finite time: ${bad}`);
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    samples: [...samples],
    medianMs: quantile(sorted, 0.5),
    minMs: sorted[0],
    maxMs: sorted[sorted.length - 1],
    spreadMs: quantile(sorted, 0.75) - quantile(sorted, 0.25),
  };
}

/**
 * Times `run`: `warmup` uncounted runs (more until `warmupMs` have passed), then `iterations`
 * timed runs, each including `sync`.
 *
 * @param run The work; may be async. Its result is awaited and dropped.
 * @param options Warm-up count and time, iterations, the device sync, a stop signal.
 * @returns The timing summary.
 * @throws {RangeError} When `warmup` < 0, `warmupMs` is negative or not finite, or
 *   `iterations` < 1, or when the signal stopped the work before any timed run finished.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { measure } from "./timing.ts";
 * let calls = 0;
 * const t = await measure(() => { calls++; }, { warmup: 1, iterations: 3 });
 * assert.strictEqual(calls, 4);
 * assert.strictEqual(t.samples.length, 3);
 * assert(t.minMs <= t.medianMs && t.medianMs <= t.maxMs);
 * ```
 */
export async function measure(
  run: () => unknown,
  options: MeasureOptions = {},
): Promise<Timing> {
  const warmup = options.warmup ?? 2;
  const iterations = options.iterations ?? 7;
  checkCount("warmup", warmup, 0);
  checkCount("iterations", iterations, 1);
  const warmupMs = options.warmupMs ?? 0;
  if (!(warmupMs >= 0 && warmupMs < Infinity)) {
    throw new RangeError(`warmupMs must be a finite number ≥ 0, got ${warmupMs}`);
  }
  const warmStart = performance.now();
  for (
    let i = 0;
    (i < warmup || performance.now() - warmStart < warmupMs) && !options.signal?.aborted;
    i++
  ) {
    await run();
    await options.sync?.();
  }
  const samples: number[] = [];
  for (let i = 0; i < iterations && !options.signal?.aborted; i++) {
    const t0 = performance.now();
    await run();
    await options.sync?.();
    samples.push(performance.now() - t0);
  }
  if (samples.length === 0) {
    throw new RangeError("stopped before any timed run finished: nothing was measured");
  }
  return summarise(samples);
}

/**
 * The one direction prism states comparisons in: prism's time divided by the peer's, so below
 * 1 means prism is faster. A missing peer (skipped, failed) gives `undefined`, never a number.
 *
 * @param prismMs prism's time (any unit, the same as the peer's).
 * @param peerMs The peer's time, or `undefined` when the peer did not run.
 * @returns `prismMs / peerMs`, or `undefined`.
 * @throws {RangeError} When a time is not finite and positive.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ratio } from "./timing.ts";
 * assert.strictEqual(ratio(50, 100), 0.5); // prism twice as fast
 * assert.strictEqual(ratio(50, undefined), undefined);
 * ```
 */
export function ratio(prismMs: number, peerMs: number | undefined): number | undefined {
  if (peerMs === undefined) return undefined;
  for (const [name, v] of [["prism", prismMs], ["peer", peerMs]] as const) {
    if (!Number.isFinite(v) || v <= 0) {
      throw new RangeError(`${name} time must be finite and positive to form a ratio, got ${v}`);
    }
  }
  return prismMs / peerMs;
}
