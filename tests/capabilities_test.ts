import { equal, ok } from "node:assert/strict";
import { capabilities } from "../ops/capabilities.ts";
import { releaseGpu } from "../gpu/device.ts";
import { ABI_VERSION } from "../wasm/loader.ts";
import meta from "../deno.json" with { type: "json" };

Deno.test("capabilities() reports versions, the kernel module and a route per family", async () => {
  try {
    const caps = await capabilities();
    equal(caps.version, meta.version);
    equal(caps.runtime.deno, Deno.version.deno);
    equal(caps.wasm.abiVersion, ABI_VERSION);
    ok(caps.wasm.simd);
    ok(caps.wasm.sharedMemory, "the pool relies on one shared memory");
    ok(/^[0-9a-f]{64}$/.test(caps.wasm.source?.hash ?? ""), "the module records its source hash");
    ok(caps.wasm.workers >= 1);
    for (const route of Object.values(caps.routes)) {
      ok(route.backend === "wasm" || route.backend === "webgpu");
      ok(route.reason.length > 10);
      if (!caps.gpu.available || caps.gpu.adapter.isSoftware) equal(route.backend, "wasm");
    }
  } finally {
    await releaseGpu();
  }
});
