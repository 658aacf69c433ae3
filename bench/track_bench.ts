/**
 * Tracker figures of issue 4: overhead at sampling 10 against untracked training (target at
 * most 2 %), measured at start-up with `runTrackingExperiment` (interleaved untracked and
 * tracked runs, the same seed) in several rounds whose median is printed with their range; and the HDF5 export of 1,000 measurements x 10
 * layers (targets: at most 0.3 MB, under 50 ms) as a `Deno.bench` case, its size printed.
 */

import { runTrackingExperiment } from "../track/experiment.ts";
import { DimensionalityTracker } from "../track/tracker.ts";
import { summarise } from "../harness/timing.ts";
import { size } from "./_config.ts";

// The wall figure is a difference of two noisy run times a few per cent apart, so one pair
// swings by more than the overhead itself on a shared machine. Several short rounds, each its
// own U T U comparison, and their median are a steadier estimate; the min–max range of the
// rounds is printed beside it, so a real cost cannot hide behind the median.
const rounds = size(7, 2);
const steps = size(400, 50);
const wall: number[] = [];
const inside: number[] = [];
let last: Awaited<ReturnType<typeof runTrackingExperiment>> | undefined;
for (let round = 0; round < rounds; round++) {
  last = await runTrackingExperiment({ steps, samplingFrequencies: [10], exportFrequency: null });
  wall.push(last.frequencies[0].overheadPercent);
  inside.push(last.frequencies[0].observeOverheadPercent);
}
const [w, o] = [summarise(wall), summarise(inside)];
console.log(
  `tracker overhead at sampling 10, median of ${rounds} rounds of ${steps} steps: ` +
    `${w.medianMs.toFixed(2)} % wall (each round vs the untracked runs either side; rounds ` +
    `${w.minMs.toFixed(2)} … ${w.maxMs.toFixed(2)} %), ${o.medianMs.toFixed(2)} % inside ` +
    `observe() (${o.minMs.toFixed(2)} … ${o.maxMs.toFixed(2)} %); ` +
    `${last!.frequencies[0].measurements} measurements a round, ${last!.stepMs.toFixed(2)} ms ` +
    `per step`,
);

// 1,000 measurements x 10 layers of realistic, non-repeating metric values.
const measurements = size(1000, 100);
let k = 0;
const tracker = new DimensionalityTracker({
  measure: () =>
    Promise.resolve(Float64Array.from({ length: 16 }, (_, i) => 16 - i + Math.sin(k++))),
});
const x = { data: new Float32Array(16 * 16), rows: 16, cols: 16 };
for (let step = 0; step < measurements; step++) {
  for (let layer = 0; layer < 10; layer++) {
    await tracker.observe(step, {
      layer: `layer${layer}`,
      activations: x,
      loss: 1 / (step + 1),
      gradNorm: 0.5,
    });
  }
}
const dir = await Deno.makeTempDir({ prefix: "prism_track_bench_" });
const path = `${dir}/run.h5`;
await tracker.export(path);
console.log(
  `HDF5 export of ${measurements} measurements x 10 layers: ${(await Deno.stat(path)).size} bytes`,
);
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

Deno.bench({
  name: `HDF5 export ${measurements} x 10 layers`,
  group: "track export",
  baseline: true,
  fn: async () => {
    await tracker.export(path);
  },
});
Deno.bench({
  name: `JSON export ${measurements} x 10 layers`,
  group: "track export",
  fn: async () => {
    await tracker.export(`${dir}/run.json`);
  },
});
