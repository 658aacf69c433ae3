/**
 * The sizes of the stress suite (the RX stress suite of `EXPERIMENTS.md` §1): the streamed
 * dataset of each scale, and the fixed-size sections every scale runs (forward latency at batch
 * 1/4/8/16 on 64×64×10, the channel sweep on 32×32 × 20 samples, the spatial sweep on 10 bands ×
 * 10 samples, the convolution net's gradient check).
 *
 * @module
 */

import { type DatasetShape, SCALES } from "../synth/datasets.ts";

/** The scales `stress` takes: §1's four, `xl` standing for its extra-large. */
export type StressScale = "small" | "medium" | "large" | "xl";

/** The names of {@linkcode StressScale}, in order of size. */
export const STRESS_SCALES: readonly StressScale[] = ["small", "medium", "large", "xl"];

/** Everything the suite runs, sized. */
export interface StressPlan {
  /** The scale's name (`tiny` for the tests' plan). */
  readonly scale: string;
  /** The streamed dataset: throughput, memory, plain RX detection quality. */
  readonly dataset: DatasetShape;
  /** Samples of the stream also fitted robustly, for the detection table. */
  readonly robustSamples: number;
  /** Forward latency: one image size, several batch sizes. */
  readonly latency: {
    readonly side: number;
    readonly bands: number;
    readonly batches: readonly number[];
  };
  /** Channel sweep: time against bands at a fixed image size and sample count. */
  readonly channelSweep: {
    readonly side: number;
    readonly samples: number;
    readonly bands: readonly number[];
  };
  /** Spatial sweep: time against image side at fixed bands and sample count. */
  readonly spatialSweep: {
    readonly bands: number;
    readonly samples: number;
    readonly sides: readonly number[];
  };
  /** Gradient check of a built-in convolution net on one small input. */
  readonly gradient: {
    readonly spec: "small";
    readonly side: number;
    readonly samples: number;
  };
  /** Warm-up and timed runs of every timed section (not the stream: each sample runs once). */
  readonly warmup: number;
  /** Timed runs per measured point. */
  readonly iterations: number;
}

/** §1's fixed-size sections, the same at every scale. */
const SECTIONS = {
  robustSamples: 3,
  latency: { side: 64, bands: 10, batches: [1, 4, 8, 16] },
  channelSweep: { side: 32, samples: 20, bands: [10, 50, 100, 200] },
  spatialSweep: { bands: 10, samples: 10, sides: [64, 128, 256] },
  gradient: { spec: "small", side: 8, samples: 8 },
  warmup: 1,
  iterations: 5,
} as const;

/**
 * The tests' plan: every section at a few pixels, so a whole run takes about a second. Reached
 * from the command line only through the undocumented `--scale tiny` (for tests; `--help` does
 * not list it).
 */
const TINY: StressPlan = {
  scale: "tiny",
  dataset: { samples: 3, height: 12, width: 12, bands: 4 },
  robustSamples: 1,
  latency: { side: 8, bands: 4, batches: [1, 2] },
  channelSweep: { side: 8, samples: 2, bands: [2, 4, 8] },
  spatialSweep: { bands: 3, samples: 2, sides: [8, 16] },
  gradient: { spec: "small", side: 4, samples: 2 },
  warmup: 0,
  iterations: 2,
};

/**
 * The plan of a scale.
 *
 * @param scale `small`, `medium`, `large`, `xl` (or `tiny`, the tests' plan).
 * @returns The plan.
 * @throws {RangeError} On another name.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { stressPlan } from "./stress_plan.ts";
 * const xl = stressPlan("xl");
 * assert.deepStrictEqual(xl.dataset, { samples: 10000, height: 512, width: 512, bands: 200 });
 * assert.deepStrictEqual(xl.latency.batches, [1, 4, 8, 16]);
 * ```
 */
export function stressPlan(scale: StressScale | "tiny"): StressPlan {
  if (scale === "tiny") return TINY;
  if (!STRESS_SCALES.includes(scale)) {
    throw new RangeError(`unknown stress scale "${scale}"; use ${STRESS_SCALES.join(", ")}`);
  }
  const { samples, height, width, bands } = SCALES[scale === "xl" ? "extra-large" : scale];
  // A robust fit reads a sample about a dozen times: one is enough on the large samples.
  const robustSamples = height * width * bands > 1e6 ? 1 : SECTIONS.robustSamples;
  return { scale, dataset: { samples, height, width, bands }, ...SECTIONS, robustSamples };
}
