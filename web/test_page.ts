/**
 * The browser test page: runs prism's operations on the fixed cases of `./_cases.ts` in the page,
 * says what the page offered (cross-origin isolation, workers, WebGPU and its adapter), checks
 * that a file-path function refuses with its message, and posts everything to `POST /results`,
 * where `tests/browser_test.ts` compares it with the same cases run in Deno. `?speed=ROWSxBANDS`
 * adds the timings of `runSpeed`.
 *
 * @module
 */

/// <reference lib="dom" />

import { capabilities, covariance, readNpy, releaseGpu, synthCube } from "../mod.ts";
import { runCases, runSpeed } from "./_cases.ts";

/** Every `console.warn` of the run, so the report shows the one-thread notice (and that it came once). */
const warnings: string[] = [];
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  warnings.push(args.map(String).join(" "));
  warn(...args);
};

async function report(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {
    crossOriginIsolated: globalThis.crossOriginIsolated,
    userAgent: navigator.userAgent,
  };
  try {
    out.cases = await runCases();
    // Run again: the one-thread notice must not repeat.
    await runCases();
    const caps = await capabilities();
    out.workers = caps.wasm.workers;
    out.sharedMemory = caps.wasm.sharedMemory;
    out.gpu = caps.gpu;
    out.routes = caps.routes;
    if (caps.gpu.available) {
      // The WebGPU backend on the same cube as the covariance case.
      const { cube } = synthCube({ height: 37, width: 41, bands: 13, seed: 7 });
      const stats = await covariance(cube, { backend: "webgpu" });
      out.webgpuCovariance = [...stats.covariance];
    }
    try {
      await readNpy("cube.npy");
      out.denoOnly = "readNpy(path) did not throw";
    } catch (e) {
      out.denoOnly = `${(e as Error).name}: ${(e as Error).message}`;
    }
    const speed = new URLSearchParams(location.search).get("speed");
    if (speed !== null) {
      const [rows, bands] = speed.split("x").map(Number);
      out.speed = await runSpeed(rows, bands);
    }
  } catch (e) {
    out.error = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e);
  } finally {
    await releaseGpu().catch(() => {});
  }
  out.warnings = warnings;
  return out;
}

const result = await report();
await fetch("/results", { method: "POST", body: JSON.stringify(result) });
document.getElementById("state")!.textContent = "done";
