/**
 * Tracker figures of issue 4: overhead at sampling 10 against untracked training (target at
 * most 2 %), measured once at start-up with `runTrackingExperiment` (an untracked and a tracked
 * twin from one seed, taking turns every 10 steps) and printed; and the HDF5 export of 1,000
 * measurements x 10 layers (targets: at most 0.3 MB, under 50 ms) as a `Deno.bench` case, its
 * size printed.
 */

import { runTrackingExperiment } from "../track/experiment.ts";
import { DimensionalityTracker } from "../track/tracker.ts";
import { size } from "./_config.ts";

const steps = size(2000, 100);
const result = await runTrackingExperiment({
  steps,
  samplingFrequencies: [10],
  exportFrequency: null,
});
const f = result.frequencies[0];
console.log(
  `tracker overhead at sampling 10 over ${steps} steps: ${f.overheadPercent.toFixed(2)} % ` +
    `(wall, vs the untracked twin in lockstep), ${f.observeOverheadPercent.toFixed(2)} % ` +
    `inside observe(); ${f.measurements} measurements, ${result.stepMs.toFixed(2)} ms per step`,
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
