/**
 * One table for issue 4's spectrum figures: prism's `spectrumOf` (singular values + metrics,
 * Gram route, WASM), numpy's `svd(compute_uv=False)`, numpy's `eigvalsh` of the float32 Gram
 * matrix (the fastest native route), and ml-matrix's SVD: medians and prism's ratios, all
 * measured in this run on this machine.
 *
 * `deno run -A bench/spectrum_report.ts [--quick]`. numpy runs through python3 on the same
 * matrices (written as .npy); without python3 and numpy its columns say so and are skipped.
 */

import { Matrix as MlMatrix, SVD } from "ml-matrix";
import { spectrumOf } from "../ops/spectrum.ts";
import { writeNpy } from "../io/npy.ts";
import { measure, ratio } from "../harness/timing.ts";
import { benchMatrix } from "./_spectrum_shapes.ts";

const quick = Deno.args.includes("--quick") || Deno.env.get("PRISM_BENCH_QUICK") === "1";
const shapes = quick
  ? [[128, 512], [512, 768]]
  : [[128, 512], [512, 768], [256, 3072], [4096, 1024]];
const repeats = quick ? 3 : 7;

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
  for (const [r, c] of shapes) {
    console.error(`timing ${r}x${c} ...`);
    const m = benchMatrix(r, c);
    const prism = await measure(() => spectrumOf(m, { backend: "wasm" }), {
      warmup: 1,
      iterations: repeats,
    });
    await writeNpy(`${dir}/a.npy`, { data: m.data, shape: [r, c] });
    const np = await numpyTimes(`${dir}/a.npy`);
    if (typeof np === "string") notes.add(np);
    const ml = new MlMatrix(r, c);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) ml.set(i, j, m.data[i * c + j]);
    // One run: ml-matrix's SVD of the larger shapes takes seconds to minutes.
    const mlMs = (await measure(() =>
      new SVD(ml, {
        computeLeftSingularVectors: false,
        computeRightSingularVectors: false,
        autoTranspose: true,
      }), { warmup: 0, iterations: 1 })).medianMs;
    const p = prism.medianMs;
    const svd = typeof np === "string" ? NaN : np.svd;
    const eig = typeof np === "string" ? NaN : np.eigvalsh;
    const f = (x: number) => (Number.isNaN(x) ? "n/a" : x.toFixed(1));
    // prism ÷ peer, the one direction of every report: below 1 = prism faster.
    const versus = (x: number) => (Number.isNaN(x) ? "n/a" : ratio(p, x)!.toFixed(2));
    rows.push([
      `${r}x${c}`,
      `${f(p)} (${f(prism.minMs)}-${f(prism.maxMs)})`,
      f(svd),
      f(eig),
      f(mlMs),
      versus(svd),
      versus(eig),
      versus(mlMs),
    ]);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
const header = [
  "shape",
  "prism ms (min-max)",
  "numpy svd",
  "numpy eigvalsh(G)",
  "ml-matrix",
  "prism/svd",
  "prism/eigvalsh",
  "prism/ml-matrix",
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
const line = (cells: string[]) => cells.map((x, i) => x.padStart(widths[i])).join("  ");
console.log(
  `median of ${repeats} runs (ml-matrix: one run); ratios are prism ÷ peer, below 1 means prism is faster`,
);
console.log(line(header));
for (const row of rows) console.log(line(row));
for (const note of notes) console.log(`note: numpy columns skipped: ${note}`);
