import { equal, match, rejects, throws } from "node:assert/strict";
import { autoRoute, chooseBackend } from "../ops/route.ts";
import { BackendUnavailableError } from "../core/errors.ts";
import type { GpuAvailable, GpuStatus } from "../gpu/types.ts";
import { releaseGpu } from "../gpu/device.ts";

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

Deno.test("auto decides a small problem without opening a device; a large one looks", async () => {
  await releaseGpu();
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) {
    console.log("navigator.gpu is undefined here: nothing could be opened either way");
    return;
  }
  let asked = 0;
  const original = gpu.requestAdapter;
  Object.defineProperty(gpu, "requestAdapter", {
    configurable: true,
    value: (options?: GPURequestAdapterOptions) => (asked++, original.call(gpu, options)),
  });
  try {
    const small = await chooseBackend("reduce", { work: 10 });
    equal(small.backend, "wasm");
    match(small.reason, /below the GPU threshold/);
    equal((await chooseBackend("rxLocal", {})).backend, "wasm");
    equal(asked, 0, "a small or GPU-less problem asked for an adapter");
    await chooseBackend("reduce", { work: 1e12 });
    // PRISM_WEBGPU=off answers before asking; otherwise the large problem looked once.
    equal(asked, Deno.env.get("PRISM_WEBGPU") === "off" ? 0 : 1);
  } finally {
    delete (gpu as unknown as Record<string, unknown>).requestAdapter; // the prototype's again
    await releaseGpu();
  }
});
