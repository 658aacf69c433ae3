/**
 * One table for issue 4's spectrum figures: prism's `spectrumOf` (singular values + metrics,
 * Gram route, WASM) with both kernel builds (fused multiply-add and plain SIMD, each in its own
 * child process, `bench/_builds.ts`), numpy's `svd(compute_uv=False)`, numpy's `eigvalsh` of the float32 Gram
 * matrix (the fastest native route), and ml-matrix's SVD: medians and prism's ratios, all
 * measured in this run on this machine.
 *
 * `deno run -A --frozen --config bench/deno.json bench/spectrum_report.ts [--quick]`. numpy runs through python3 on the same
 * matrices (written as .npy); without python3 and numpy its columns say so and are skipped.
 * Each build's time is split into phases: Gram, tridiagonal reduction, tridiagonal QL, rest.
 * Both builds and numpy run in three rounds (one with `--quick`, `bench/_builds.ts`), and each
 * ratio is the median of the rounds' own ratios, printed beside it.
 */

import { Matrix as MlMatrix, SVD } from "ml-matrix";
import { spectrumOf } from "../ops/spectrum.ts";
import { gram } from "../ops/gram.ts";
import { writeNpy } from "../io/npy.ts";
import { benchMatrix } from "./_spectrum_shapes.ts";
import { measure, ratio, summarise, type Timing } from "../harness/timing.ts";
import { acrossRounds, BUILDS, childBuild, emit, measureRounds } from "./_builds.ts";
import { loadKernels, type WasmVariant } from "../wasm/loader.ts";
import { KernelArena } from "../wasm/arena.ts";
import { wasmGramInKernel } from "../wasm/gram.ts";
import { EIGEN_PARALLEL_FROM, eigenvaluesInPlace } from "../wasm/eigen.ts";
import { cpuModel, machineLines, simdPeak } from "./_machine.ts";

const quick = Deno.args.includes("--quick") || Deno.env.get("PRISM_BENCH_QUICK") === "1";
const shapes = quick
  ? [[128, 512], [512, 768]]
  : [[128, 512], [512, 768], [256, 3072], [4096, 1024]];
const repeats = quick ? 3 : 7;
/** Rounds of the comparison (`measureRounds`): both builds, then numpy, on every shape. */
const ROUNDS = quick ? 1 : 3;
/**
 * Warm-up before the counted rounds (JIT tier-up, the pool's workers, first allocations): at
 * least {@linkcode WARMUP_MIN_ROUNDS} rounds, then more until {@linkcode WARMUP_MS} have passed
 * or {@linkcode WARMUP_MAX_ROUNDS} rounds ran. V8 moves a WebAssembly function to its optimised
 * tier once it has run for a while, and a call never switches tier midway, so small shapes
 * need many calls: 128×512 measured 15 ms on the first call, about 2 ms for the next twenty,
 * then 0.7 ms. Steady state is what a caller that computes spectra repeatedly (the tracker)
 * gets; the first calls are slower, and this report does not time them.
 */
const WARMUP_MIN_ROUNDS = 2;
const WARMUP_MAX_ROUNDS = 40;
const WARMUP_MS = 1500;

/**
 * One build's figures for one shape: the whole call and, as medians (ms), its Gram phase, the
 * eigen step (`eigenvaluesInPlace` on the Gram, copy-in included, as the call runs it: two
 * threads from `EIGEN_PARALLEL_FROM`), that step's second phase alone
 * (`prism_tridiagonal_eigvals_f64` on the tridiagonal the reduction produces), and
 * the rest of the call: the median over rounds of `total − gram − eigen` within one round.
 */
type Figures = {
  total: Timing;
  gramMs: number;
  eigenMs: number;
  tridiagonalMs: number;
  restMs: number;
};

/** Median of plain numbers (through `summarise`, so it means what every other median does). */
const median = (xs: number[]) => summarise(xs).medianMs;

/**
 * Times the whole call and each phase once per round, round after round (never each phase's
 * runs back to back): a phase timed alone in a warm loop sees caches and a machine load that
 * the call does not, and the "rest" then collects that difference as if it were work.
 */
async function phases(r: number, c: number, rounds: number): Promise<Figures> {
  const m = benchMatrix(r, c);
  const side = r >= c ? "columns" : "rows";
  const { gram: g, n } = await gram(m, { side, backend: "wasm" });
  const kernels = await loadKernels();
  const ex = kernels.exports;
  const [a, values] = [kernels.alloc(n * n * 8), kernels.alloc(n * 8)];
  const scratch = kernels.alloc(ex.prism_eigvalsh_f64_scratch_len(n) * 8);
  const [d, e] = [kernels.alloc(n * 8), kernels.alloc(n * 8)];
  // The tridiagonal the reduction produces (the same every round): once, untimed, from the
  // kernel that leaves it in its scratch, for the QL phase alone.
  kernels.f64(a, n * n).set(g);
  kernels.check("prism_eigvalsh_f64", ex.prism_eigvalsh_f64(a, n, values, scratch));
  const [d0, e0] = [kernels.f64(scratch, n).slice(), kernels.f64(scratch + n * 8, n).slice()];
  const once = { warmup: 0, iterations: 1 };
  const steps = {
    total: () => spectrumOf(m, { backend: "wasm" }),
    gram: async () => {
      // As spectrumOf() forms it: in kernel memory, partial Grams added there.
      await using arena = new KernelArena(kernels);
      await wasmGramInKernel(arena, m, { side, operation: "spectrum report" });
    },
    // What the call runs: the host, which asks a pool worker to assist large reductions.
    eigen: () => {
      kernels.f64(a, n * n).set(g);
      return eigenvaluesInPlace(kernels, a, n);
    },
    tridiagonal: () => {
      kernels.f64(d, n).set(d0);
      kernels.f64(e, n).set(e0);
      kernels.check("prism_tridiagonal_eigvals_f64", ex.prism_tridiagonal_eigvals_f64(d, e, n));
    },
  };
  const samples: Record<keyof typeof steps, number[]> = {
    total: [],
    gram: [],
    eigen: [],
    tridiagonal: [],
  };
  try {
    const warmStart = performance.now();
    for (let round = 0; round < WARMUP_MAX_ROUNDS; round++) {
      if (round >= WARMUP_MIN_ROUNDS && performance.now() - warmStart > WARMUP_MS) break;
      for (const step of Object.values(steps)) await step();
    }
    for (let round = 0; round < rounds; round++) {
      for (const [name, step] of Object.entries(steps)) {
        samples[name as keyof typeof steps].push((await measure(step, once)).medianMs);
      }
    }
  } finally {
    for (const p of [a, values, scratch, d, e]) kernels.free(p);
  }
  return {
    total: summarise(samples.total),
    gramMs: median(samples.gram),
    eigenMs: median(samples.eigen),
    tridiagonalMs: median(samples.tridiagonal),
    restMs: median(samples.total.map((t, i) => t - samples.gram[i] - samples.eigen[i])),
  };
}

if (childBuild() !== undefined) {
  const figures: Figures[] = [];
  for (const [r, c] of shapes) figures.push(await phases(r, c, repeats));
  emit(figures);
  Deno.exit(0);
}

const loadStart = Deno.loadavg();
const peak = await simdPeak();

const NUMPY = `
import sys, time, json, numpy as np
a = np.load(sys.argv[1]); reps = int(sys.argv[2])
def t(f):
    f(); xs = []
    for _ in range(reps):
        t0 = time.perf_counter(); f(); xs.append((time.perf_counter() - t0) * 1000)
    return float(np.median(xs))
gram = lambda: np.linalg.eigvalsh((a.T @ a if a.shape[0] >= a.shape[1] else a @ a.T).astype(np.float64))
print(json.dumps({"svd": t(lambda: np.linalg.svd(a, compute_uv=False)), "eigvalsh": t(gram)}))
`;

type NumpyTimes = { svd: number; eigvalsh: number };

async function numpyTimes(path: string): Promise<NumpyTimes | string> {
  try {
    const out = await new Deno.Command("python3", { args: ["-c", NUMPY, path, String(repeats)] })
      .output();
    if (!out.success) return `python3 failed: ${new TextDecoder().decode(out.stderr).trim()}`;
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } catch (e) {
    return `python3 unavailable (${(e as Error).message})`;
  }
}

const dir = await Deno.makeTempDir({ prefix: "prism_spectrum_report_" });
const rows: string[][] = [];
const notes = new Set<string>();
try {
  const paths = shapes.map((_, i) => `${dir}/a${i}.npy`);
  for (const [i, [r, c]] of shapes.entries()) {
    await writeNpy(paths[i], { data: benchMatrix(r, c).data, shape: [r, c] });
  }
  const rounds = await measureRounds<Figures[], (NumpyTimes | undefined)[]>(
    import.meta.url,
    Deno.args,
    ROUNDS,
    async () => {
      const numpy: (NumpyTimes | undefined)[] = [];
      for (const [i, [r, c]] of shapes.entries()) {
        console.error(`timing numpy on ${r}x${c} ...`);
        const np = await numpyTimes(paths[i]);
        if (typeof np === "string") notes.add(np);
        numpy.push(typeof np === "string" ? undefined : np);
      }
      return numpy;
    },
  );
  for (const [i, [r, c]] of shapes.entries()) {
    console.error(`timing ml-matrix on ${r}x${c} ...`);
    const m = benchMatrix(r, c);
    const ml = new MlMatrix(r, c);
    for (let y = 0; y < r; y++) for (let j = 0; j < c; j++) ml.set(y, j, m.data[y * c + j]);
    const t0 = performance.now();
    new SVD(ml, {
      computeLeftSingularVectors: false,
      computeRightSingularVectors: false,
      autoTranspose: true,
    });
    const mlMs = performance.now() - t0;
    // Each figure is the median over rounds of that round's median; a ratio is the median of
    // the rounds' ratios, so prism and numpy are only ever compared within one round.
    const prismMs = (b: WasmVariant) => acrossRounds(rounds, (x) => x.prism[b][i].total.medianMs)!;
    const [fma, simd] = BUILDS.map(prismMs);
    const eig = acrossRounds(rounds, (x) => x.peers[i]?.eigvalsh)?.medianMs;
    const svd = acrossRounds(rounds, (x) => x.peers[i]?.svd)?.medianMs;
    const perRound = (b: WasmVariant, peer: keyof NumpyTimes) =>
      acrossRounds(rounds, (x) => ratio(x.prism[b][i].total.medianMs, x.peers[i]?.[peer]));
    const fmaVsEig = perRound("relaxed-simd", "eigvalsh");
    const phase = (b: WasmVariant, key: Exclude<keyof Figures, "total">) =>
      acrossRounds(rounds, (x) => x.prism[b][i][key])!.medianMs;
    // gram + reduction + tridiagonal QL + the rest of the call (copies, square roots, metrics).
    const split = BUILDS.map((b) => {
      const reduce = phase(b, "eigenMs") - phase(b, "tridiagonalMs");
      const parts = [phase(b, "gramMs"), reduce, phase(b, "tridiagonalMs"), phase(b, "restMs")];
      // A negative rest (noise between separately timed medians) reads "…−x", not "…+-x".
      return { reduce, text: parts.map((x) => x.toFixed(1)).join("+").replaceAll("+-", "−") };
    });
    const f = (x: number | undefined) => (x === undefined ? "n/a" : x.toFixed(1));
    const q = (x: number | undefined) => (x === undefined ? "n/a" : x.toFixed(2));
    const each = (t: Timing | undefined) =>
      t === undefined ? "n/a" : t.samples.map((x) => x.toFixed(2)).join(" ");
    // The Gram matrix's upper triangle (long·k·(k+1)) and a Householder tridiagonalisation of it
    // (4k³/3): the arithmetic of the Gram route, k the short side.
    const [k, long] = [Math.min(r, c), Math.max(r, c)];
    const gflops = (ms: number) => ((long * k * (k + 1) + 4 * k ** 3 / 3) / ms / 1e6).toFixed(1);
    rows.push([
      `${r}x${c}`,
      `${f(fma.medianMs)} (${f(fma.minMs)}-${f(fma.maxMs)})`,
      `${f(simd.medianMs)} (${f(simd.minMs)}-${f(simd.maxMs)})`,
      f(svd),
      f(eig),
      f(mlMs),
      q(fmaVsEig?.medianMs),
      each(fmaVsEig),
      q(perRound("simd", "eigvalsh")?.medianMs),
      q(perRound("relaxed-simd", "svd")?.medianMs),
      q(ratio(fma.medianMs, mlMs)),
      `${gflops(fma.medianMs)} / ${gflops(simd.medianMs)}`,
      split.map((p) => p.text).join(" / "),
      split.map((p) => (4 * k ** 3 / 3 / p.reduce / 1e6).toFixed(1)).join(" / "),
    ]);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
const header = [
  "shape",
  "FMA ms (rounds min-max)",
  "SIMD ms (rounds min-max)",
  "numpy svd",
  "numpy eigvalsh(G)",
  "ml-matrix",
  "FMA/eigvalsh",
  "FMA/eigvalsh each round",
  "SIMD/eigvalsh",
  "FMA/svd",
  "FMA/ml-matrix",
  "GFLOP/s FMA / SIMD",
  "gram+reduce+QL+rest ms FMA / SIMD",
  "reduce GFLOP/s FMA / SIMD",
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
const line = (cells: string[]) => cells.map((x, i) => x.padStart(widths[i])).join("  ");
console.log(
  `${ROUNDS} round(s), each the median of ${repeats} runs of both builds and then numpy; ` +
    `times are medians over rounds, ratios the median of the rounds' ratios (ml-matrix: one ` +
    `run); FMA = wasm/prism_fma.wasm, SIMD = wasm/prism.wasm; ratios prism ÷ peer (below 1 = ` +
    `prism faster)`,
);
console.log(line(header));
for (const row of rows) console.log(line(row));
console.log(
  `GFLOP/s count the Gram route's arithmetic, long·k·(k+1) + 4k³/3 (k the short side); WASM ` +
    `SIMD peak ${peak.gflops.toFixed(1)} GFLOP/s (${peak.source})`,
);
console.log(
  "phases, each timed once per round, rounds interleaved (medians, so they need not add up to " +
    "the total): the Gram alone (wasmGramInKernel, same side, left in kernel memory as singularValues() forms it); the float64 Householder reduction to tridiagonal form (eigenvaluesInPlace less its " +
    "second phase); the tridiagonal eigenvalues by root-free QL (prism_tridiagonal_eigvals_f64); " +
    "the rest of the call (checks, copies, square roots, metrics), the median of each round's " +
    "total less its Gram and eigen step",
);
console.log(
  `reduce GFLOP/s: (4/3)k³ over the reduction's time, in float64 on one core below k = ` +
    `${EIGEN_PARALLEL_FROM} and two from it (f64x2, fused ` +
    `multiply-adds in the FMA build, mul then add in the SIMD one); its FMA peak is half the f32x4 FMA one per core: ` +
    `${(peak.gflops / 2 / navigator.hardwareConcurrency).toFixed(1)} GFLOP/s on one core, ` +
    `${(peak.gflops / 2).toFixed(1)} on all`,
);
for (const line of machineLines(await cpuModel(), loadStart, Deno.loadavg())) console.log(line);
for (const note of notes) console.log(`note: numpy columns skipped: ${note}`);
