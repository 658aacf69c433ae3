/**
 * One table for issue 4's spectrum figures: prism's `spectrumOf` (singular values + metrics,
 * Gram route, WASM) with both kernel builds (fused multiply-add and plain SIMD, each in its own
 * child process, `bench/_builds.ts`), numpy's `svd(compute_uv=False)`, numpy's `eigvalsh` of the float32 Gram
 * matrix (the fastest native route), and ml-matrix's SVD: medians and prism's ratios, all
 * measured in this run on this machine.
 *
 * `deno run -A --frozen --config bench/deno.json bench/spectrum_report.ts [--quick]`. numpy runs through python3 on the same
 * matrices (written as .npy); without python3 and numpy its columns say so and are skipped.
 */

import { Matrix as MlMatrix, SVD } from "ml-matrix";
import { spectrumOf } from "../ops/spectrum.ts";
import { gram } from "../ops/gram.ts";
import { writeNpy } from "../io/npy.ts";
import { benchMatrix } from "./_spectrum_shapes.ts";
import { measure, ratio, type Timing } from "../harness/timing.ts";
import { BUILDS, childBuild, emit, measureBuilds } from "./_builds.ts";
import { cpuModel, machineLines, simdPeak } from "./_machine.ts";

const quick = Deno.args.includes("--quick") || Deno.env.get("PRISM_BENCH_QUICK") === "1";
const shapes = quick
  ? [[128, 512], [512, 768]]
  : [[128, 512], [512, 768], [256, 3072], [4096, 1024]];
const repeats = quick ? 3 : 7;

/** One build's figures for one shape: the whole call, and its Gram phase (median ms). */
type Figures = { total: Timing; gramMs: number };

if (childBuild() !== undefined) {
  const figures: Figures[] = [];
  for (const [r, c] of shapes) {
    const m = benchMatrix(r, c);
    const opts = { warmup: 1, iterations: repeats };
    const total = await measure(() => spectrumOf(m, { backend: "wasm" }), opts);
    // The first phase alone, on the side spectrumOf picks; the eigen step is the rest.
    const side = r >= c ? "columns" : "rows";
    const g = await measure(() => gram(m, { side, backend: "wasm" }), opts);
    figures.push({ total, gramMs: g.medianMs });
  }
  emit(figures);
  Deno.exit(0);
}

const loadStart = Deno.loadavg();
const prismBuilds = await measureBuilds<Figures[]>(import.meta.url, Deno.args);
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

async function numpyTimes(path: string): Promise<{ svd: number; eigvalsh: number } | string> {
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
  for (const [i, [r, c]] of shapes.entries()) {
    console.error(`timing the peers on ${r}x${c} ...`);
    const m = benchMatrix(r, c);
    await writeNpy(`${dir}/a.npy`, { data: m.data, shape: [r, c] });
    const np = await numpyTimes(`${dir}/a.npy`);
    if (typeof np === "string") notes.add(np);
    const ml = new MlMatrix(r, c);
    for (let y = 0; y < r; y++) for (let j = 0; j < c; j++) ml.set(y, j, m.data[y * c + j]);
    const t0 = performance.now();
    new SVD(ml, {
      computeLeftSingularVectors: false,
      computeRightSingularVectors: false,
      autoTranspose: true,
    });
    const mlMs = performance.now() - t0;
    const [fma, simd] = BUILDS.map((b) => prismBuilds[b][i].total);
    const phases = BUILDS.map((b) => prismBuilds[b][i]).map((p) =>
      `${p.gramMs.toFixed(1)}+${(p.total.medianMs - p.gramMs).toFixed(1)}`
    );
    const svd = typeof np === "string" ? undefined : np.svd;
    const eig = typeof np === "string" ? undefined : np.eigvalsh;
    const f = (x: number | undefined) => (x === undefined ? "n/a" : x.toFixed(1));
    const q = (x: number | undefined) => (x === undefined ? "n/a" : x.toFixed(2));
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
      q(ratio(fma.medianMs, eig)),
      q(ratio(simd.medianMs, eig)),
      q(ratio(fma.medianMs, svd)),
      q(ratio(fma.medianMs, mlMs)),
      `${gflops(fma.medianMs)} / ${gflops(simd.medianMs)}`,
      phases.join(" / "),
    ]);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
const header = [
  "shape",
  "FMA ms (min-max)",
  "SIMD ms (min-max)",
  "numpy svd",
  "numpy eigvalsh(G)",
  "ml-matrix",
  "FMA/eigvalsh",
  "SIMD/eigvalsh",
  "FMA/svd",
  "FMA/ml-matrix",
  "GFLOP/s FMA / SIMD",
  "Gram+eigen ms FMA / SIMD",
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
const line = (cells: string[]) => cells.map((x, i) => x.padStart(widths[i])).join("  ");
console.log(
  `median of ${repeats} runs (ml-matrix: one run); FMA = wasm/prism_fma.wasm, SIMD = ` +
    `wasm/prism.wasm; ratios prism ÷ peer (below 1 = prism faster)`,
);
console.log(line(header));
for (const row of rows) console.log(line(row));
console.log(
  `GFLOP/s count the Gram route's arithmetic, long·k·(k+1) + 4k³/3 (k the short side); WASM ` +
    `SIMD peak ${peak.gflops.toFixed(1)} GFLOP/s (16 flops/cycle/core at ${
      peak.ghz.toFixed(3)
    } GHz)`,
);
console.log(
  "Gram+eigen: the median of the Gram alone (ops/gram.ts, same side), and the rest of the call " +
    "(the float64 eigensolver, square roots and metrics)",
);
for (const line of machineLines(await cpuModel(), loadStart, Deno.loadavg())) console.log(line);
for (const note of notes) console.log(`note: numpy columns skipped: ${note}`);
