/**
 * Measures WASM `covariance()` against numpy float32 (python3, same data as .npy in a temp dir)
 * and TensorFlow.js's WASM backend in one run, and prints medians and ratios for the medium
 * matrix (1,638,400 × 50), the channel sweep (20,480 × C) and the spatial sweep (C = 10).
 *
 *     deno run -A bench/covariance_report.ts [--quick]
 *
 * `--quick` shrinks every problem 16× and runs fewer repetitions.
 */

import { covariance } from "../ops/covariance.ts";
import { allocMatrix } from "../wasm/kernel_matrix.ts";
import { writeNpy } from "../io/npy.ts";
import { numpyCovarianceMs, tfjsCovariance, tfjsReady } from "./_covariance_baselines.ts";
import { fillUniform } from "../synth/uniform.ts";
import { measure, ratio } from "../harness/timing.ts";

const quick = Deno.args.includes("--quick");
const shrink = quick ? 16 : 1;
const runs = quick ? 3 : 7;

/** Median ms of `n` runs after one warm-up (workers started, pipelines compiled). */
async function medianMs(fn: () => unknown, n: number): Promise<number> {
  return (await measure(fn, { warmup: 1, iterations: n })).medianMs;
}

await tfjsReady();
const dir = await Deno.makeTempDir({ prefix: "prism_cov_report_" });
const shapes: [string, number, number][] = [
  ["medium", 1_638_400 / shrink, 50],
  ...[10, 50, 100, 200].map((c): [string, number, number] => ["channels", 20_480 / shrink, c]),
  ...[40_960, 163_840, 655_360].map((r): [string, number, number] => [
    "spatial",
    r / shrink,
    10,
  ]),
];
const fmt = (v: number | string) => (typeof v === "number" ? v.toFixed(2) : "-");
const lines = [
  "| sweep | shape | prism plain ms | prism kernel-mem ms | numpy f32 ms | tfjs-wasm ms | prism/numpy | tfjs/prism |",
  "|---|---|---|---|---|---|---|---|",
];
const notes = new Set<string>();
try {
  for (const [sweep, rows, cols] of shapes) {
    const data = fillUniform(new Float32Array(rows * cols), 12345, { lo: 100, hi: 101 });
    const big = rows * cols > 1e7;
    const plain = await medianMs(() => covariance({ data, rows, cols }, { backend: "wasm" }), runs);
    using km = await allocMatrix(rows, cols);
    km.data.set(data);
    const inPlace = await medianMs(() => covariance(km, { backend: "wasm" }), runs);
    const path = `${dir}/x_${rows}_${cols}.npy`;
    await writeNpy(path, { data, shape: [rows, cols] });
    const numpy = numpyCovarianceMs(path, runs);
    await Deno.remove(path);
    if (typeof numpy === "string") notes.add(numpy);
    const tfjs = await medianMs(() => tfjsCovariance(data, rows, cols), big ? 3 : runs);
    lines.push(
      `| ${sweep} | ${rows}x${cols} | ${fmt(plain)} | ${fmt(inPlace)} | ${fmt(numpy)} | ` +
        `${fmt(tfjs)} | ${
          fmt(ratio(plain, typeof numpy === "number" ? numpy : undefined) ?? "-")
        } | ` +
        `${fmt(tfjs / plain)} |`,
    );
    console.error(lines.at(-1));
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
console.log(
  `covariance, WASM backend, ${navigator.hardwareConcurrency} cores${quick ? " (--quick)" : ""}`,
);
console.log(lines.join("\n"));
for (const note of notes) console.log(note);
