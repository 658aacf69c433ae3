/**
 * The fixed cases the browser test page runs, written once so that the page (in Chromium) and
 * the Deno test run exactly the same code on exactly the same seeded data; the test compares the
 * two within each operation's tolerance. Odd sizes on purpose (primes, a single row).
 *
 * @module
 */

import {
  conv2d,
  covariance,
  type Cube,
  RxDetector,
  singularValues,
  spectrumMetrics,
  synthCube,
} from "../mod.ts";
import { measure, type Timing } from "../harness/timing.ts";

/** One case's outputs, as plain numbers so they survive JSON. */
export type CaseResults = Record<string, number[]>;

/** Tolerances per output (relative to the largest magnitude of the Deno values). */
export const CASE_TOLERANCE: Readonly<Record<string, number>> = {
  "covariance.mean": 1e-6,
  "covariance.covariance": 1e-5,
  "covariance.two-rows": 1e-7,
  "rx.scores": 1e-4,
  "singular.values": 1e-5,
  "spectrum.metrics": 1e-5,
  "conv2d.output": 1e-5,
};

/** A cube of `height × width × bands`, seeded. */
function cube(height: number, width: number, bands: number, seed: number): Cube {
  return synthCube({ height, width, bands, seed }).cube;
}

/**
 * Runs every case on the CPU kernels (`backend: "wasm"`), so both sides run the same kernels;
 * the page reports separately which backend `auto` would take.
 *
 * @returns The outputs by name (see {@linkcode CASE_TOLERANCE}).
 */
export async function runCases(): Promise<CaseResults> {
  const backend = "wasm" as const;
  const out: CaseResults = {};
  const c = cube(37, 41, 13, 7);
  const stats = await covariance(c, { backend });
  out["covariance.mean"] = [...stats.mean];
  out["covariance.covariance"] = [...stats.covariance];
  // The smallest input covariance takes: two rows, population covariance.
  const two = await covariance({ data: new Float32Array([1, 2, 3, 4, 6, 9]), rows: 2, cols: 3 }, {
    backend,
    ddof: 0,
  });
  out["covariance.two-rows"] = [...two.mean, ...two.covariance];
  const rx = await new RxDetector().fit(c, { backend });
  out["rx.scores"] = [...await rx.score(c, { backend })];
  const m = cube(1, 97, 23, 11);
  const s = await singularValues({ data: m.data, rows: 97, cols: 23 }, { backend });
  out["singular.values"] = [...s];
  const metrics = spectrumMetrics(s);
  out["spectrum.metrics"] = Object.values(metrics).filter((v) => typeof v === "number");
  const image = cube(9, 11, 3, 5);
  const weights = cube(3, 3, 15, 6); // 3×3×3×5 weights, HWIO
  using y = await conv2d(
    { data: image.data, shape: [1, 9, 11, 3] },
    { data: weights.data, shape: [3, 3, 3, 5] },
    { padding: "same", backend },
  );
  out["conv2d.output"] = [...await y.read()];
  return out;
}

/** The timings of the size: covariance and RX scoring of `rows × bands`. */
export interface SpeedResults {
  /** Rows and bands measured. */
  readonly rows: number;
  readonly bands: number;
  /** `covariance()` of the whole matrix. */
  readonly covariance: Timing;
  /** `RxDetector.score()` of every row (fitted once beforehand). */
  readonly rxScore: Timing;
}

/**
 * Times covariance and RX scoring of a seeded `rows × bands` matrix with `backend: "wasm"`
 * (every core the pool has), for the page-versus-Deno ratio.
 *
 * @param rows Rows (pixels).
 * @param bands Columns (bands).
 * @returns Both timings.
 */
export async function runSpeed(rows: number, bands: number): Promise<SpeedResults> {
  const backend = "wasm" as const;
  // 1,638,400 = 1280 × 1280 pixels: a cube of that many lines of 1280 pixels.
  const width = 1280;
  const data = cube(Math.ceil(rows / width), width, bands, 3).data.subarray(0, rows * bands);
  const matrix = { data, rows, cols: bands };
  const options = { warmup: 1, iterations: 5 };
  const cov = await measure(() => covariance(matrix, { backend }), options);
  const rx = await new RxDetector().fit(matrix, { backend });
  const score = await measure(() => rx.score(matrix, { backend }), options);
  return { rows, bands, covariance: cov, rxScore: score };
}
