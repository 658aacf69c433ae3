/**
 * Drives a headless Chromium for the browser tests and the page-versus-Deno benchmark: finds the
 * browser, starts it with a fresh profile and the DevTools protocol on a free loopback port, talks
 * to its page over that protocol (evaluate, set a file input, screenshot), and ends it by its
 * process id.
 *
 * @module
 */

/** The executables tried, in order, on `PATH` (Debian's package installs `chromium`). */
const CANDIDATES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

/**
 * Finds a Chromium executable: `PRISM_CHROMIUM` when set, else the first of `chromium`,
 * `chromium-browser`, `google-chrome` found on `PATH`.
 *
 * @returns Its path, or `undefined` when there is none (callers skip, saying so).
 * @throws Never.
 * @example
 * ```ts
 * import { findChromium } from "./chromium.ts";
 * import assert from "node:assert";
 * const found = findChromium();
 * assert(found === undefined || found.length > 0);
 * ```
 */
export function findChromium(): string | undefined {
  const env = (name: string) => {
    try {
      return Deno.env.get(name);
    } catch {
      return undefined; // no --allow-env: look on PATH only
    }
  };
  const chosen = env("PRISM_CHROMIUM");
  if (chosen) return chosen;
  for (const dir of (env("PATH") ?? "/usr/bin:/bin").split(":")) {
    for (const name of CANDIDATES) {
      try {
        if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** How {@linkcode launchChromium} starts the browser. */
export interface LaunchOptions {
  /** The executable (default: {@linkcode findChromium}). */
  executable?: string;
  /** More command-line flags. */
  flags?: string[];
  /** Window size in CSS pixels (default 1280×900): the size of screenshots. */
  width?: number;
  height?: number;
  /** Milliseconds to wait for the DevTools endpoint (default 30 000). */
  startMs?: number;
}

/** A running headless Chromium showing one page. */
export interface ChromiumSession {
  /** The browser's process id (what {@linkcode ChromiumSession.close} ends). */
  readonly pid: number;
  /** Sends a DevTools protocol command to the page and resolves with its result. */
  send(method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Evaluates `expression` in the page (awaiting a promise) and returns its JSON value. */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** Everything the browser wrote on stderr so far (its own diagnostics). */
  stderr(): string;
  /** Ends the browser by its pid (SIGTERM, then SIGKILL after 5 s) and removes the profile. */
  close(): Promise<void>;
}

/**
 * The flags for a throwaway headless browser: a new profile, DevTools on a free port, no
 * first-run screens; WebGPU asked for (`--enable-unsafe-webgpu`), which a machine without a GPU
 * may still not offer. `--no-sandbox` only as root, where Chromium refuses to start otherwise.
 */
function baseFlags(profile: string, width: number, height: number): string[] {
  const flags = [
    "--headless=new",
    `--user-data-dir=${profile}`,
    "--remote-debugging-port=0",
    "--remote-debugging-address=127.0.0.1",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--enable-unsafe-webgpu",
    `--window-size=${width},${height}`,
  ];
  if (Deno.uid?.() === 0) flags.push("--no-sandbox");
  return flags;
}

/**
 * Starts a headless Chromium on `url` and connects to its page over the DevTools protocol.
 *
 * @param url The page to open.
 * @param options Executable, flags, window size, start time-out.
 * @returns The session; `close()` it (also on failure paths).
 * @throws {Error} When no Chromium is found, or it does not open its DevTools endpoint in time
 *   (the message holds its stderr).
 */
export async function launchChromium(
  url: string,
  options: LaunchOptions = {},
): Promise<ChromiumSession> {
  const executable = options.executable ?? findChromium();
  if (executable === undefined) {
    throw new Error("no Chromium found: install Debian's `chromium` or set PRISM_CHROMIUM");
  }
  const profile = await Deno.makeTempDir({ prefix: "prism-chromium-" });
  const args = [
    ...baseFlags(profile, options.width ?? 1280, options.height ?? 900),
    ...(options.flags ?? []),
    "about:blank", // the page is opened once connected, so that the session sees it load
  ];
  const child = new Deno.Command(executable, { args, stdout: "null", stderr: "piped" }).spawn();
  let log = "";
  const endpoint = Promise.withResolvers<string>();
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      log += decoder.decode(chunk, { stream: true });
      const m = /DevTools listening on ws:\/\/([^/\s]+)\//.exec(log);
      if (m) endpoint.resolve(m[1]);
    }
    endpoint.reject(new Error(`Chromium ended before DevTools was up:\n${log.slice(-2000)}`));
  })();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    socket?.close();
    try {
      child.kill("SIGTERM");
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }, 5000);
      await child.status;
      clearTimeout(timer);
    } catch {
      // already gone
    }
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };
  let socket: WebSocket | undefined;
  try {
    const timer = setTimeout(
      () =>
        endpoint.reject(new Error(`Chromium opened no DevTools endpoint:\n${log.slice(-2000)}`)),
      options.startMs ?? 30_000,
    );
    const host = await endpoint.promise.finally(() => clearTimeout(timer));
    socket = await pageSocket(host);
    const cdp = protocol(socket);
    await cdp("Runtime.enable");
    const evaluate = async <T>(expression: string): Promise<T> => {
      const reply = await cdp("Runtime.evaluate", {
        expression,
        awaitPromise: true,
        returnByValue: true,
      }) as { result: { value?: T }; exceptionDetails?: unknown };
      if (reply.exceptionDetails) {
        throw new Error(`page threw: ${JSON.stringify(reply.exceptionDetails).slice(0, 1000)}`);
      }
      return reply.result.value as T;
    };
    await cdp("Page.navigate", { url });
    await loaded(evaluate, url);
    return { pid: child.pid, send: cdp, evaluate, stderr: () => log, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Waits until the page shows `url` and has loaded (its `load` event has fired). */
async function loaded(
  evaluate: <T>(expression: string) => Promise<T>,
  url: string,
): Promise<void> {
  const want = JSON.stringify(new URL(url).href);
  for (let tries = 0; tries < 600; tries++) {
    const ready = await evaluate<boolean>(
      `location.href === ${want} && document.readyState === "complete"`,
    ).catch(() => false); // the old document may go away mid-call
    if (ready) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Chromium did not finish loading ${url} in 30 s`);
}

/** Opens a WebSocket to the first page target of the browser at `host`. */
async function pageSocket(host: string): Promise<WebSocket> {
  for (let tries = 0;; tries++) {
    const targets = await (await fetch(`http://${host}/json/list`)).json() as {
      type: string;
      webSocketDebuggerUrl: string;
    }[];
    const page = targets.find((t) => t.type === "page");
    if (page !== undefined) {
      const socket = new WebSocket(page.webSocketDebuggerUrl);
      await new Promise((resolve, reject) => {
        socket.onopen = resolve;
        socket.onerror = () => reject(new Error("cannot connect to the page's DevTools socket"));
      });
      return socket;
    }
    if (tries > 50) throw new Error(`Chromium at ${host} shows no page`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A DevTools protocol client over `socket`: each call resolves with its reply's result. */
function protocol(
  socket: WebSocket,
): (method: string, params?: Record<string, unknown>) => Promise<Record<string, unknown>> {
  let next = 1;
  const pending = new Map<number, PromiseWithResolvers<Record<string, unknown>>>();
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data as string) as {
      id?: number;
      result?: Record<string, unknown>;
      error?: { message: string };
    };
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (waiter === undefined) return; // an event
    pending.delete(message.id!);
    if (message.error) waiter.reject(new Error(`DevTools: ${message.error.message}`));
    else waiter.resolve(message.result ?? {});
  };
  socket.onclose = () => {
    for (const waiter of pending.values()) waiter.reject(new Error("DevTools socket closed"));
    pending.clear();
  };
  return (method, params = {}) => {
    const id = next++;
    const waiter = Promise.withResolvers<Record<string, unknown>>();
    pending.set(id, waiter);
    socket.send(JSON.stringify({ id, method, params }));
    return waiter.promise;
  };
}
