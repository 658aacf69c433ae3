/**
 * What a benchmark report says about the machine it ran on: the CPU's name (`lscpu`), so every
 * quoted figure names its CPU, and the load average, so a shared machine is visible.
 *
 * @module
 */

// The CPU's name is read the one way `harness/` records it (lscpu, then /proc/cpuinfo).
export { cpuModel } from "../harness/machine.ts";
import { measuredFmaPeak } from "./_fma_peak.ts";

/**
 * The lines a report prints about its machine: the CPU, the load average at its start and end,
 * and, when the load passed 1, that other jobs competed (so the ratios count, not the times).
 *
 * @param cpu From {@linkcode cpuModel}.
 * @param loadStart `Deno.loadavg()` at the start.
 * @param loadEnd `Deno.loadavg()` at the end.
 * @returns Two or three lines.
 * @throws Never.
 * @example
 * ```ts
 * import { machineLines } from "./_machine.ts";
 * import assert from "node:assert";
 * const lines = machineLines("AMD EPYC", [2.5, 1, 1], [0.5, 1, 1]);
 * assert(lines[1] === "load average (1, 5, 15 min): start 2.50, 1.00, 1.00; end 0.50, 1.00, 1.00");
 * assert(lines.length === 3);
 * ```
 */
export function machineLines(cpu: string, loadStart: number[], loadEnd: number[]): string[] {
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(", ");
  const lines = [
    `CPU: ${cpu}, ${navigator.hardwareConcurrency} logical CPUs`,
    `load average (1, 5, 15 min): start ${load(loadStart)}; end ${load(loadEnd)}`,
  ];
  if (Math.max(loadStart[0], loadEnd[0]) > 1) {
    lines.push(
      "the machine is shared: load above 1 means other jobs competed for the CPUs; treat the " +
        "ratios (same-run neighbours) as the result, not the absolute times",
    );
  }
  return lines;
}

/** The WebAssembly SIMD peak the reports hold kernels to. */
export interface SimdPeak {
  /** The CPU clock in GHz (`cpu MHz` of `/proc/cpuinfo`), or `NaN` where unknown. */
  readonly ghz: number;
  /** Two 128-bit FMA (2 × 4 lanes × 2 flops) per cycle at `ghz`, times the logical CPUs. */
  readonly nominalGflops: number;
  /** A 12-chain `f32x4.relaxed_madd` loop's rate times the logical CPUs (`_fma_peak.ts`). */
  readonly measuredGflops?: number;
  /** The one to divide by: measured where the engine has relaxed SIMD, else nominal. */
  readonly gflops: number;
  /** How `gflops` was found, for the report's footer. */
  readonly source: string;
}

/**
 * The machine's WASM SIMD peak, all logical CPUs. Measured where it can be: on a virtual machine
 * `/proc/cpuinfo`'s clock is the host's base frequency, and kernels ran at up to 135 % of the
 * nominal peak it gives when the core boosted.
 *
 * @returns The peak, with the nominal one beside it (`NaN` without `/proc/cpuinfo`).
 * @throws Never.
 * @example
 * ```ts
 * import { simdPeak } from "./_machine.ts";
 * import assert from "node:assert";
 * const peak = await simdPeak();
 * assert(Number.isNaN(peak.ghz) || peak.nominalGflops === 16 * peak.ghz * navigator.hardwareConcurrency);
 * assert.equal(peak.gflops, peak.measuredGflops ?? peak.nominalGflops);
 * ```
 */
export async function simdPeak(): Promise<SimdPeak> {
  const info = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const mhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(info)?.[1] ?? NaN);
  const ghz = mhz / 1000;
  const nominalGflops = 16 * ghz * navigator.hardwareConcurrency;
  const measured = await measuredFmaPeak();
  const nominalText = `nominal ${nominalGflops.toFixed(1)} GFLOP/s: 16 flops/cycle/core at ` +
    `/proc/cpuinfo's ${ghz.toFixed(3)} GHz`;
  return {
    ghz,
    nominalGflops,
    measuredGflops: measured?.gflops,
    gflops: measured?.gflops ?? nominalGflops,
    source: measured === undefined ? nominalText : `measured: 12 relaxed-madd chains, ` +
      `${measured.thread.toFixed(1)} GFLOP/s on one thread × ${navigator.hardwareConcurrency}; ` +
      nominalText,
  };
}
