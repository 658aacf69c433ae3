/**
 * Where the `small` net's WASM time goes, layer by layer (6→32 with K = 54, 32→32 with K = 288,
 * 32→6 with N = 6): for each layer and pass, the median time on one thread (the kernel called on
 * this thread, packed weights), on the pool's workers, and through the public `conv2d()` with
 * plain weights (packing per call) and with prepared weights, with GFLOP/s (2 flops per
 * multiply-add), so per-call overheads and lane waste show up as a gap; and, per layer, one
 * prism thread against TensorFlow.js's WASM backend (XNNPACK, one thread) on the same layer,
 * timed interleaved call by call, so the ratio holds on a loaded machine (`--no-tfjs` skips it):
 *
 * ```sh
 * deno run -A --frozen bench/conv_profile.ts [--tile 256] [--batch 1] [--runs 7] [--no-tfjs]
 * ```
 *
 * Name the CPU (`lscpu`) and the load average (printed) beside any figure quoted.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import { setThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { convGeometry } from "../core/conv_geometry.ts";
import { conv2d, conv2dBackward, prepareConv2dWeights } from "../ops/conv2d.ts";
import { toDevice } from "../tensor/device_tensor.ts";
import {
  ConvWeights,
  wasmConvBackwardInput,
  wasmConvBackwardWeights,
  wasmConvForward,
} from "../wasm/conv.ts";
import { loadKernels } from "../wasm/loader.ts";
import { WorkerPool } from "../wasm/pool.ts";
import { WasmStorage } from "../wasm/storage.ts";
import { randomF32 } from "../synth/uniform.ts";
import { smallNetLayers } from "./_conv_small_net.ts";
import { measure, summarise } from "../harness/timing.ts";

const args = Deno.args;
const flag = (name: string, d: number) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? d : Number(args[i + 1]);
};
const TILE = flag("tile", 256);
const BATCH = flag("batch", 1);
const RUNS = flag("runs", 7);
const operation = "conv_profile";
const TFJS = !args.includes("--no-tfjs") && await startTfjs();

/** tfjs's WASM backend with one thread; false (and why, printed) when it does not start. */
async function startTfjs(): Promise<boolean> {
  try {
    setThreadsCount(1);
    return await tf.setBackend("wasm") && (await tf.ready(), true);
  } catch (e) {
    console.log(`TF.js comparison skipped: ${e instanceof Error ? e.message : e}`);
    return false;
  }
}

/** Medians of `a` and `b` timed alternately, `RUNS` times each after two warm-ups. */
async function medianPair(
  a: () => Promise<unknown>,
  b: () => unknown,
): Promise<[number, number]> {
  for (let i = 0; i < 2; i++) await a(), b();
  const ta: number[] = [], tb: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    let t0 = performance.now();
    await a();
    ta.push(performance.now() - t0);
    t0 = performance.now();
    b();
    tb.push(performance.now() - t0);
  }
  return [summarise(ta).medianMs, summarise(tb).medianMs];
}

const kernels = await loadKernels();
const one = new WorkerPool({ size: 1 });
const pool = new WorkerPool();

/** Median ms of `RUNS` calls after two warm-ups. */
async function median(run: () => Promise<unknown> | unknown): Promise<number> {
  return (await measure(run, { warmup: 2, iterations: RUNS })).medianMs;
}

console.log(
  `small net layers, ${TILE}² batch ${BATCH}; load ${Deno.loadavg().map((v) => v.toFixed(2))}; ` +
    `${navigator.hardwareConcurrency} CPUs; median of ${RUNS}`,
);
const rows: string[][] = [];
const row = (what: string, flops: number, ms: number) =>
  rows.push([what, ms.toFixed(2), (flops / ms / 1e6).toFixed(1)]);
for (const [i, l] of smallNetLayers().entries()) {
  const g = convGeometry({
    input: [BATCH, TILE, TILE, l.c],
    kernel: [3, 3],
    outChannels: l.oc,
    padding: "same",
  });
  const flops = 2 * BATCH * TILE * TILE * 9 * l.c * l.oc;
  const name = `L${i + 1} ${l.c}→${l.oc} (K=${9 * l.c}, N=${l.oc})`;
  using x = WasmStorage.from(kernels, randomF32(BATCH * TILE * TILE * l.c, 30 + i));
  using dy = WasmStorage.from(kernels, randomF32(BATCH * TILE * TILE * l.oc, 40 + i));
  using packed = await ConvWeights.pack(g, l.weights.data);
  using packedT = await ConvWeights.pack(g, l.weights.data, { transposed: true });
  const fwd = (p: WorkerPool, weights: Float32Array | ConvWeights) => async () =>
    (await wasmConvForward(g, { input: x.view(), weights, bias: l.bias }, {
      activation: l.activation,
      operation,
      pool: p,
    })).free();
  row(`${name} forward, 1 thread`, flops, await median(fwd(one, packed)));
  if (TFJS) {
    const tx = tf.tensor4d(x.view().slice(), [BATCH, TILE, TILE, l.c]);
    const tw = tf.tensor4d(l.weights.data, [3, 3, l.c, l.oc]);
    const tb = tf.tensor1d(l.bias);
    const activation = l.activation === "relu" ? "relu" as const : "linear" as const;
    // Not read back: prism's output also stays where it was computed.
    const step = () =>
      tf.tidy(() =>
        void tf.fused.conv2d({ x: tx, filter: tw, bias: tb, activation, pad: "same", strides: 1 })
      );
    const [p, t] = await medianPair(fwd(one, packed), step);
    row(`${name} forward, 1 thread, interleaved with TF.js`, flops, p);
    row(`${name} forward, TF.js WASM 1 thread (÷ prism ${(t / p).toFixed(2)})`, flops, t);
    tf.dispose([tx, tw, tb]);
  }
  row(`${name} forward, pool`, flops, await median(fwd(pool, packed)));
  row(`${name} forward, pool, packing per call`, flops, await median(fwd(pool, l.weights.data)));
  const dxPass = (p: WorkerPool) => async () =>
    (await wasmConvBackwardInput(g, { dy: dy.view(), weights: packedT }, { operation, pool: p }))
      .free();
  row(`${name} input grad, 1 thread`, flops, await median(dxPass(one)));
  row(`${name} input grad, pool`, flops, await median(dxPass(pool)));
  const dwPass = (p: WorkerPool) => async () =>
    (await wasmConvBackwardWeights(g, { input: x.view(), dy: dy.view() }, { operation, pool: p }))
      [Symbol.dispose]();
  row(`${name} weight grad, 1 thread`, flops, await median(dwPass(one)));
  row(`${name} weight grad, pool`, flops, await median(dwPass(pool)));
  // The public op, as a network calls it (default pool).
  using xt = await toDevice(x.view().slice(), { shape: [BATCH, TILE, TILE, l.c], backend: "wasm" });
  const opts = { bias: l.bias, padding: "same" as const, activation: l.activation };
  row(
    `${name} conv2d(), plain weights`,
    flops,
    await median(async () => (await conv2d(xt, l.weights, opts)).dispose()),
  );
  using prepared = await prepareConv2dWeights(l.weights);
  row(
    `${name} conv2d(), prepared weights`,
    flops,
    await median(async () => (await conv2d(xt, prepared, opts)).dispose()),
  );
  using dyt = await toDevice(dy.view().slice(), {
    shape: [BATCH, TILE, TILE, l.oc],
    backend: "wasm",
  });
  row(
    `${name} conv2dBackward(), prepared weights`,
    2 * flops,
    await median(async () =>
      (await conv2dBackward(xt, prepared, { dy: dyt, padding: "same" })).dInput.dispose()
    ),
  );
}
one.close();
pool.close();
const head = ["layer, pass", "ms", "GFLOP/s"];
console.log(`| ${head.join(" | ")} |\n|---|---|---|`);
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
console.log(`load at the end ${Deno.loadavg().map((v) => v.toFixed(2))}`);
