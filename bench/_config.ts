/**
 * Shared benchmark settings. `PRISM_BENCH_QUICK=1` (set by CI) shrinks every problem so the
 * suites prove they run in seconds; without it they run at the sizes the issues quote.
 *
 * @module
 */

import { QUICK } from "../harness/quick.ts";
export { QUICK, size } from "../harness/quick.ts";

import { gpuStatus } from "../gpu/device.ts";

const gpu = await gpuStatus();

/**
 * Whether the WebGPU cases run: with a hardware adapter always; on a software adapter (llvmpipe,
 * lavapipe) only in quick mode, where they prove the path works without minutes of CPU
 * emulation; never without an adapter. The reason is printed once.
 */
export const GPU_BENCH: boolean = gpu.available && (!gpu.adapter.isSoftware || QUICK);
console.log(
  GPU_BENCH
    ? `WebGPU cases on ${gpu.available && gpu.adapter.description}` +
      (gpu.available && gpu.adapter.isSoftware ? " (software: proves the path, not speed)" : "")
    : `WebGPU cases skipped: ${gpu.available ? "software adapter outside quick mode" : gpu.reason}`,
);
