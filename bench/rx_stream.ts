/**
 * Streams the `large` scale (1,000 samples of 256 × 256 × 100, 26 GB, generated on the fly)
 * through `RxDetector.fit` and reports time, throughput and peak RSS:
 * `deno run -A bench/rx_stream.ts [--samples N] [--quick]`.
 *
 * Generation is part of the measured time (the data exists nowhere else), so the figure bounds
 * the fit's own throughput from below.
 *
 * @module
 */

import { RxDetector } from "../ops/rx.ts";
import { datasetRows, SCALES } from "../synth/datasets.ts";

const args = Deno.args;
const quick = args.includes("--quick") || Deno.env.get("PRISM_BENCH_QUICK") === "1";
const i = args.indexOf("--samples");
const scale = SCALES.large;
const samples = i >= 0 ? Number(args[i + 1]) : quick ? 2 : scale.samples;
if (!Number.isInteger(samples) || samples < 1 || samples > scale.samples) {
  console.error(`--samples must be a whole number in 1..${scale.samples}`);
  Deno.exit(2);
}
const bytesPerSample = scale.height * scale.width * scale.bands * 4;

let peak = Deno.memoryUsage().rss;
const sampler = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 50);
let lastLine = performance.now();
const t0 = performance.now();
try {
  const rx = await new RxDetector().fit(
    datasetRows("large", { count: samples, maxRows: 65536 }),
    {
      backend: "wasm",
      onProgress: (p) => {
        peak = Math.max(peak, Deno.memoryUsage().rss);
        const now = performance.now();
        if (now - lastLine > 5000) {
          lastLine = now;
          const done = p.done / (scale.height * scale.width);
          console.error(`  ${done.toFixed(0)} samples, ${((now - t0) / 1000).toFixed(1)} s`);
        }
      },
    },
  );
  const secs = (performance.now() - t0) / 1000;
  peak = Math.max(peak, Deno.memoryUsage().rss);
  const s = rx.stats;
  console.log(
    `large scale, ${samples} of ${scale.samples} samples (${s.count} pixels x ${s.bands})`,
  );
  console.log(
    `time ${secs.toFixed(1)} s, ${(samples / secs).toFixed(2)} samples/s, ` +
      `${(samples * bytesPerSample / secs / 1e9).toFixed(3)} GB/s, rank ${s.rank}`,
  );
  console.log(`peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`);
  console.log(
    `extrapolated to ${scale.samples} samples: ${
      (secs * scale.samples / samples / 60).toFixed(1)
    } min`,
  );
} finally {
  clearInterval(sampler);
}
