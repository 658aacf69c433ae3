/**
 * `covariance()` on WASM and WebGPU against TensorFlow.js's WASM backend (`baseline`) and plain
 * TypeScript float64 loops, per size: the medium
 * matrix (1,638,400 × 50), the channel sweep (20,480 × C, C = 10, 50, 100, 200) and the spatial
 * sweep (C = 10, 40,960 to 655,360 rows). prism runs on a plain array (copied in while the
 * workers compute) and on a kernel-memory matrix (`allocMatrix`, read in place). The numpy
 * comparison needs a subprocess: see bench/covariance_report.ts.
 */

import { covariance } from "../ops/covariance.ts";
import { allocMatrix } from "../wasm/kernel_matrix.ts";
import { GPU_BENCH, size } from "./_config.ts";
import { tfjsCovariance, tfjsReady } from "./_covariance_baselines.ts";
import { covariance64 } from "./_scalar_baselines.ts";
import { fillUniform } from "../synth/uniform.ts";

await tfjsReady();

const SHAPES: [string, number, number][] = [
  ["medium", size(1_638_400, 16_384), 50],
  ...[10, 50, 100, 200].map((c): [string, number, number] => ["channels", size(20_480, 2_048), c]),
  ...[40_960, 163_840, 655_360].map((r): [string, number, number] => [
    "spatial",
    size(r, r / 20),
    10,
  ]),
];

for (const [sweep, rows, cols] of SHAPES) {
  const group = `${sweep} ${rows}x${cols}`;
  const data = fillUniform(new Float32Array(rows * cols), 12345, { lo: 100, hi: 101 });
  const km = await allocMatrix(rows, cols);
  km.data.set(data);
  const n = rows * cols > 1e7 ? 5 : 30;
  Deno.bench(`tfjs-wasm ${rows}x${cols}`, { group, baseline: true, n: Math.min(n, 5) }, () => {
    tfjsCovariance(data, rows, cols);
  });
  Deno.bench(`plain TS float64 ${rows}x${cols}`, { group, n: Math.min(n, 3) }, () => {
    covariance64(data, rows, cols);
  });
  Deno.bench(`prism wasm (plain array) ${rows}x${cols}`, { group, n }, async () => {
    await covariance({ data, rows, cols }, { backend: "wasm" });
  });
  Deno.bench(`prism wasm (kernel memory) ${rows}x${cols}`, { group, n }, async () => {
    await covariance(km, { backend: "wasm" });
  });
  Deno.bench(
    `prism webgpu ${rows}x${cols}`,
    { group, n: Math.min(n, 5), ignore: !GPU_BENCH },
    async () => {
      await covariance({ data, rows, cols }, { backend: "webgpu" });
    },
  );
}
