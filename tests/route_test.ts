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
  const route = autoRoute("reduce", { work: Infinity, gpu: none });
  equal(route.backend, "wasm");
  match(route.reason, /navigator\.gpu is undefined/);
  equal(route.fallback, true);
});

Deno.test("autoRoute() passes over a software adapter, naming it", () => {
  const route = autoRoute("reduce", { work: Infinity, gpu: adapter(true) });
  equal(route.backend, "wasm");
  match(route.reason, /llvmpipe.*software rasterizer/);
});

Deno.test("autoRoute() sends large problems to a hardware GPU and small ones to WASM", () => {
  equal(autoRoute("reduce", { work: Infinity, gpu: adapter(false) }).backend, "webgpu");
  const small = autoRoute("reduce", { work: 10, gpu: adapter(false) });
  equal(small.backend, "wasm");
  equal(small.fallback, undefined, "a small problem on WASM is policy, not a fallback");
  match(small.reason, /below the GPU threshold/);
});

Deno.test("chooseBackend() honours explicit requests and rejects unknown names", async () => {
  equal(
    (await chooseBackend("reduce", { backend: "wasm", work: 1, status: adapter(false) })).backend,
    "wasm",
  );
  equal(
    (await chooseBackend("reduce", { backend: "webgpu", work: 1, status: adapter(true) })).backend,
    "webgpu",
  );
  await rejects(
    chooseBackend("reduce", { backend: "webgpu", work: 1, status: none }),
    BackendUnavailableError,
  );
  await rejects(
    chooseBackend("reduce", { backend: "cuda" as unknown as "wasm", work: 1, status: none }),
    RangeError,
  );
});

Deno.test("chooseBackend() announces a fallback once per reason on stderr", async () => {
  const said: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => said.push(args.join(" "));
  try {
    const unique: GpuStatus = { available: false, reason: `test reason ${crypto.randomUUID()}` };
    await chooseBackend("reduce", { backend: "auto", work: Infinity, status: unique });
    await chooseBackend("reduce", { backend: "auto", work: Infinity, status: unique });
    equal(said.filter((s) => s.includes(unique.reason)).length, 1);
  } finally {
    console.error = original;
  }
  throws(() => autoRoute("reduce", { work: 1, gpu: null as unknown as GpuStatus }));
});

Deno.test("chooseBackend() runs auto where a device tensor lives, and refuses GPU-less families", async () => {
  const gpu = adapter(true); // a software adapter: auto alone would never pick it
  equal((await chooseBackend("matmul", { lives: "webgpu", status: gpu })).backend, "webgpu");
  equal((await chooseBackend("matmul", { lives: "wasm", status: adapter(false) })).backend, "wasm");
  await rejects(
    chooseBackend("matmul", { lives: "webgpu", status: none }),
    BackendUnavailableError,
  );
  await rejects(
    chooseBackend("rxLocal", { backend: "webgpu", status: gpu }),
    (e: unknown) => e instanceof BackendUnavailableError && /rxLocal/.test(e.message),
  );
  equal(autoRoute("rxLocal", { work: Infinity, gpu: adapter(false) }).backend, "wasm");
});
