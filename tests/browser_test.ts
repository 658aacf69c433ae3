/**
 * prism in a real headless Chromium: the test page runs the fixed cases of `web/_cases.ts` in the
 * browser and posts them to the server; the same cases run here in Deno and the two must agree
 * within each output's tolerance. Once cross-origin isolated (the server's headers: workers on
 * every core), once without the headers (the one-thread fallback, announced once). Skipped, with
 * the reason printed, where no Chromium is installed (`apt-get install chromium`).
 */

import assert from "node:assert";
import { type ServeOptions, startServer } from "../cli/serve.ts";
import { launchChromium } from "../harness/chromium.ts";
import { browserTest } from "./_browser.ts";
import { CASE_TOLERANCE, type CaseResults, runCases } from "../web/_cases.ts";
import { synthCube } from "../mod.ts";
import { covariance64 } from "./_helpers.ts";

/** What the test page posts (see `web/test_page.ts`). */
interface PageReport {
  crossOriginIsolated: boolean;
  userAgent: string;
  cases?: CaseResults;
  workers?: number;
  sharedMemory?: boolean;
  gpu?: { available: boolean; reason?: string; adapter?: Record<string, unknown> };
  routes?: Record<string, { backend: string; reason: string }>;
  webgpuCovariance?: number[];
  denoOnly?: string;
  error?: string;
  warnings: string[];
}

/** Serves the pages, opens the test page in Chromium, and resolves with what it posted. */
async function pageReport(options: Pick<ServeOptions, "isolation">): Promise<PageReport> {
  const posted = Promise.withResolvers<PageReport>();
  const server = await startServer({
    port: 0,
    ...options,
    onResult: (r) => posted.resolve(r as PageReport),
  });
  const browser = await launchChromium(`${server.url}test.html`);
  try {
    const timer = setTimeout(
      () => posted.reject(new Error(`the test page posted nothing in 120 s:\n${browser.stderr()}`)),
      120_000,
    );
    return await posted.promise.finally(() => clearTimeout(timer));
  } finally {
    await browser.close();
    await server.shutdown();
  }
}

/** Largest absolute difference, and the largest magnitude of `want`. */
function compare(got: readonly number[], want: readonly number[]): { diff: number; scale: number } {
  assert.strictEqual(got.length, want.length, "lengths differ");
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  // NaN anywhere fails: Math.max keeps NaN.
  return { diff, scale: Math.max(scale, 1e-30) };
}

function assertCasesMatch(page: CaseResults, deno: CaseResults): void {
  assert.deepStrictEqual(Object.keys(page).sort(), Object.keys(deno).sort());
  for (const [name, tolerance] of Object.entries(CASE_TOLERANCE)) {
    const { diff, scale } = compare(page[name], deno[name]);
    assert(
      diff <= tolerance * scale,
      `${name}: page and Deno differ by ${diff} (scale ${scale}, tolerance ${tolerance})`,
    );
  }
}

function describe(report: PageReport): string {
  const gpu = report.gpu?.available
    ? `WebGPU adapter ${JSON.stringify(report.gpu.adapter)}`
    : `no WebGPU (${report.gpu?.reason})`;
  return `isolated=${report.crossOriginIsolated}, ${report.workers} worker(s), ${gpu}; ` +
    `auto covariance -> ${report.routes?.covariance?.backend}`;
}

/** The page's report, once its cases have been checked against the same cases run here. */
async function pageMatchingDeno(options: Pick<ServeOptions, "isolation">): Promise<PageReport> {
  const deno = await runCases();
  const report = await pageReport(options);
  assert.strictEqual(report.error, undefined, report.error);
  console.log(`page: ${describe(report)}`);
  assertCasesMatch(report.cases!, deno);
  return report;
}

browserTest(
  "the module in Chromium (cross-origin isolated) matches Deno on the fixed cases",
  async () => {
    const report = await pageMatchingDeno({ isolation: true });
    assert.strictEqual(report.crossOriginIsolated, true);
    assert.strictEqual(report.sharedMemory, true);
    assert(report.workers! >= 1);
    assert(!report.warnings.some((w) => w.includes("one thread")), report.warnings.join("\n"));
    // And the page's covariance against a float64 reference of the same cube (its upper triangle).
    const { cube } = synthCube({ height: 37, width: 41, bands: 13, seed: 7 });
    const reference = covariance64(cube.data, 37 * 41, 13);
    const upper = (m: readonly number[]) => m.filter((_, k) => k % 13 >= Math.floor(k / 13));
    const wasm = compare(upper(report.cases!["covariance.covariance"]), upper([...reference]));
    assert(wasm.diff <= 1e-5 * wasm.scale, `covariance vs float64: ${wasm.diff} (${wasm.scale})`);
    if (report.webgpuCovariance !== undefined) {
      const gpu = compare(upper(report.webgpuCovariance), upper([...reference]));
      assert(gpu.diff <= 1e-4 * gpu.scale, `WebGPU covariance vs float64: ${gpu.diff}`);
    }
    // A file-path function says it needs Deno, and what to do instead.
    assert.match(report.denoOnly!, /^TypeError: readNpy\(path\) .*only works under Deno.*bytes/);
  },
);

browserTest(
  "without cross-origin isolation the page runs on one thread and says so once",
  async () => {
    const report = await pageMatchingDeno({ isolation: false });
    assert.strictEqual(report.crossOriginIsolated, false);
    assert.strictEqual(report.workers, 1);
    const notices = report.warnings.filter((w) => w.includes("not cross-origin isolated"));
    assert.strictEqual(notices.length, 1, report.warnings.join("\n"));
    assert.match(notices[0], /Cross-Origin-Opener-Policy: same-origin/);
  },
);
