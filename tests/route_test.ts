import { equal, match, rejects, throws } from "node:assert/strict";
import { autoRoute, chooseBackend } from "../ops/route.ts";
import { BackendUnavailableError } from "../core/errors.ts";
import type { GpuAvailable, GpuStatus } from "../gpu/types.ts";

function adapter(isSoftware: boolean): GpuAvailable {
  return {
    available: true,
    adapter: {
      vendor: "test",
      architecture: "",
      device: "",
      description: isSoftware ? "llvmpipe (LLVM 15)" : "Test GPU 9000",
      isSoftware,
      softwareReason: isSoftware ? "description names llvmpipe" : undefined,
    },
    features: [],
    f16: false,
    timestampQuery: false,
    limits: {},
  };
}
const none: GpuStatus = { available: false, reason: "navigator.gpu is undefined" };

Deno.test("autoRoute() runs on WASM without an adapter and says what was looked for", () => {
  const route = autoRoute("reduce", Infinity, none);
  equal(route.backend, "wasm");
  match(route.reason, /navigator\.gpu is undefined/);
  equal(route.fallback, true);
});

Deno.test("autoRoute() passes over a software adapter, naming it", () => {
  const route = autoRoute("reduce", Infinity, adapter(true));
  equal(route.backend, "wasm");
  match(route.reason, /llvmpipe.*software rasterizer/);
});

Deno.test("autoRoute() sends large problems to a hardware GPU and small ones to WASM", () => {
  equal(autoRoute("reduce", Infinity, adapter(false)).backend, "webgpu");
  const small = autoRoute("reduce", 10, adapter(false));
  equal(small.backend, "wasm");
  equal(small.fallback, undefined, "a small problem on WASM is policy, not a fallback");
  match(small.reason, /below the GPU threshold/);
});

Deno.test("chooseBackend() honours explicit requests and rejects unknown names", async () => {
  equal((await chooseBackend("reduce", "wasm", 1, adapter(false))).backend, "wasm");
  equal((await chooseBackend("reduce", "webgpu", 1, adapter(true))).backend, "webgpu");
  await rejects(chooseBackend("reduce", "webgpu", 1, none), BackendUnavailableError);
  // deno-lint-ignore no-explicit-any
  await rejects(chooseBackend("reduce", "cuda" as any, 1, none), RangeError);
});

Deno.test("chooseBackend() announces a fallback once per reason on stderr", async () => {
  const said: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => said.push(args.join(" "));
  try {
    const unique: GpuStatus = { available: false, reason: `test reason ${crypto.randomUUID()}` };
    await chooseBackend("reduce", "auto", Infinity, unique);
    await chooseBackend("reduce", "auto", Infinity, unique);
    equal(said.filter((s) => s.includes(unique.reason)).length, 1);
  } finally {
    console.error = original;
  }
  throws(() => autoRoute("reduce", 1, null as unknown as GpuStatus));
});
