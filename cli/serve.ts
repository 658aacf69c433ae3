/**
 * `deno run -A cli.ts serve [--port N] [--host H]`: serves the hyperspectral viewer (`web/`) on
 * 127.0.0.1. Every response carries the cross-origin isolation headers (COOP/COEP), which a page
 * needs for `SharedArrayBuffer`, so prism's kernels run on every core in the tab. The files a user
 * drops never leave the tab: the server only hands out the page, its scripts and the kernels, and
 * takes JSON results that the test page posts back (`POST /results`, for the browser tests).
 *
 * @module
 */

import { type Command, UsageError } from "./_command.ts";
import { numberOption, parseCommandArgs } from "./_args.ts";
import { buildWebAssets, type WebAsset } from "./_web_bundle.ts";

/** The headers that make a page cross-origin isolated (so it may share memory with workers). */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/** How {@linkcode startServer} listens. */
export interface ServeOptions {
  /** The port; 0 picks a free one. Default 8000. */
  port?: number;
  /** The address to bind; default 127.0.0.1 (this machine only). */
  hostname?: string;
  /** Send the isolation headers (default true); false only to test the one-thread fallback. */
  isolation?: boolean;
  /** Called with each JSON body posted to `/results`. */
  onResult?: (result: unknown) => void;
}

/** A running server. */
export interface WebServer {
  /** The viewer's address, e.g. `http://127.0.0.1:8000/`. */
  readonly url: string;
  /** Stops it. */
  shutdown(): Promise<void>;
  /** Settles when it has stopped. */
  readonly finished: Promise<void>;
}

/** Most bytes a posted result may have (a test page's report is a few KiB). */
const RESULT_LIMIT = 16 * 2 ** 20;

/**
 * Bundles the pages and serves them.
 *
 * @param options Port, address, isolation and the results callback.
 * @returns The running server.
 * @throws {Error} When the pages cannot be bundled or the port is taken.
 */
export async function startServer(options: ServeOptions = {}): Promise<WebServer> {
  const assets = await buildWebAssets();
  const isolation = options.isolation ?? true;
  const server = Deno.serve({
    port: options.port ?? 8000,
    hostname: options.hostname ?? "127.0.0.1",
    onListen: () => {},
  }, (request) =>
    respond(request, { assets, onResult: options.onResult }).then((response) => {
      if (isolation) {
        for (const [k, v] of Object.entries(ISOLATION_HEADERS)) response.headers.set(k, v);
      }
      response.headers.set("Cache-Control", "no-store");
      return response;
    }));
  const { hostname, port } = server.addr;
  return {
    url: `http://${hostname}:${port}/`,
    shutdown: () => server.shutdown(),
    finished: server.finished,
  };
}

async function respond(
  request: Request,
  context: { assets: Map<string, WebAsset>; onResult?: (result: unknown) => void },
): Promise<Response> {
  const path = new URL(request.url).pathname;
  if (request.method === "POST" && path === "/results") {
    const text = await request.text();
    if (text.length > RESULT_LIMIT) return new Response("result too large", { status: 413 });
    try {
      context.onResult?.(JSON.parse(text));
    } catch (e) {
      return new Response(`results must be JSON: ${String(e)}`, { status: 400 });
    }
    return new Response(null, { status: 204 });
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("only GET, and POST /results", { status: 405 });
  }
  const asset = context.assets.get(path);
  if (asset === undefined) return new Response(`no such file: ${path}`, { status: 404 });
  return new Response(request.method === "HEAD" ? null : asset.body, {
    headers: { "Content-Type": asset.type },
  });
}

/** The `serve` command. */
export const serveCommand: Command = {
  name: "serve",
  summary: "serve the hyperspectral viewer page (drop a cube, see RX, spectra) on 127.0.0.1",
  example: "deno run -A cli.ts serve --port 8000",
  usage: [
    "usage: deno run -A cli.ts serve [--port 8000] [--host 127.0.0.1]",
    "",
    "Serves a page that runs prism in the browser on files you drop on it (.npy, HDF5, an ENVI",
    ".hdr with its data file): size and bands, a band image, the RX anomaly map with a threshold",
    "and the top anomalies, a pixel's spectrum, covariance and singular values, timings per step.",
    "Files never leave the tab. Every response is cross-origin isolated (COOP/COEP), so the",
    "kernels use every core. Stop it with Ctrl+C.",
    "",
    "  --port N   the port (default 8000; 0 picks a free one)",
    "  --host H   the address to bind (default 127.0.0.1: this machine only)",
  ].join("\n"),
  async run(args, out) {
    const { values } = parseCommandArgs(args, {
      port: { type: "string" },
      host: { type: "string" },
    });
    const port = numberOption("port", { value: values.port, fallback: 8000 });
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UsageError(`--port must be a whole number from 0 to 65535, got ${values.port}`);
    }
    const server = await startServer({ port, hostname: values.host });
    out.say(`prism viewer at ${server.url} (cross-origin isolated); Ctrl+C stops it`);
    out.summary({ url: server.url });
    await server.finished;
    return 0;
  },
};
