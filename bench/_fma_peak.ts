/**
 * The WASM SIMD peak as measured, beside the nominal one of `_machine.ts` (`simdPeak()`, from
 * `/proc/cpuinfo`'s clock): on a virtual machine that clock is the host's base frequency, and a
 * kernel can run above "100 %" of it when the core boosts. Here a loop of 12 independent
 * `f32x4.relaxed_madd` chains (enough to cover the FMA latency on two units) runs on this thread,
 * and its rate times the logical CPUs is the peak a kernel can be held to.
 *
 * @module
 */

/** Independent multiply-add chains of the loop. */
const CHAINS = 12;

/** Unsigned LEB128, as WebAssembly encodes sizes and counts. */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    const byte = n & 0x7f;
    n >>>= 7;
    out.push(n === 0 ? byte : byte | 0x80);
  } while (n !== 0);
  return out;
}

/** A section: its id, then its size, then its bytes. */
const section = (id: number, bytes: number[]) => [id, ...leb(bytes.length), ...bytes];

/**
 * The module `(func (export "fma") (param $n i32) (result f32))`: `x = 0.999`, `y = 0.001`, then
 * `$n` times `acc_i = relaxed_madd(acc_i, x, y)` for 12 accumulators, and lane 0 of their sum
 * (so none is dead code).
 */
function fmaModule(): Uint8Array<ArrayBuffer> {
  const f32 = (v: number) => [...new Uint8Array(new Float32Array([v]).buffer)];
  const [X, Y, A] = [1, 2, 3]; // local indices; local 0 is $n
  const SIMD = 0xfd;
  const splat = (v: number, to: number) => [0x43, ...f32(v), SIMD, 0x13, 0x21, to];
  const step = (i: number) => [0x20, A + i, 0x20, X, 0x20, Y, SIMD, 0x85, 0x02, 0x21, A + i];
  const sum = [0x20, A];
  for (let i = 1; i < CHAINS; i++) sum.push(0x20, A + i, SIMD, 0xe4, 0x01);
  const code = [
    0x01, // one group of locals:
    ...leb(2 + CHAINS),
    0x7b, // v128
    ...splat(0.999, X),
    ...splat(0.001, Y),
    0x03, // loop
    0x40,
    ...Array.from({ length: CHAINS }, (_, i) => step(i)).flat(),
    ...[0x20, 0, 0x41, 1, 0x6b, 0x22, 0], // n = n - 1 (local.tee)
    ...[0x0d, 0], // br_if the loop
    0x0b, // end loop
    ...sum,
    ...[SIMD, 0x1f, 0], // f32x4.extract_lane 0
    0x0b, // end
  ];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]), // type: (i32) -> f32
    ...section(3, [1, 0]), // one function of type 0
    ...section(7, [1, 3, ...new TextEncoder().encode("fma"), 0x00, 0]), // export "fma"
    ...section(10, [1, ...leb(code.length), ...code]),
  ]);
}

/** The measured peak. */
export interface MeasuredPeak {
  /** GFLOP/s of one thread running the loop (2 flops per lane per multiply-add). */
  readonly thread: number;
  /** `thread` times the logical CPUs. */
  readonly gflops: number;
}

/**
 * Runs the 12-chain relaxed multiply-add loop on this thread (best of 101 runs of about 1 ms).
 *
 * @returns The peak, or `undefined` where the engine lacks relaxed SIMD.
 * @throws Never.
 * @example
 * ```ts
 * import { measuredFmaPeak } from "./_fma_peak.ts";
 * import assert from "node:assert";
 * const peak = await measuredFmaPeak();
 * assert(peak === undefined || peak.gflops === peak.thread * navigator.hardwareConcurrency);
 * ```
 */
export async function measuredFmaPeak(): Promise<MeasuredPeak | undefined> {
  const bytes = fmaModule();
  if (!WebAssembly.validate(bytes)) return undefined;
  const { instance } = await WebAssembly.instantiate(bytes);
  const fma = instance.exports.fma as (n: number) => number;
  const n = 250_000; // about 1 ms: short runs, so that some run between other processes' slices
  fma(n); // tier up
  let best = Infinity;
  for (let r = 0; r < 101; r++) {
    const t0 = performance.now();
    fma(n);
    best = Math.min(best, performance.now() - t0);
  }
  const thread = n * CHAINS * 8 / best / 1e6;
  return { thread, gflops: thread * navigator.hardwareConcurrency };
}
