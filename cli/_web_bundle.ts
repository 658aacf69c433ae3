/**
 * Builds the JavaScript the `serve` command hands to browsers: the viewer, the test page and the
 * kernel pool's worker, bundled from the TypeScript sources by `deno bundle` (esbuild) once, when
 * the server starts.
 *
 * Why bundle at start-up rather than commit a bundle or transpile per request: browsers run
 * neither TypeScript nor `npm:` specifiers, a committed bundle goes stale the moment a source
 * changes (and would need a test to catch it), and per-request transpiling would still leave the
 * `npm:` imports (h5wasm, Vega-Lite) unresolved. One bundle per entry takes about a second.
 *
 * The bundles keep the loader's `new URL("./prism_fma.wasm" | "./prism.wasm", import.meta.url)`
 * and the pool's `new URL("./worker.ts", import.meta.url)` as they are, so the server serves both
 * kernel builds and the worker bundle under those names beside the page bundles (`/app/`).
 *
 * @module
 */

import { VARIANT_FILES } from "../wasm/_variant.ts";

/** One file the server hands out. */
export interface WebAsset {
  /** The response body. */
  readonly body: Uint8Array<ArrayBuffer>;
  /** Its `Content-Type`. */
  readonly type: string;
}

const ROOT = new URL("../", import.meta.url);
const JS = "text/javascript; charset=utf-8";
/**
 * The entry points and the `/app/` name each bundle is served under; esbuild writes each bundle
 * at its source's path under the output folder, `.ts` replaced by `.js`.
 */
const ENTRIES: readonly { source: string; served: string }[] = [
  { source: "web/viewer.ts", served: "viewer.js" },
  { source: "web/test_page.ts", served: "test_page.js" },
  // Named as the pool asks for it: `new URL("./worker.ts", import.meta.url)`.
  { source: "wasm/worker.ts", served: "worker.ts" },
];
/** Static files served as they are, by their `/` path. */
const STATIC: readonly { source: string; served: string; type: string }[] = [
  { source: "web/viewer.html", served: "/", type: "text/html; charset=utf-8" },
  { source: "web/test_page.html", served: "/test.html", type: "text/html; charset=utf-8" },
  { source: "web/viewer.css", served: "/viewer.css", type: "text/css; charset=utf-8" },
  // Both kernel builds: the page's loader picks one with WebAssembly.validate, as in Deno.
  ...Object.values(VARIANT_FILES).map((file) => ({
    source: `wasm/${file}`,
    served: `/app/${file}`,
    type: "application/wasm",
  })),
];

/**
 * Bundles the page scripts and reads the static files, all into memory.
 *
 * @returns Every file the server hands out, by URL path.
 * @throws {Error} When `deno bundle` fails (its output is in the message).
 */
export async function buildWebAssets(): Promise<Map<string, WebAsset>> {
  const out = await Deno.makeTempDir({ prefix: "prism-web-" });
  try {
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "--format",
        "esm",
        "--outdir",
        out,
        ...ENTRIES.map((e) => new URL(e.source, ROOT).pathname),
      ],
      cwd: new URL(".", ROOT).pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!run.success) {
      const text = new TextDecoder().decode(run.stderr).trim();
      throw new Error(`deno bundle of the web pages failed (exit ${run.code}): ${text}`);
    }
    const assets = new Map<string, WebAsset>();
    for (const e of ENTRIES) {
      assets.set(`/app/${e.served}`, {
        body: await Deno.readFile(`${out}/${e.source.replace(/\.ts$/, ".js")}`),
        type: JS,
      });
    }
    for (const s of STATIC) {
      assets.set(s.served, { body: await Deno.readFile(new URL(s.source, ROOT)), type: s.type });
    }
    return assets;
  } finally {
    await Deno.remove(out, { recursive: true }).catch(() => {});
  }
}
