/**
 * TensorFlow.js baseline of the `small` net (nn/specs/small.json: 6→32→32→6, 3×3, same padding,
 * ReLU between) on its WASM backend with one thread, printing JSON:
 *
 * ```sh
 * deno run -A --frozen bench/baselines/tfjs_conv.ts [--tiles 256,384] [--batches 1,2,4]
 *   [--train-tiles 256] [--train-batches 1] [--quick] [--warmup n] [--iters n]
 * ```
 *
 * - `forward`: `tf.fused.conv2d` with bias and ReLU fused (XNNPACK inside), three layers.
 * - `train`: forward, MSE loss, `tf.grads` of the input and every weight, one Adam step (lr 1e-3).
 *   tfjs's WASM backend registers no `Conv2DBackpropFilter`, so tfjs cannot train a convolution
 *   there natively; this script says so (it asks the kernel registry and runs the kernel, which
 *   throws) and then times a fallback: a `tf.customGrad` whose weight gradient is nine `matMul`s
 *   of shifted input views by the output gradient, and whose input gradient is `conv2dTranspose`
 *   (`Conv2DBackpropInput` exists natively). The MSE gradient is written out too: tfjs-core alone
 *   registers no op gradients (the `@tensorflow/tfjs` umbrella package does). These gradients are
 *   held to PyTorch's (the `small_net_step` fixture) on every run, in `trainGradientErrorVsPyTorch`.
 *
 * Warm-up 10 and 50 timed iterations (train 5 and 20), as EXPERIMENTS.md §2; `--quick` 1 and 3;
 * `--warmup` and `--iters` set them (a loaded machine). Bench-only: nothing in mod.ts's graph
 * imports this; a report imports `tfjsConvBaseline`. When tfjs's WASM backend cannot start, it
 * prints `{ "skipped": reason }` and exits 0.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import { getThreadsCount, setThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { readNpy } from "../../io/npy.ts";

type Weights = [tf.Tensor4D, tf.Tensor1D, tf.Tensor4D, tf.Tensor1D, tf.Tensor4D, tf.Tensor1D];

/** What to time; every field is optional (the defaults are the command line's). */
export interface TfjsConvOptions {
  /** Forward tiles (default 256, 384) and batches (default 1, 2, 4). */
  tiles?: number[];
  batches?: number[];
  /**
   * Train-step tiles (default 256) and batches (default 1); none (`[]`) skips the train rows and
   * their checks (a report timing the forward).
   */
  trainTiles?: number[];
  trainBatches?: number[];
  /** Warm-up and timed iterations (default §2's: forward 10 + 50, train 5 + 20). */
  warmup?: number;
  iterations?: number;
  /** 1 warm-up and 3 timed iterations, for a smoke run. */
  quick?: boolean;
}

/** The options from `Deno.args` (`--tiles 256,384`, `--warmup 3`, `--quick`, ...). */
function parseArgs(args: string[]): TfjsConvOptions {
  const at = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i < 0 ? undefined : args[i + 1];
  };
  const list = (name: string) => at(name)?.split(",").map(Number);
  const num = (name: string) => at(name) === undefined ? undefined : Number(at(name));
  return {
    tiles: list("tiles"),
    batches: list("batches"),
    trainTiles: list("train-tiles"),
    trainBatches: list("train-batches"),
    warmup: num("warmup"),
    iterations: num("iters"),
    quick: args.includes("--quick"),
  };
}

/** Fixed weights: tfjs's seeded normal draws, one seed per tensor. */
function smallWeights(): Weights {
  const conv = (cin: number, cout: number, seed: number) =>
    tf.randomNormal([3, 3, cin, cout], 0, 1 / Math.sqrt(9 * cin), "float32", seed) as tf.Tensor4D;
  const bias = (c: number, seed: number) =>
    tf.randomNormal([c], 0, 0.1, "float32", seed) as tf.Tensor1D;
  return [conv(6, 32, 1), bias(32, 2), conv(32, 32, 3), bias(32, 4), conv(32, 6, 5), bias(6, 6)];
}

/** The forward pass, fused conv + bias + ReLU as tfjs users write it. */
function forward(x: tf.Tensor4D, w: Weights): tf.Tensor4D {
  const h1 = tf.fused.conv2d({
    x,
    filter: w[0],
    bias: w[1],
    activation: "relu",
    pad: "same",
    strides: 1,
  });
  const h2 = tf.fused.conv2d({
    x: h1,
    filter: w[2],
    bias: w[3],
    activation: "relu",
    pad: "same",
    strides: 1,
  });
  return tf.fused.conv2d({ x: h2, filter: w[4], bias: w[5], pad: "same", strides: 1 });
}

/** Weight gradient of a 3×3 same-padded stride-1 conv without `Conv2DBackpropFilter`. */
function filterGrad(x: tf.Tensor4D, dz: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const oc = dz.shape[3];
  const xp = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]);
  const dz2 = tf.reshape(dz, [n * h * w, oc]);
  const taps: tf.Tensor[] = [];
  for (let ky = 0; ky < 3; ky++) {
    for (let kx = 0; kx < 3; kx++) {
      const xs = tf.reshape(tf.slice(xp, [0, ky, kx, 0], [n, h, w, c]), [n * h * w, c]);
      taps.push(tf.matMul(xs, dz2, true, false));
    }
  }
  return tf.reshape(tf.stack(taps), [3, 3, c, oc]);
}

/** A conv layer (3×3, same, bias, optional ReLU) with the fallback gradient. */
function convLayer(relu: boolean) {
  return tf.customGrad((x, f, b, saveArg) => {
    const save = saveArg as tf.GradSaveFunc;
    const y = tf.fused.conv2d({
      x: x as tf.Tensor4D,
      filter: f as tf.Tensor4D,
      bias: b as tf.Tensor1D,
      activation: relu ? "relu" : "linear",
      pad: "same",
      strides: 1,
    });
    save([x as tf.Tensor, f as tf.Tensor, y]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [sx, sf, sy] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
        const dz = (relu ? tf.mul(dy, tf.step(sy)) : dy) as tf.Tensor4D;
        const dx = tf.conv2dTranspose(dz, sf, sx.shape, 1, "same");
        return [dx, filterGrad(sx, dz), tf.sum(dz, [0, 1, 2])];
      },
    };
  });
}

/** MSE (mean) with its gradient written out: tfjs-core alone registers no op gradients. */
function mseLoss(target: tf.Tensor) {
  return tf.customGrad((y, saveArg) => {
    const save = saveArg as tf.GradSaveFunc;
    const diff = tf.sub(y as tf.Tensor, target);
    save([diff]);
    return {
      value: tf.mean(tf.square(diff)),
      gradFunc: (dy, saved) => tf.mul(dy, tf.mul(saved[0], 2 / saved[0].size)),
    };
  });
}

/** The small net's MSE loss as a function of `[input, w1, b1, w2, b2, w3, b3]`. */
function smallLoss(target: tf.Tensor): (...a: tf.Tensor[]) => tf.Scalar {
  const layers = [convLayer(true), convLayer(true), convLayer(false)];
  const mse = mseLoss(target);
  return (...a) => {
    let h = a[0];
    for (let l = 0; l < 3; l++) h = layers[l](h, a[1 + 2 * l], a[2 + 2 * l]);
    return mse(h) as tf.Scalar;
  };
}

/**
 * Holds the fallback gradients to PyTorch's (tests/fixtures/conv/small_net_step), so the train
 * column times a correct computation: the largest error relative to the largest reference value.
 */
async function checkAgainstFixture(): Promise<Record<string, number> | string> {
  const dir = new URL("../../tests/fixtures/conv/small_net_step/", import.meta.url);
  const load = async (name: string) => {
    const a = await readNpy(new URL(`${name}.npy`, dir).pathname);
    return tf.tensor(a.data as Float32Array, a.shape);
  };
  try {
    const names = ["conv1", "conv2", "conv3"].flatMap((
      l,
    ) => [`${l}.conv.weight`, `${l}.conv.bias`]);
    const params = await Promise.all(names.map((n) => load(`param.${n}`)));
    const refs = await Promise.all([load("dx"), ...names.map((n) => load(`grad.${n}`))]);
    const x = await load("x");
    const grads = tf.grads(smallLoss(await load("target")))([x, ...params]);
    const rel = (a: tf.Tensor, b: tf.Tensor) =>
      tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / tf.max(tf.abs(b)).dataSync()[0];
    return Object.fromEntries(["input", ...names].map((n, i) => [n, rel(grads[i], refs[i])]));
  } catch (e) {
    return `not checked: ${e instanceof Error ? e.message : e}`;
  }
}

/** What happens when tfjs's WASM backend is asked for a convolution's weight gradient. */
function nativeTrainStatus(): { registered: boolean; error: string | null } {
  const registered = tf.getKernel("Conv2DBackpropFilter", "wasm") !== undefined;
  let error: string | null = null;
  try {
    tf.tidy(() => {
      const x = tf.ones([1, 4, 4, 1]);
      const dy = tf.ones([1, 4, 4, 1]);
      tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
        strides: 1,
        pad: "same",
        dataFormat: "NHWC",
        filterShape: [3, 3, 1, 1],
      });
    });
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  return { registered, error };
}

/**
 * One result row: `step` timed after warm-up, each iteration alone (mean, std, median, min in
 * ms), with §2's counts: forward 10 + 50, train 5 + 20, quick 1 + 3. Logged to stderr as it comes.
 */
function timeRow(
  mode: "forward" | "train",
  size: { tile: number; batch: number },
  o: TfjsConvOptions,
  step: () => void,
): Record<string, unknown> {
  const { tile, batch } = size;
  const [warmup, iterations] = [
    o.warmup ?? (o.quick ? 1 : mode === "forward" ? 10 : 5),
    o.iterations ?? (o.quick ? 3 : mode === "forward" ? 50 : 20),
  ];
  const row = {
    net: "small",
    mode,
    tile,
    batch,
    ...timeIt(step, warmup, iterations),
    warmup,
    iterations,
  };
  console.error(JSON.stringify(row));
  return row;
}

/** Times `step` after warm-up, each iteration alone: mean, std, median, min in ms. */
function timeIt(step: () => void, warmup: number, iters: number) {
  for (let i = 0; i < warmup; i++) step();
  const t: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    step();
    t.push(performance.now() - t0);
  }
  const mean = t.reduce((a, b) => a + b, 0) / iters;
  const std = Math.sqrt(t.reduce((a, b) => a + (b - mean) ** 2, 0) / iters);
  const sorted = [...t].sort((a, b) => a - b);
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return {
    mean_ms: r(mean),
    std_ms: r(std),
    median_ms: r(sorted[iters >> 1]),
    min_ms: r(sorted[0]),
  };
}

/** Starts tfjs's WASM backend with one thread; returns why it did not start, or undefined. */
async function startWasm(): Promise<string | undefined> {
  try {
    setThreadsCount(1);
    if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') returned false");
    await tf.ready();
  } catch (e) {
    return `tfjs wasm did not start: ${e}`;
  }
}

/**
 * One forward step of the small net on tfjs's WASM backend (one thread), output read back, for
 * a report that interleaves it with prism's step iteration by iteration (so a change in the
 * machine's load hits both sides alike).
 *
 * @param tile Image side.
 * @param batch Batch size.
 * @returns The step, a dispose function and tfjs's version, or why tfjs did not start.
 */
export async function tfjsForwardStep(
  tile: number,
  batch: number,
): Promise<{ step: () => void; dispose: () => void; version: string } | { skipped: string }> {
  const failed = await startWasm();
  if (failed) return { skipped: failed };
  const w = smallWeights();
  const x = tf.randomNormal([batch, tile, tile, 6], 0, 1, "float32", 7) as tf.Tensor4D;
  return {
    step: () => tf.tidy(() => void forward(x, w).dataSync()),
    dispose: () => tf.dispose([x, ...w]),
    version: tf.version_core,
  };
}

/**
 * Times the small net on tfjs's WASM backend (one thread): forward rows, then train-step rows.
 *
 * @param o What to time.
 * @returns `{ peer, tfjs, threads, rows, ... }` as printed, or `{ peer, skipped }` when tfjs's
 *   WASM backend does not start.
 */
export async function tfjsConvBaseline(o: TfjsConvOptions = {}): Promise<Record<string, unknown>> {
  const failed = await startWasm();
  if (failed) return { peer: "tfjs-wasm", skipped: failed };
  const rows: Record<string, unknown>[] = [];
  const w = smallWeights();
  for (const tile of o.tiles ?? [256, 384]) {
    for (const batch of o.batches ?? [1, 2, 4]) {
      const x = tf.randomNormal([batch, tile, tile, 6], 0, 1, "float32", 7) as tf.Tensor4D;
      rows.push(
        timeRow("forward", { tile, batch }, o, () => tf.tidy(() => forward(x, w).dataSync())),
      );
      x.dispose();
    }
  }
  const trains = (o.trainTiles ?? [256]).length * (o.trainBatches ?? [1]).length > 0;
  const native = trains ? nativeTrainStatus() : null;
  const gradientCheck = trains ? await checkAgainstFixture() : "not checked: no train rows";
  for (const tile of o.trainTiles ?? [256]) {
    for (const batch of o.trainBatches ?? [1]) {
      const x = tf.randomNormal([batch, tile, tile, 6], 0, 1, "float32", 7) as tf.Tensor4D;
      const target = tf.randomNormal([batch, tile, tile, 6], 0, 1, "float32", 8);
      const vars = w.map((t, i) => tf.variable(t, true, `small_${tile}_${batch}_${i}`));
      const opt = tf.train.adam(1e-3);
      const loss = smallLoss(target);
      const step = () =>
        tf.tidy(() => {
          const g = tf.grads(loss)([x, ...vars]);
          opt.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: g[i + 1] })));
          g[0].dataSync(); // the input gradient, so every lazy part has run
        });
      rows.push(timeRow("train", { tile, batch }, o, step));
      tf.dispose([x, target, ...vars]);
      opt.dispose();
    }
  }
  return {
    peer: "tfjs-wasm",
    tfjs: tf.version_core,
    threads: getThreadsCount(),
    quick: o.quick ?? false,
    loadAverage: Deno.loadavg(),
    conv2dBackpropFilterRegistered: native?.registered ?? null,
    nativeTrainError: native?.error ?? null,
    trainGradientErrorVsPyTorch: gradientCheck,
    trainVia: "tf.customGrad: weight gradient as 9 matMuls of shifted input views, input " +
      "gradient by conv2dTranspose (native Conv2DBackpropInput)",
    rows,
  };
}

if (import.meta.main) {
  console.log(JSON.stringify(await tfjsConvBaseline(parseArgs(Deno.args)), null, 1));
}
