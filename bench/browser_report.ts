/**
 * prism in Chromium against prism in Deno, same machine, same run:
 * `deno run -A bench/browser_report.ts [--quick]`.
 *
 * 1. The test page (`cli.ts serve`, cross-origin isolated, so the pool uses every core) times
 *    `covariance()` and `RxDetector.score()` of a 1,638,400 × 50 float32 matrix (`runSpeed` in
 *    `web/_cases.ts`), and the same function runs here in Deno; the report gives both medians
 *    and the ratio page ÷ Deno (below 1: the page is faster).
 * 2. The viewer is handed a 512 × 512 × 200 float32 `.npy` (200 MiB) through its file input; the
 *    report gives the time from the pick to the finished RX map and charts, the page's own step
 *    timings, and the renderer process's peak resident memory (`VmHWM`, Linux only).
 *
 * Needs Chromium (`apt-get install chromium`); without it, says so and exits 0.
 *
 * @module
 */

import { startServer } from "../cli/serve.ts";
import { findChromium, launchChromium } from "../harness/chromium.ts";
import { ratio, type Timing } from "../harness/timing.ts";
import { runSpeed, type SpeedResults } from "../web/_cases.ts";
import { synthCube } from "../synth/cube.ts";
import { writeNpy } from "../io/npy.ts";
import { cpuModel, machineLines } from "./_machine.ts";

const quick = Deno.args.includes("--quick") || Deno.env.get("PRISM_BENCH_QUICK") === "1";
const [rows, bands] = quick ? [65_536, 50] : [1_638_400, 50];
const [height, width, cubeBands] = quick ? [128, 128, 50] : [512, 512, 200];

if (findChromium() === undefined) {
  console.log("browser report skipped: no chromium on PATH (apt-get install chromium)");
  Deno.exit(0);
}
const cpu = await cpuModel();
const loadStart = Deno.loadavg();
const fmt = (t: Timing) => `${t.medianMs.toFixed(1)} ms (spread ${t.spreadMs.toFixed(1)})`;

// 1. The page's operations against Deno's.
const posted = Promise.withResolvers<{ speed?: SpeedResults; error?: string; workers?: number }>();
const server = await startServer({ port: 0, onResult: (r) => posted.resolve(r as never) });
const page = await launchChromium(`${server.url}test.html?speed=${rows}x${bands}`);
const report = await posted.promise.finally(() => page.close());
if (report.error !== undefined || report.speed === undefined) {
  throw new Error(`the test page failed: ${report.error}`);
}
const deno = await runSpeed(rows, bands);
console.log(`covariance and RX scoring of ${rows} × ${bands} float32, backend wasm`);
console.log(`  page workers: ${report.workers}; Deno workers: ${navigator.hardwareConcurrency}`);
for (const key of ["covariance", "rxScore"] as const) {
  const r = ratio(report.speed[key].medianMs, deno[key].medianMs)!;
  console.log(
    `  ${key.padEnd(10)} page ${fmt(report.speed[key])}, Deno ${fmt(deno[key])}, ` +
      `page ÷ Deno ${r.toFixed(2)}`,
  );
}

// 2. The viewer on a large cube.
const dir = await Deno.makeTempDir({ prefix: "prism-browser-bench-" });
try {
  const { cube } = synthCube({ height, width, bands: cubeBands, seed: 1 });
  await writeNpy(`${dir}/cube.npy`, { data: cube.data, shape: [height, width, cubeBands] });
  const viewer = await launchChromium(server.url);
  try {
    const { root } = await viewer.send("DOM.getDocument") as { root: { nodeId: number } };
    const { nodeId } = await viewer.send("DOM.querySelector", {
      nodeId: root.nodeId,
      selector: "#file",
    }) as { nodeId: number };
    const t0 = performance.now();
    await viewer.send("DOM.setFileInputFiles", { nodeId, files: [`${dir}/cube.npy`] });
    let state = "working";
    while (state === "working" || state === "idle") {
      await new Promise((r) => setTimeout(r, 50));
      state = await viewer.evaluate<string>("document.body.dataset.state");
    }
    const seconds = (performance.now() - t0) / 1000;
    const steps = await viewer.evaluate<string>(
      `[...document.querySelectorAll("#timings tr")].map((r) => r.innerText.replace("\\t", " ")).join("; ")`,
    );
    const message = await viewer.evaluate<string>(`document.getElementById("message").textContent`);
    console.log(
      `viewer, ${height} × ${width} × ${cubeBands} float32 .npy: ${state} in ${
        seconds.toFixed(2)
      } s ${message}`,
    );
    console.log(`  steps: ${steps}`);
    console.log(`  renderer peak memory: ${await rendererPeak(viewer.pid)}`);
  } finally {
    await viewer.close();
  }
} finally {
  await server.shutdown();
  await Deno.remove(dir, { recursive: true });
}
for (const line of machineLines(cpu, loadStart, Deno.loadavg())) console.log(line);

/** The largest VmHWM among the browser's renderer processes (one tab: one renderer). */
async function rendererPeak(browserPid: number): Promise<string> {
  try {
    let peak = 0;
    for await (const entry of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      const cmd = await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => "");
      if (!cmd.includes("--type=renderer")) continue;
      const status = await Deno.readTextFile(`/proc/${entry.name}/status`).catch(() => "");
      const ppid = Number(/PPid:\s+(\d+)/.exec(status)?.[1]);
      const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
      if (ppid !== 0 && hwm > peak && (await descends(ppid, browserPid))) peak = hwm;
    }
    return peak === 0 ? "no renderer found" : `${(peak / 2 ** 20).toFixed(0)} MiB (VmHWM)`;
  } catch (e) {
    return `unknown (${String(e)})`;
  }
}

async function descends(pid: number, ancestor: number): Promise<boolean> {
  for (let p = pid; p > 1;) {
    if (p === ancestor) return true;
    const status = await Deno.readTextFile(`/proc/${p}/status`).catch(() => "");
    p = Number(/PPid:\s+(\d+)/.exec(status)?.[1] ?? 0);
  }
  return false;
}
