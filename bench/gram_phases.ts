/**
 * Where the time of a split Gram goes: times the SYRK kernel (or `AAᵀ` for `--rows`) on one
 * thread, the same work as raw pool jobs (one worker; two workers with half each), the WASM host
 * (`wasmSyrk` / `wasmGramRows`) and, for SYRK, `covariance()`, on one matrix in kernel memory,
 * in turns, so every figure comes from the same run.
 *
 *     deno run -A --frozen --config bench/deno.json bench/gram_phases.ts [rows cols] [--rows]
 *
 * Each line gives the wall median (ms) and, on Linux, the CPU time per call of every thread of
 * the process together (ms, from `/proc/self/task/<tid>/schedstat`) and of this thread alone.
 * Reading it: raw 2-worker wall against half the one-thread kernel is the parallel overhead; if
 * the CPU of the 2-worker line is near the one-thread kernel's, the workers compute as fast as
 * one thread and the rest of the wall time is waiting (wake-up, scheduling, one worker late);
 * if it is well above, each core runs the kernel slower while both do. Host minus raw 2-worker
 * is the host's own work (allocation, zeroing, float64 merge), visible in this thread's CPU.
 */

import { loadKernels } from "../wasm/loader.ts";
import { defaultPool, type WorkerPool } from "../wasm/pool.ts";
import { wasmGramRows, wasmSyrk } from "../wasm/gram.ts";
import { allocMatrix } from "../wasm/kernel_matrix.ts";
import { covariance } from "../ops/covariance.ts";
import { fillUniform } from "../synth/uniform.ts";
import { measure } from "../harness/timing.ts";
import { GRAM_BLOCK } from "../wasm/kernel_exports.generated.ts";

const args = Deno.args.filter((a) => !a.startsWith("--"));
const wide = Deno.args.includes("--rows");
const rows = Number(args[0] ?? (wide ? 512 : 20_480));
const cols = Number(args[1] ?? (wide ? 768 : 200));
const kernels = await loadKernels();
using km = await allocMatrix(rows, cols);
fillUniform(km.data, 12345, { lo: 100, hi: 101 });

/** Nanoseconds on a CPU of a thread, or undefined off Linux. */
function runNs(path: string): number | undefined {
  try {
    return Number(Deno.readTextFileSync(path).split(" ")[0]);
  } catch {
    return undefined;
  }
}

/** CPU ms of every thread of this process together and of this thread, or undefined. */
function cpuMs(): { all: number; self: number } | undefined {
  const self = runNs("/proc/thread-self/schedstat");
  if (self === undefined) return undefined;
  let all = 0;
  for (const entry of Deno.readDirSync("/proc/self/task")) {
    all += runNs(`/proc/self/task/${entry.name}/schedstat`) ?? 0; // a thread may have ended
  }
  return { all: all / 1e6, self: self / 1e6 };
}

// One output set per share: `n × n` f64 Gram, sums, scratch (and a staging block for AAᵀ).
const n = wide ? rows : cols;
const alloc = (bytes: number) => kernels.alloc(bytes);
const scratchBytes = 4 *
  (wide
    ? kernels.exports.prism_gram_rows_scratch_len(rows)
    : kernels.exports.prism_syrk_scratch_len(cols));
const outputs = () => ({
  gram: alloc(n * n * 8),
  sum: alloc(n * 8),
  shift: alloc(cols * 4),
  scratch: alloc(scratchBytes),
  staging: alloc(wide ? rows * cols * 4 : 4),
});
const sets = [outputs(), outputs()];
const total = wide ? cols : rows;
const half = Math.ceil(total / 2 / GRAM_BLOCK) * GRAM_BLOCK;

/** One pool job over `[from, to)` of the split side, into output set `s`. */
function job(pool: WorkerPool, from: number, to: number, s: number): Promise<unknown> {
  const o = sets[s];
  if (wide) {
    return pool.run("gram_rows_range", {
      a: km.ptr,
      rows,
      ld: cols,
      c0: from,
      c1: to,
      gram: o.gram,
      scratch: o.scratch,
      staging: o.staging,
      panel: to - from,
    });
  }
  const { gram, sum, shift, scratch } = o;
  return pool.run("gram_syrk_range", {
    x: km.ptr + from * cols * 4,
    rows: to - from,
    cols,
    shift,
    sum,
    gram,
    scratch,
  });
}

const pool = defaultPool();
const one = sets[0];
const cases: Record<string, () => unknown> = {
  "kernel, this thread": wide
    ? () => kernels.exports.prism_gram_rows_f32(km.ptr, rows, cols, one.gram, one.scratch)
    : () =>
      kernels.exports.prism_syrk_shifted_f32(
        km.ptr,
        rows,
        cols,
        one.shift,
        one.sum,
        one.gram,
        one.scratch,
      ),
  "1 worker, all": () => job(pool, 0, total, 0),
  "2 workers, half each": () => Promise.all([job(pool, 0, half, 0), job(pool, half, total, 1)]),
  "host": wide
    ? () => wasmGramRows(km, { operation: "gram()" })
    : () => wasmSyrk(km, { operation: "gram()" }),
  ...(wide ? {} : { "covariance()": () => covariance(km, { backend: "wasm" }) }),
};

const warmup = 3;
const iterations = 11;
const rounds = 3;
const lines = new Map<string, string[]>();
for (let round = 0; round < rounds; round++) {
  for (const [name, run] of Object.entries(cases)) {
    const before = cpuMs();
    const t = await measure(run as () => Promise<unknown>, { warmup, iterations });
    const after = cpuMs();
    const per = (a?: number, b?: number) =>
      a === undefined || b === undefined ? "-" : ((b - a) / (warmup + iterations)).toFixed(2);
    const cell = `${t.medianMs.toFixed(2)} (cpu ${per(before?.all, after?.all)}, this ` +
      `${per(before?.self, after?.self)})`;
    lines.set(name, [...(lines.get(name) ?? []), cell]);
  }
}
console.log(
  `${wide ? "AAᵀ" : "SYRK"} ${rows} x ${cols}, pool of ${pool.size}; wall median ms (CPU ms per ` +
    `call: all threads, this thread), ${rounds} rounds in turns; load ${Deno.loadavg()[0]}`,
);
for (const [name, cells] of lines) console.log(`${name.padEnd(22)} ${cells.join(" | ")}`);
pool.close();
