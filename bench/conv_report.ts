/**
 * The `small` net's forward (nn/specs/small.json) on prism's WASM backend against PyTorch (CPU,
 * 1 and 2 threads) and TensorFlow.js WASM (one thread), measured in one run, one table:
 *
 * ```sh
 * deno run -A --frozen bench/conv_report.ts [--warmup n] [--iters n] [--json out.json]
 * PRISM_BENCH_QUICK=1 deno run -A --frozen bench/conv_report.ts   # small tiles, 1 + 3 iterations
 * ```
 *
 * Tiles 256² and 384², batch 1 and 4. Per configuration prism runs first, then each peer, so a
 * change in the machine's load hits neighbours, not one column. prism calls the public
 * `conv2d()` three times on device tensors and reads the output every iteration; warm-up 10 and
 * 50 timed iterations (EXPERIMENTS.md §2; quick mode 1 + 3); `--warmup`/`--iters` lower them on a
 * loaded machine and go to the peers too. Ratios are prism's median ÷ the peer's median (below
 * 1: prism faster); PyTorch's ratio uses the faster of its two thread counts, named in the cell.
 * A WebGPU column appears when `GPU_BENCH` says so. A missing peer's column says why.
 *
 * @module
 */

import { toDevice } from "../tensor/device_tensor.ts";
import { randomF32 } from "../synth/uniform.ts";
import { GPU_BENCH, QUICK, size } from "./_config.ts";
import { smallNetForward, smallNetLayers } from "./_conv_small_net.ts";
import { tfjsConvBaseline } from "./baselines/tfjs_conv.ts";
import { cpuModel, machineLines } from "./_machine.ts";
import { runTorch } from "./_torch_run.ts";

const args = Deno.args;
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? undefined : args[i + 1];
};
const WARMUP = Number(flag("warmup") ?? (QUICK ? 1 : 10));
const ITERS = Number(flag("iters") ?? (QUICK ? 3 : 50));
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
  prism: { median: number; q1: number; q3: number; min: number; max: number };
  webgpu?: number;
  torch: Record<number, Figure>;
  tfjs: Figure;
}

/** Times `step` after warm-up, each iteration alone; quartiles and extremes in ms. */
async function timeIt(step: () => Promise<void>) {
  for (let i = 0; i < WARMUP; i++) await step();
  const t: number[] = [];
  for (let i = 0; i < ITERS; i++) {
    const t0 = performance.now();
    await step();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  const q = (p: number) =>
    Math.round(t[Math.min(t.length - 1, Math.floor(p * t.length))] * 1e3) / 1e3;
  return { median: q(0.5), q1: q(0.25), q3: q(0.75), min: q(0), max: q(1) };
}

/** prism's forward on one backend: input on the device once, output read every iteration. */
async function prismForward(tile: number, batch: number, backend: "wasm" | "webgpu") {
  const layers = smallNetLayers();
  using x = await toDevice(randomF32(batch * tile * tile * 6, 7), {
    shape: [batch, tile, tile, 6],
    backend,
  });
  return await timeIt(async () => {
    using y = await smallNetForward(x, layers, backend);
    await y.read();
  });
}

/** PyTorch through its baseline script, one configuration, one thread count. */
async function torchForward(tile: number, batch: number, threads: number): Promise<Figure> {
  const r = await runTorch({
    net: "small",
    mode: "inference",
    tile,
    batch,
    threads,
    warmup: WARMUP,
    iters: ITERS,
  });
  if ("skipped" in r) return r;
  versions.add(r.version);
  return { median: r.median };
}

/** TensorFlow.js WASM (one thread) in this process, forward only. */
async function tfjsForward(tile: number, batch: number): Promise<Figure> {
  const doc = await tfjsConvBaseline({
    tiles: [tile],
    batches: [batch],
    trainTiles: [],
    warmup: WARMUP,
    iterations: ITERS,
  });
  if (doc.skipped) return { skipped: String(doc.skipped) };
  const row = (doc.rows as Record<string, number>[])[0];
  versions.add(`TF.js ${doc.tfjs} WASM`);
  return { median: row.median_ms };
}

const cpu = await cpuModel();
const loadStart = Deno.loadavg();
console.error(`CPU ${cpu}, ${navigator.hardwareConcurrency} logical CPUs; load ${loadStart}`);
const rows: Row[] = [];
for (const tile of TILES) {
  for (const batch of BATCHES) {
    const prism = await prismForward(tile, batch, "wasm");
    const webgpu = GPU_BENCH ? (await prismForward(tile, batch, "webgpu")).median : undefined;
    const torch: Record<number, Figure> = {};
    for (const t of TORCH_THREADS) torch[t] = await torchForward(tile, batch, t);
    const row = { tile, batch, prism, webgpu, torch, tfjs: await tfjsForward(tile, batch) };
    rows.push(row);
    console.error(JSON.stringify(row));
  }
}
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

const head = ["tile", "batch", "prism WASM ms: median [q1–q3]"];
if (GPU_BENCH) head.push("prism WebGPU ms");
head.push(...TORCH_THREADS.map((t) => `PyTorch ${t}T ms`), "TF.js WASM 1T ms");
head.push("prism ÷ PyTorch (best)", "prism ÷ TF.js");
const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
for (const r of rows) {
  const p = r.prism;
  const best = bestTorch(r);
  const cells = [`${r.tile}²`, `${r.batch}`, `${ms(p.median)} [${ms(p.q1)}–${ms(p.q3)}]`];
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
  `\nsmall net forward (6→32→32→6, 3×3, same, bias, ReLU between), warm-up ${WARMUP} + ${ITERS} timed` +
    `${QUICK ? " (quick mode: shrunk tiles)" : ""}`,
);
console.log(machineLines(cpu, loadStart, loadEnd).join("\n"));
console.log(lines.join("\n"));
console.log(
  "ratios: prism median ÷ peer median, below 1 = prism faster; PyTorch's ratio uses the faster " +
    "of its thread counts (named); TF.js runs one thread",
);
const notes = new Set<string>();
for (const r of rows) {
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
  };
  await Deno.writeTextFile(jsonPath, JSON.stringify(doc, null, 1) + "\n");
  console.log(`wrote ${jsonPath}`);
}
