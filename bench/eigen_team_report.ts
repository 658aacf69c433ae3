/**
 * The values-only eigen step (`eigenvaluesInPlace`, `wasm/eigen.ts`) on one thread and on two
 * (this thread plus a pool worker assisting the tridiagonal reduction), by matrix order: medians
 * of the same rounds, the two runs of a round back to back in alternating order, and their
 * ratio; then the reduction alone (the call minus the tridiagonal QL, timed in the same rounds)
 * and whether the two runs gave the same bits. This is the measurement behind
 * `EIGEN_PARALLEL_FROM`.
 *
 * `deno run -A --frozen --config bench/deno.json bench/eigen_team_report.ts [--quick]`
 */

import { EIGEN_PARALLEL_FROM, eigenvaluesInPlace } from "../wasm/eigen.ts";
import { defaultVariant, loadKernels } from "../wasm/loader.ts";
import { defaultPool } from "../wasm/pool.ts";
import { randomF64 } from "../synth/uniform.ts";
import { summarise } from "../harness/timing.ts";
import { cpuModel, machineLines } from "./_machine.ts";

const quick = Deno.args.includes("--quick") || Deno.env.get("PRISM_BENCH_QUICK") === "1";
const SIZES = quick ? [128, 256] : [128, 256, 384, 512, 768, 1024];
/** Rounds run before the counted ones: JIT tier-up, the pool's worker, first allocations. */
const WARMUP_ROUNDS = 2;
const rounds = (n: number) => (quick ? 3 : n <= 512 ? 31 : 11);

const kernels = await loadKernels();
const ex = kernels.exports;
const median = (xs: number[]) => summarise(xs).medianMs;

/** A seeded dense symmetric matrix with entries in [-1, 1). */
function symmetric(n: number): Float64Array {
  const x = randomF64(n * n, n, { lo: -1, hi: 1 });
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) x[i * n + j] = x[j * n + i];
  return x;
}

interface Row {
  n: number;
  oneMs: number;
  twoMs: number;
  qlMs: number;
  identical: boolean;
}

/** One order: interleaved rounds of one thread, two threads and the QL phase alone. */
async function measureOrder(n: number): Promise<Row> {
  const g = symmetric(n);
  const a = kernels.alloc(n * n * 8);
  const [d, e, values] = [kernels.alloc(n * 8), kernels.alloc(n * 8), kernels.alloc(n * 8)];
  const scratch = kernels.alloc(ex.prism_eigvalsh_f64_scratch_len(n) * 8);
  const samples = { one: [] as number[], two: [] as number[], ql: [] as number[] };
  let identical = true;
  try {
    // The tridiagonal the reduction produces, for the QL phase alone.
    kernels.f64(a, n * n).set(g);
    kernels.check("prism_eigvalsh_f64", ex.prism_eigvalsh_f64(a, n, values, scratch));
    const [d0, e0] = [kernels.f64(scratch, n).slice(), kernels.f64(scratch + n * 8, n).slice()];
    const run = async (parallelFrom: number) => {
      kernels.f64(a, n * n).set(g);
      const t0 = performance.now();
      const got = await eigenvaluesInPlace(kernels, a, n, { parallelFrom });
      return { ms: performance.now() - t0, got };
    };
    for (let round = -WARMUP_ROUNDS; round < rounds(n); round++) {
      // Alternate which runs first, so neither always follows the other.
      const order = round % 2 === 0 ? [Infinity, 1] : [1, Infinity];
      const [first, second] = [await run(order[0]), await run(order[1])];
      const [one, two] = order[0] === Infinity ? [first, second] : [second, first];
      kernels.f64(d, n).set(d0);
      kernels.f64(e, n).set(e0);
      const t0 = performance.now();
      kernels.check("prism_tridiagonal_eigvals_f64", ex.prism_tridiagonal_eigvals_f64(d, e, n));
      const ql = performance.now() - t0;
      if (round < 0) continue;
      samples.one.push(one.ms);
      samples.two.push(two.ms);
      samples.ql.push(ql);
      identical &&= one.got.every((x, i) => Object.is(x, two.got[i]));
    }
  } finally {
    for (const p of [a, d, e, values, scratch]) kernels.free(p);
  }
  return {
    n,
    oneMs: median(samples.one),
    twoMs: median(samples.two),
    qlMs: median(samples.ql),
    identical,
  };
}

const loadStart = Deno.loadavg();
const rows: Row[] = [];
for (const n of SIZES) rows.push(await measureOrder(n));
const loadEnd = Deno.loadavg();
defaultPool().close();

const header = [
  "n",
  "1 thread ms",
  "2 threads ms",
  "2/1",
  "QL ms",
  "reduction 1 / 2 ms",
  "reduction 2/1",
  "same bits",
];
const table = rows.map((r) => {
  const [r1, r2] = [r.oneMs - r.qlMs, r.twoMs - r.qlMs];
  return [
    String(r.n),
    r.oneMs.toFixed(2),
    r.twoMs.toFixed(2),
    (r.twoMs / r.oneMs).toFixed(2),
    r.qlMs.toFixed(2),
    `${r1.toFixed(2)} / ${r2.toFixed(2)}`,
    (r2 / r1).toFixed(2),
    r.identical ? "yes" : "NO",
  ];
});
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells: string[]) => cells.map((x, i) => x.padStart(widths[i])).join("  ");
console.log(
  [
    `eigenvaluesInPlace, values only, one thread vs two (EIGEN_PARALLEL_FROM = ${EIGEN_PARALLEL_FROM}); ` +
    `medians of ${quick ? 3 : "31 (n ≤ 512) / 11"} interleaved rounds, ` +
    `${defaultVariant().variant} build (${defaultVariant().reason})`,
    ...machineLines(await cpuModel(), loadStart, loadEnd),
    "",
    line(header),
    ...table.map(line),
  ].join("\n"),
);
