import { deepEqual, ok, rejects, throws } from "node:assert/strict";
import { BackendUnavailableError, KernelError } from "../core/errors.ts";
import { getGpu, gpuStatus, releaseGpu } from "../gpu/device.ts";
import { dispatchSize } from "../gpu/dispatch.ts";
import type { GpuShader } from "../gpu/types.ts";
import { detectSoftware } from "../gpu/_software.ts";

// Checked once: every GPU test below is skipped, with this reason printed, when there is no adapter.
const status = await gpuStatus();
await releaseGpu();
const available = status.available;
if (!status.available) console.log(`GPU tests skipped: ${status.reason}`);

/** A program that writes `out[i] = i * SCALE`, to prove a cached pipeline really runs. */
const FILL: GpuShader = {
  name: "test_fill",
  entryPoint: "main",
  overrides: ["WG", "SCALE"],
  wgsl: `
    override WG: u32;
    override SCALE: u32;
    @group(0) @binding(0) var<storage, read_write> out: array<u32>;
    @compute @workgroup_size(WG) fn main(@builtin(global_invocation_id) id: vec3u) {
      if (id.x < arrayLength(&out)) { out[id.x] = id.x * SCALE; }
    }`,
};

Deno.test("gpuStatus() reports the adapter's own limits, features and software detection", {
  ignore: !available,
}, async () => {
  try {
    const found = await gpuStatus();
    ok(found.available);
    // The device must carry every numeric limit the adapter has, not the WebGPU defaults.
    const adapter = await navigator.gpu.requestAdapter();
    ok(adapter !== null);
    let compared = 0;
    for (const name in adapter.limits) {
      const value: unknown = (adapter.limits as unknown as Record<string, unknown>)[name];
      if (typeof value !== "number") continue;
      deepEqual(found.limits[name], value, `limit ${name}`);
      compared++;
    }
    ok(compared >= 20, `only ${compared} limits compared`);
    deepEqual(found.f16, adapter.features.has("shader-f16"));
    deepEqual(found.timestampQuery, adapter.features.has("timestamp-query"));
    deepEqual(found.f16, found.features.includes("shader-f16"));
    deepEqual(found.adapter.description, adapter.info.description);
    const softwareName = /llvmpipe|lavapipe|softpipe|swiftshader/i.test(
      found.adapter.description,
    );
    if (softwareName || adapter.info.isFallbackAdapter) {
      ok(found.adapter.isSoftware);
      ok((found.adapter.softwareReason ?? "").length > 0);
    }
    deepEqual(found.adapter.isSoftware, found.adapter.softwareReason !== undefined);
    // Cached: the same context answers until released.
    ok((await getGpu()) === (await getGpu()));
  } finally {
    await releaseGpu();
  }
});

Deno.test("detectSoftware() recognises each software rule and names the one that matched", () => {
  const base = { vendor: "", architecture: "", device: "", description: "" };
  const gpu = { ...base, vendor: "nvidia", description: "NVIDIA H100 80GB HBM3" };
  deepEqual(detectSoftware({ ...gpu, isFallbackAdapter: false }), { isSoftware: false });
  const fallback = detectSoftware({ ...gpu, isFallbackAdapter: true });
  ok(fallback.isSoftware && /isFallbackAdapter/.test(fallback.softwareReason ?? ""));
  const cases: [Partial<typeof base>, string][] = [
    [{ description: "llvmpipe (LLVM 15.0.6, 256 bits)" }, "llvmpipe"],
    [{ device: "lavapipe" }, "lavapipe"],
    [{ architecture: "softpipe" }, "softpipe"],
    [{ vendor: "Google", description: "SwiftShader Device (Subzero)" }, "SwiftShader"],
    [{ description: "Microsoft Basic Render Driver" }, "Microsoft Basic Render"],
  ];
  for (const [fields, rule] of cases) {
    const found = detectSoftware({ ...base, ...fields, isFallbackAdapter: false });
    ok(found.isSoftware, rule);
    ok(found.softwareReason?.includes(rule), `${found.softwareReason} should name ${rule}`);
  }
});

Deno.test("dispatchSize() covers every workgroup count within the per-dimension limit", () => {
  const max = 7;
  for (let workgroups = 0; workgroups <= max * max; workgroups++) {
    const { x, y } = dispatchSize(workgroups, max);
    ok(x <= max && y <= max, `${workgroups}: ${x} x ${y}`);
    ok(x * y >= workgroups, `${workgroups}: ${x} x ${y} too small`);
    // The shader skips x * y - workgroups groups; keep that below one row of the dispatch.
    if (workgroups > 0) ok(x * y - workgroups < y, `${workgroups}: ${x} x ${y} wasteful`);
  }
  deepEqual(dispatchSize(65535, 65535), { x: 65535, y: 1 });
  deepEqual(dispatchSize(65536, 65535), { x: 32768, y: 2 });
  throws(() => dispatchSize(max * max + 1, max), RangeError);
  throws(() => dispatchSize(1.5, max), TypeError);
  throws(() => dispatchSize(-1, max), RangeError);
});

Deno.test("scoped() turns invalid WGSL into a KernelError naming the label", {
  ignore: !available,
}, async () => {
  try {
    const gpu = await getGpu();
    const error = await gpu.scoped("bad_kernel", () => {
      const module = gpu.device.createShaderModule({
        label: "bad wgsl",
        code: "@compute @workgroup_size(1) fn main() { let x: f32 = ; }",
      });
      gpu.device.createComputePipeline({
        label: "bad pipeline",
        layout: "auto",
        compute: { module, entryPoint: "main" },
      });
    }).then(() => undefined, (e) => e);
    ok(error instanceof KernelError);
    deepEqual(error.kernel, "bad_kernel");
    deepEqual(error.status, -1);
    ok(error.message.includes("bad_kernel"), error.message);
    // The scopes were popped: later work on the device is not blamed on this label.
    deepEqual(await gpu.scoped("fine", () => 42), 42);
    // Without a GPU error, fn's own error comes through unchanged.
    await rejects(() => gpu.scoped("fine", () => Promise.reject(new SyntaxError("x"))), {
      name: "SyntaxError",
    });
  } finally {
    await releaseGpu();
  }
});

Deno.test("BufferPool counts acquire, release and peak bytes exactly and reuses buffers", {
  ignore: !available,
}, async () => {
  try {
    const { pool } = await getGpu();
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    deepEqual(pool.stats(), { allocatedBytes: 0, inUseBytes: 0, peakBytes: 0, buffers: 0 });
    deepEqual(pool.bucketSize(0), 256);
    deepEqual(pool.bucketSize(257), 512);
    deepEqual(pool.bucketSize(2 ** 20), 2 ** 20);
    deepEqual(pool.bucketSize(2 ** 20 + 1), 2 ** 20 + 2 ** 17);

    const a = pool.acquire(1000, storage, "a");
    deepEqual(a.size, 1024);
    const b = pool.acquire(5000, storage, "b");
    deepEqual(b.size, 8192);
    deepEqual(pool.stats(), {
      allocatedBytes: 9216,
      inUseBytes: 9216,
      peakBytes: 9216,
      buffers: 2,
    });
    pool.release(a);
    deepEqual(pool.stats().inUseBytes, 8192);
    deepEqual(pool.stats().allocatedBytes, 9216);
    // Same bucket and usage: the released buffer comes back, nothing new is allocated.
    const again = pool.acquire(1024, storage, "again");
    ok(again === a);
    deepEqual(pool.stats().allocatedBytes, 9216);
    // Same bucket, other usage: a new buffer.
    const other = pool.acquire(1000, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, "other");
    ok(other !== a);
    deepEqual(pool.stats(), {
      allocatedBytes: 10240,
      inUseBytes: 10240,
      peakBytes: 10240,
      buffers: 3,
    });
    throws(() => pool.release(gpuBufferNotFromPool()), TypeError);
    pool.release(again);
    throws(() => pool.release(again), TypeError);
    pool.release(other);
    pool.trim();
    deepEqual(pool.stats(), {
      allocatedBytes: 8192,
      inUseBytes: 8192,
      peakBytes: 10240,
      buffers: 1,
    });
    // After an out-of-memory error the pool must not hand a buffer out again.
    pool.purge();
    pool.release(b);
    deepEqual(pool.stats(), { allocatedBytes: 0, inUseBytes: 0, peakBytes: 10240, buffers: 0 });
    throws(
      () => pool.acquire(pool.device.limits.maxBufferSize + 1, storage, "huge"),
      RangeError,
    );
    throws(() => pool.acquire(1.5, storage, "frac"), TypeError);
  } finally {
    await releaseGpu();
  }

  function gpuBufferNotFromPool(): GPUBuffer {
    return { label: "foreign", size: 256, usage: 1 } as unknown as GPUBuffer;
  }
});

Deno.test("PipelineCache compiles once per override set and the pipeline runs", {
  ignore: !available,
}, async () => {
  try {
    const gpu = await getGpu();
    const first = await gpu.pipelines.get(FILL, { WG: 64, SCALE: 3 });
    deepEqual(gpu.pipelines.stats(), { hits: 0, misses: 1, pipelines: 1 });
    ok(first === await gpu.pipelines.get(FILL, { SCALE: 3, WG: 64 }));
    deepEqual(gpu.pipelines.stats(), { hits: 1, misses: 1, pipelines: 1 });
    const second = await gpu.pipelines.get(FILL, { WG: 32, SCALE: 3 });
    ok(second !== first);
    deepEqual(gpu.pipelines.stats(), { hits: 1, misses: 2, pipelines: 2 });
    deepEqual(first.label, "test_fill{SCALE=3,WG=64}");

    throws(() => gpu.pipelines.get(FILL, { WG: 64 }), TypeError);
    throws(() => gpu.pipelines.get(FILL, { WG: 64, SCALE: 1, EXTRA: 2 }), TypeError);
    const broken = { ...FILL, name: "test_broken", wgsl: FILL.wgsl.replace("id.x *", "id.x **") };
    await rejects(() => gpu.pipelines.get(broken, { WG: 64, SCALE: 1 }), KernelError);
    // A failed compilation is not cached.
    deepEqual(gpu.pipelines.stats().pipelines, 2);
    await rejects(
      () =>
        Promise.resolve(gpu.pipelines.get({ ...FILL, wgsl: FILL.wgsl + " " }, { WG: 1, SCALE: 1 })),
      TypeError,
    );

    const out = gpu.pool.acquire(100 * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, "out");
    try {
      const values = await gpu.scoped("test_fill", async () => {
        const encoder = gpu.device.createCommandEncoder({ label: "test_fill encoder" });
        const pass = encoder.beginComputePass({ label: "test_fill pass" });
        pass.setPipeline(second);
        pass.setBindGroup(
          0,
          gpu.device.createBindGroup({
            label: "test_fill bind group",
            layout: second.getBindGroupLayout(0),
            entries: [{ binding: 0, resource: { buffer: out, size: 400 } }],
          }),
        );
        pass.dispatchWorkgroups(Math.ceil(100 / 32));
        pass.end();
        gpu.device.queue.submit([encoder.finish()]);
        return new Uint32Array(await gpu.readBack(out, { byteOffset: 0, bytes: 400 }));
      });
      for (let i = 0; i < 100; i++) deepEqual(values[i], 3 * i);
    } finally {
      gpu.pool.release(out);
    }
  } finally {
    await releaseGpu();
  }
});

Deno.test("readBack() returns exactly the requested range and releases its staging buffer", {
  ignore: !available,
}, async () => {
  try {
    const gpu = await getGpu();
    const source = new Float32Array(257).map((_, i) => i * 0.5 - 7);
    const buffer = gpu.pool.acquire(
      source.byteLength,
      GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      "read-back source",
    );
    try {
      gpu.device.queue.writeBuffer(buffer, 0, source);
      const inUse = gpu.pool.stats().inUseBytes;
      deepEqual(
        new Float32Array(await gpu.readBack(buffer, { byteOffset: 0, bytes: source.byteLength })),
        source,
      );
      deepEqual(
        new Float32Array(await gpu.readBack(buffer, { byteOffset: 40, bytes: 12 })),
        source.slice(10, 13),
      );
      deepEqual((await gpu.readBack(buffer, { byteOffset: 8, bytes: 0 })).byteLength, 0);
      deepEqual(gpu.pool.stats().inUseBytes, inUse);
      await rejects(() => gpu.readBack(buffer, { byteOffset: 2, bytes: 4 }), RangeError);
      await rejects(
        () => gpu.readBack(buffer, { byteOffset: 0, bytes: buffer.size + 4 }),
        RangeError,
      );
      // A second read reuses the pooled staging buffer rather than allocating again.
      const allocated = gpu.pool.stats().allocatedBytes;
      await gpu.readBack(buffer, { byteOffset: 0, bytes: 16 });
      deepEqual(gpu.pool.stats().allocatedBytes, allocated);
    } finally {
      gpu.pool.release(buffer);
    }
    const noCopy = gpu.pool.acquire(16, GPUBufferUsage.STORAGE, "no COPY_SRC");
    try {
      await rejects(() => gpu.readBack(noCopy, { byteOffset: 0, bytes: 16 }), TypeError);
    } finally {
      gpu.pool.release(noCopy);
    }
  } finally {
    await releaseGpu();
  }
});

Deno.test("getGpu() opens a new working device after the device is lost", {
  ignore: !available,
}, async () => {
  try {
    const lost = await getGpu();
    lost.device.destroy();
    await lost.device.lost;
    deepEqual(lost.lost?.reason, "destroyed");
    await rejects(() => lost.scoped("after loss", () => 1), BackendUnavailableError);
    const fresh = await getGpu();
    ok(fresh !== lost);
    const buffer = fresh.pool.acquire(8, GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, "x");
    try {
      fresh.device.queue.writeBuffer(buffer, 0, new Uint32Array([11, 13]));
      deepEqual([...new Uint32Array(await fresh.readBack(buffer, { bytes: 8 }))], [11, 13]);
    } finally {
      fresh.pool.release(buffer);
    }
  } finally {
    await releaseGpu();
  }
});

/** Runs a script in a fresh `deno` with `PRISM_WEBGPU=off` and returns what it printed. */
async function runWithWebgpuOff(permissions: string[]): Promise<Record<string, unknown>> {
  const deviceUrl = new URL("../gpu/device.ts", import.meta.url).href;
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      `import { getGpu, gpuStatus, releaseGpu } from ${JSON.stringify(deviceUrl)};
       const status = await gpuStatus();
       const error = await getGpu().then(() => undefined, (e) => e);
       await releaseGpu();
       console.log(JSON.stringify({ status, name: error?.name, backend: error?.backend,
         message: error?.message }));`,
    );
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...permissions, script],
      env: { PRISM_WEBGPU: "off", XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(stderr);
    deepEqual(code, 0, err);
    const lines = new TextDecoder().decode(stdout).trim().split("\n");
    return JSON.parse(lines[lines.length - 1]);
  } finally {
    await Deno.remove(script);
  }
}

Deno.test("PRISM_WEBGPU=off makes gpuStatus() unavailable and getGpu() throw", async () => {
  const result = await runWithWebgpuOff(["--allow-env=PRISM_WEBGPU"]);
  const reported = result.status as { available: boolean; reason: string };
  deepEqual(reported.available, false);
  ok(reported.reason.includes("PRISM_WEBGPU=off"), reported.reason);
  deepEqual(result.name, "BackendUnavailableError");
  deepEqual(result.backend, "webgpu");
  ok(String(result.message).includes("PRISM_WEBGPU=off"), String(result.message));
});

Deno.test("gpuStatus() does not throw when --allow-env is missing", async () => {
  // Without permission the variable cannot be read, so it counts as unset: the probe goes on.
  const result = await runWithWebgpuOff([]);
  const reported = result.status as { available: boolean; reason?: string };
  ok(!(reported.reason ?? "").includes("PRISM_WEBGPU"), reported.reason);
});
