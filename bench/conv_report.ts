/**
 * The `small` net (nn/specs/small.json) on prism's WASM backend against PyTorch (CPU, 1 and 2
 * threads) and TensorFlow.js WASM (one thread), measured in one run, one table: the forward at
 * 256² and 384², batch 1 and 4, and the training step at 256², batch 1.
 *
 * ```sh
 * deno run -A --frozen bench/conv_report.ts [--warmup n] [--iters n] [--train-iters n] [--json out.json]
 * PRISM_BENCH_QUICK=1 deno run -A --frozen bench/conv_report.ts   # small tiles, 1 + 3 iterations
 * ```
 *
 * Forward: prism calls the public `conv2d()` three times on device tensors with weights
 * prepared once (`prepareConv2dWeights`, as a network holds them) and reads the output every
 * iteration; TF.js runs `tf.fused.conv2d` ×3 and reads its output. The two run in this process
 * **interleaved iteration by iteration**, so a change in the machine's load hits both columns
 * alike: timed one after the other on a shared machine, TF.js's column came out 3 to 4 times its
 * quiet-machine time while prism's did not (see `bench/baselines/README.md`). PyTorch runs in
 * its own process (`baselines/torch_conv.py`) right after. Warm-up 10 and 50 timed iterations
 * (EXPERIMENTS.md §2; quick mode 1 + 3); `--warmup`/`--iters` lower them on a loaded machine.
 *
 * Train step: prism's `conv2d` + `conv2dBackward` chain (`smallNetTrainStep`: forward keeping
 * the activations, MSE gradient, ReLU derivatives, the weight, bias and input gradients of every
 * layer; no optimiser step) against PyTorch's forward + MSE + backward + Adam and TF.js's
 * `tf.grads` fallback (`tfjsConvBaseline`'s train row; its WASM backend cannot train a
 * convolution natively). `--train-iters` (default 20, TF.js at most 5: a step takes a second).
 *
 * Ratios are prism's median ÷ the peer's median (below 1: prism faster); PyTorch's ratio uses
 * the faster of its two thread counts, named in the cell. A WebGPU column appears when
 * `GPU_BENCH` says so. A missing peer's column says why.
 *
 * @module
 */

import { toDevice } from "../tensor/device_tensor.ts";
import { randomF32 } from "../synth/uniform.ts";
import { GPU_BENCH, QUICK, size } from "./_config.ts";
import {
  prepareSmallNet,
  smallNetForward,
  smallNetLayers,
  smallNetTrainStep,
} from "./_conv_small_net.ts";
import { tfjsConvBaseline, tfjsForwardStep } from "./baselines/tfjs_conv.ts";
import { cpuModel, machineLines } from "./_machine.ts";
import { runTorch } from "./_torch_run.ts";
import { summarise } from "../harness/timing.ts";

const args = Deno.args;
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? undefined : args[i + 1];
};
const WARMUP = Number(flag("warmup") ?? (QUICK ? 1 : 10));
const ITERS = Number(flag("iters") ?? (QUICK ? 3 : 50));
const TRAIN_ITERS = Number(flag("train-iters") ?? (QUICK ? 3 : 20));
const TRAIN_TILE = size(256, 32);
const TILES = [size(256, 32), size(384, 48)];
const BATCHES = [1, 4];
const TORCH_THREADS = [1, 2];

/** Peer figure: a median in ms, or why there is none. */
type Figure = { median: number } | { skipped: string };
/** The peers' versions as they report them (`PyTorch 2.13.0+cpu`, ...), printed under the table. */
const versions = new Set<string>();
interface Row {
  tile: number;
  batch: number;
  prism: Stats;
  /** The training-step row. */
  train?: true;
  webgpu?: number;
  torch: Record<number, Figure>;
  tfjs: Figure;
}

/** Median, interquartile spread and extremes in ms (`harness/timing.ts`'s summary). */
type Stats = { median: number; spread: number; min: number; max: number };

function stats(t: number[]): Stats {
  const s = summarise(t);
  const round = (v: number) => Math.round(v * 1e3) / 1e3;
  return {
    median: round(s.medianMs),
    spread: round(s.spreadMs),
    min: round(s.minMs),
    max: round(s.maxMs),
  };
}

/**
 * Times `steps` after warm-up, interleaved: iteration i runs each step once, in turn, each
 * timed alone. Returns one summary per step.
 */
async function timeInterleaved(
  steps: (() => Promise<void> | void)[],
  warmup = WARMUP,
  iters = ITERS,
): Promise<Stats[]> {
  for (let i = 0; i < warmup; i++) for (const s of steps) await s();
  const t: number[][] = steps.map(() => []);
  for (let i = 0; i < iters; i++) {
    for (const [k, s] of steps.entries()) {
      const t0 = performance.now();
      await s();
      t[k].push(performance.now() - t0);
    }
  }
  return t.map(stats);
}

/**
 * prism's forward on one backend (prepared weights; input on the device once, output read
 * every iteration), interleaved with TF.js's when `tfjs` is given.
 */
async function prismForward(
  tile: number,
  batch: number,
  backend: "wasm" | "webgpu",
  tfjs?: () => void,
): Promise<Stats[]> {
  const layers = await prepareSmallNet(smallNetLayers(), backend);
  try {
    using x = await toDevice(randomF32(batch * tile * tile * 6, 7), {
      shape: [batch, tile, tile, 6],
      backend,
    });
    const prism = async () => {
      using y = await smallNetForward(x, layers, backend);
      await y.read();
    };
    return await timeInterleaved(tfjs ? [prism, tfjs] : [prism]);
  } finally {
    for (const l of layers) l.prepared.dispose();
  }
}

/** PyTorch through its baseline script, one configuration, one thread count. */
async function torchRun(
  tile: number,
  batch: number,
  threads: number,
  mode: "inference" | "train" = "inference",
): Promise<Figure> {
  const iters = mode === "train" ? TRAIN_ITERS : ITERS;
  const warmup = Math.min(WARMUP, mode === "train" ? 5 : WARMUP);
  const r = await runTorch({ net: "small", mode, tile, batch, threads, warmup, iters });
  if ("skipped" in r) return r;
  versions.add(r.version);
  return { median: r.median };
}

/** TF.js's train step (its `tf.grads` fallback) at one size, few iterations. */
async function tfjsTrain(tile: number): Promise<Figure> {
  const doc = await tfjsConvBaseline({
    tiles: [],
    trainTiles: [tile],
    trainBatches: [1],
    warmup: Math.min(WARMUP, 2),
    iterations: Math.min(TRAIN_ITERS, 5),
  });
  if (doc.skipped) return { skipped: String(doc.skipped) };
  const row = (doc.rows as Record<string, number>[])[0];
  return { median: row.median_ms };
}

/** prism's training step at `tile`, batch 1 (see `smallNetTrainStep`). */
async function prismTrain(tile: number): Promise<Stats> {
  const layers = await prepareSmallNet(smallNetLayers(), "wasm");
  try {
    using x = await toDevice(randomF32(tile * tile * 6, 7), {
      shape: [1, tile, tile, 6],
      backend: "wasm",
    });
    const target = randomF32(tile * tile * 6, 8);
    const [s] = await timeInterleaved(
      [async () => void await smallNetTrainStep(x, target, layers)],
      Math.min(WARMUP, 5),
      TRAIN_ITERS,
    );
    return s;
  } finally {
    for (const l of layers) l.prepared.dispose();
  }
}

const cpu = await cpuModel();
const loadStart = Deno.loadavg();
console.error(`CPU ${cpu}, ${navigator.hardwareConcurrency} logical CPUs; load ${loadStart}`);
const rows: Row[] = [];
for (const tile of TILES) {
  for (const batch of BATCHES) {
    const tf = await tfjsForwardStep(tile, batch);
    let prism: Stats;
    let tfjs: Figure;
    if ("skipped" in tf) {
      [prism] = await prismForward(tile, batch, "wasm");
      tfjs = tf;
    } else {
      const [p, t] = await prismForward(tile, batch, "wasm", tf.step);
      tf.dispose();
      versions.add(`TF.js ${tf.version} WASM`);
      [prism, tfjs] = [p, { median: t.median }];
    }
    const webgpu = GPU_BENCH ? (await prismForward(tile, batch, "webgpu"))[0].median : undefined;
    const torch: Record<number, Figure> = {};
    for (const t of TORCH_THREADS) torch[t] = await torchRun(tile, batch, t);
    const row = { tile, batch, prism, webgpu, torch, tfjs };
    rows.push(row);
    console.error(JSON.stringify(row));
  }
}
const trainPrism = await prismTrain(TRAIN_TILE);
const trainTorch: Record<number, Figure> = {};
for (const t of TORCH_THREADS) trainTorch[t] = await torchRun(TRAIN_TILE, 1, t, "train");
const train: Row = {
  tile: TRAIN_TILE,
  batch: 1,
  prism: trainPrism,
  torch: trainTorch,
  tfjs: await tfjsTrain(TRAIN_TILE),
};
console.error(JSON.stringify({ train }));
const loadEnd = Deno.loadavg();

const ms = (v: number) => v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0);
const fig = (f: Figure) => "median" in f ? ms(f.median) : "-";
const ratio = (p: number, f: Figure) => "median" in f ? (p / f.median).toFixed(2) : "-";
/** The faster of PyTorch's thread counts, with its count. */
function bestTorch(r: Row): { figure: Figure; threads?: number } {
  const ok = TORCH_THREADS.filter((t) => "median" in r.torch[t]);
  if (ok.length === 0) return { figure: r.torch[TORCH_THREADS[0]] };
  const t = ok.reduce((a, b) =>
    (r.torch[a] as { median: number }).median <= (r.torch[b] as { median: number }).median ? a : b
  );
  return { figure: r.torch[t], threads: t };
}

const head = ["pass", "tile", "batch", "prism WASM ms: median ± IQR/2"];
if (GPU_BENCH) head.push("prism WebGPU ms");
head.push(...TORCH_THREADS.map((t) => `PyTorch ${t}T ms`), "TF.js WASM 1T ms");
head.push("prism ÷ PyTorch (best)", "prism ÷ TF.js");
const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
for (const r of [...rows, { ...train, train: true as const }]) {
  const p = r.prism;
  const best = bestTorch(r);
  const pass = r.train ? "train step" : "forward";
  const cells = [pass, `${r.tile}²`, `${r.batch}`, `${ms(p.median)} ± ${ms(p.spread / 2)}`];
  if (GPU_BENCH) cells.push(r.webgpu === undefined ? "-" : ms(r.webgpu));
  cells.push(...TORCH_THREADS.map((t) => fig(r.torch[t])), fig(r.tfjs));
  cells.push(
    best.threads ? `${ratio(p.median, best.figure)} (${best.threads}T)` : "-",
    ratio(p.median, r.tfjs),
  );
  lines.push(`| ${cells.join(" | ")} |`);
}

const cores = navigator.hardwareConcurrency;
console.log(
  `\nsmall net (6→32→32→6, 3×3, same, bias, ReLU between): forward warm-up ${WARMUP} + ` +
    `${ITERS} timed, prism and TF.js interleaved; train step ${TRAIN_ITERS} timed (TF.js ` +
    `${Math.min(TRAIN_ITERS, 5)})${QUICK ? " (quick mode: shrunk tiles)" : ""}`,
);
console.log(machineLines(cpu, loadStart, loadEnd).join("\n"));
console.log(lines.join("\n"));
console.log(
  "ratios: prism median ÷ peer median, below 1 = prism faster; PyTorch's ratio uses the faster " +
    "of its thread counts (named); TF.js runs one thread. Train step: prism's conv2d + " +
    "conv2dBackward chain without an optimiser step; PyTorch's includes Adam; TF.js's is its " +
    "tf.grads fallback (no native Conv2DBackpropFilter on its WASM backend)",
);
const notes = new Set<string>();
for (const r of [...rows, train]) {
  for (const f of [...Object.values(r.torch), r.tfjs]) if ("skipped" in f) notes.add(f.skipped);
}
for (const n of notes) console.log(`skipped: ${n}`);
if (versions.size) console.log(`peers: ${[...versions].join(", ")}`);

const jsonPath = flag("json");
if (jsonPath) {
  const doc = {
    cpu,
    cores,
    loadStart,
    loadEnd,
    quick: QUICK,
    warmup: WARMUP,
    iters: ITERS,
    peers: [...versions],
    rows,
    train,
  };
  await Deno.writeTextFile(jsonPath, JSON.stringify(doc, null, 1) + "\n");
  console.log(`wrote ${jsonPath}`);
}
