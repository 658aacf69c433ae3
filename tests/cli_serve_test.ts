/**
 * `cli.ts serve` without a browser: every response is cross-origin isolated, the bundles are
 * JavaScript, the kernel module is served where the bundled loader asks for it, posted results
 * reach the callback, and a bad `--port` is a usage error.
 */

import assert from "node:assert";
import { ISOLATION_HEADERS, startServer } from "../cli/serve.ts";
import { runMain } from "./_cli_helpers.ts";

Deno.test({
  name: "serve: isolation headers on every response, bundles, wasm, results",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const results: unknown[] = [];
  const server = await startServer({ port: 0, onResult: (r) => results.push(r) });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const get = async (path: string, init?: RequestInit) => {
      const response = await fetch(new URL(path, server.url), init);
      const body = new Uint8Array(await response.arrayBuffer());
      for (const [name, value] of Object.entries(ISOLATION_HEADERS)) {
        assert.strictEqual(response.headers.get(name), value, `${path}: ${name}`);
      }
      return { status: response.status, type: response.headers.get("content-type"), body };
    };
    const page = await get("/");
    assert.strictEqual(page.status, 200);
    assert.match(
      new TextDecoder().decode(page.body),
      /<script type="module" src="\/app\/viewer.js">/,
    );
    for (const path of ["/app/viewer.js", "/app/test_page.js", "/app/worker.ts"]) {
      const js = await get(path);
      assert.strictEqual(js.type, "text/javascript; charset=utf-8", path);
      assert(js.body.length > 1000, `${path} is ${js.body.length} bytes`);
    }
    const wasm = await get("/app/prism.wasm");
    assert.strictEqual(wasm.type, "application/wasm");
    assert.deepStrictEqual([...wasm.body.subarray(0, 4)], [0, 0x61, 0x73, 0x6d]);
    assert.strictEqual((await get("/nope")).status, 404);
    assert.strictEqual((await get("/results", { method: "POST", body: "{not json" })).status, 400);
    assert.strictEqual((await get("/results", { method: "POST", body: '{"a":1}' })).status, 204);
    assert.deepStrictEqual(results, [{ a: 1 }]);
    assert.strictEqual((await get("/", { method: "DELETE" })).status, 405);
  } finally {
    await server.shutdown();
  }
});

Deno.test("serve: a bad --port is a usage error naming the flag", async () => {
  const run = await runMain(["serve", "--port", "70000"]);
  assert.strictEqual(run.code, 2);
  assert.match(run.err, /--port must be a whole number from 0 to 65535, got 70000/);
});
