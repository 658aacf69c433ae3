/**
 * The runner and device-resident storage on WebGPU (the software adapter in CI): chained work
 * submits once and reads back once, GPU matrices are bound in place, program descriptions agree
 * with their WGSL. Skipped, with the reason printed, when there is no adapter.
 */

import { deepEqual, ok, rejects, throws } from "node:assert/strict";
import type { Matrix } from "../core/types.ts";
import { gpuColumnSums } from "../gpu/column_sums.ts";
import { getGpu, gpuStatus, releaseGpu } from "../gpu/device.ts";
import { gpuGram } from "../gpu/gram.ts";
import { gpuMatmul } from "../gpu/matmul.ts";
import { COLUMN_SUMS_PROGRAM } from "../gpu/programs/column_sums.ts";
import { MAHALANOBIS_PROGRAM } from "../gpu/programs/mahalanobis.ts";
import { MATMUL_PROGRAM } from "../gpu/programs/matmul.ts";
import { SYRK_PROGRAM } from "../gpu/programs/syrk.ts";
import { record } from "../gpu/run.ts";
import { gpuRxScore } from "../gpu/rx_score.ts";
import { type GpuMatrix, GpuStorage } from "../gpu/storage.ts";
import type { GpuProgram } from "../gpu/types.ts";
import { randomMatrix } from "../synth/uniform.ts";

const status = await gpuStatus();
await releaseGpu();
const ignore = !status.available;
if (!status.available) console.log(`GPU runner tests skipped: ${status.reason}`);
const operation = "gpu_run test";

function toGpu(m: Matrix, storage: GpuStorage): GpuMatrix {
  return { storage, rows: m.rows, cols: m.cols };
}

/** Row-major float64 product of two plain matrices. */
function product(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number) {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      for (let j = 0; j < n; j++) c[i * n + j] += a[i * k + p] * b[p * n + j];
    }
  }
  return c;
}

Deno.test("a chain of three matmuls submits once and reads back once", { ignore }, async () => {
  try {
    const gpu = await getGpu();
    const a = randomMatrix(13, 7, { seed: 1 });
    const b = randomMatrix(7, 257, { seed: 2 });
    const c = randomMatrix(257, 5, { seed: 3 });
    const d = randomMatrix(5, 13, { seed: 4 });
    gpu.stats.reset();
    const ab = await gpuMatmul({ a, b }, { operation });
    const abc = await gpuMatmul({ a: ab, b: c }, { operation });
    const abcd = await gpuMatmul({ a: abc, b: d }, { operation });
    deepEqual([gpu.stats.submits, gpu.stats.readBacks], [0, 0]);
    const got = await abcd.storage.read();
    deepEqual({ ...gpu.stats }, { submits: 1, readBacks: 1, uploads: 4 });
    const ref = product(
      product(product(a.data, b.data, 13, 7, 257), c.data, 13, 257, 5),
      d.data,
      13,
      5,
      13,
    );
    const scale = Math.max(...ref.map(Math.abs));
    for (let i = 0; i < ref.length; i++) ok(Math.abs(got[i] - ref[i]) < 1e-5 * scale, `at ${i}`);
    for (const m of [ab, abc, abcd]) m.storage.free();
    deepEqual(gpu.pool.stats().inUseBytes, 0);
  } finally {
    await releaseGpu();
  }
});

Deno.test("RX scores left on the device feed a matmul: one submit, one read-back", {
  ignore,
}, async () => {
  try {
    const gpu = await getGpu();
    const x = randomMatrix(300, 6, { seed: 5 });
    const w = new Float64Array(6 * 3).map((_, i) => ((i * 7) % 5) / 5 - 0.4);
    const options = { operation, mean: new Float64Array(6).fill(0.1), w, rank: 3 };
    const host = await gpuRxScore(x, options);
    gpu.stats.reset();
    const scores = await gpuRxScore(x, { ...options, output: "device" });
    deepEqual([scores.rows, scores.cols], [300, 1]);
    // sᵀs: the sum of squared scores, computed on the device from the device scores.
    const norm = await gpuMatmul({ a: scores, b: scores }, { operation, transposeA: true });
    const [value] = await norm.storage.read();
    deepEqual([gpu.stats.submits, gpu.stats.readBacks, gpu.stats.uploads], [1, 1, 1]);
    const ref = host.reduce((s, v) => s + v * v, 0);
    ok(Math.abs(value - ref) < 1e-5 * ref, `${value} vs ${ref}`);
    deepEqual(await scores.storage.read(), host);
    scores.storage.free();
    norm.storage.free();
    deepEqual(gpu.pool.stats().inUseBytes, 0);
  } finally {
    await releaseGpu();
  }
});

Deno.test("a GPU matrix fed to three hosts is uploaded once and gives the plain results", {
  ignore,
}, async () => {
  try {
    const gpu = await getGpu();
    const m = randomMatrix(1000, 7, { seed: 6, lo: 999, hi: 1001 });
    const shift = new Float32Array(7).fill(1000);
    const rx = {
      operation,
      mean: new Float64Array(7).fill(1000),
      w: new Float64Array(49),
      rank: 7,
    };
    for (let i = 0; i < 7; i++) rx.w[i * 7 + i] = 1;
    const plain = {
      sums: await gpuColumnSums(m, { operation }),
      gram: await gpuGram(m, { operation, shift }),
      scores: await gpuRxScore(m, rx),
    };
    gpu.stats.reset();
    const storage = GpuStorage.fromArray(gpu, m.data);
    const g = toGpu(m, storage);
    const onDevice = {
      sums: await gpuColumnSums(g, { operation }),
      gram: await gpuGram(g, { operation, shift }),
      scores: await gpuRxScore(g, rx),
    };
    deepEqual(gpu.stats.uploads, 1);
    deepEqual(gpu.stats.readBacks, 3);
    // Same chunks, same f32 partials: bit for bit.
    deepEqual(onDevice, plain);
    storage.free();
    deepEqual(gpu.pool.stats().inUseBytes, 0);
  } finally {
    await releaseGpu();
  }
});

Deno.test("GPU matrices in row chunks: aligned offsets bound in place, others copied", {
  ignore,
}, async () => {
  try {
    const gpu = await getGpu();
    const m = randomMatrix(2000, 7, { seed: 7 });
    const storage = GpuStorage.fromArray(gpu, m.data);
    const g = toGpu(m, storage);
    const whole = await gpuColumnSums(m, { operation });
    // 512 rows (one row block) of 7 columns start at multiples of 14336 bytes: aligned.
    deepEqual(await gpuColumnSums(g, { operation, chunkRows: 512 }), whole);
    // 97-row chunks start at misaligned offsets: copied by row range, same sums to rounding.
    const cut = await gpuColumnSums(g, { operation, chunkRows: 97 });
    for (let c = 0; c < 7; c++) ok(Math.abs(cut[c] - whole[c]) < 1e-4, `column ${c}`);
    const ref = await gpuGram(m, { operation });
    const chunked = await gpuGram(g, { operation, chunkRows: 97 });
    for (let i = 0; i < 49; i++) ok(Math.abs(chunked.gram[i] - ref.gram[i]) < 1e-3, `gram ${i}`);
    const rx = { operation, mean: new Float64Array(7), w: new Float64Array(7).fill(1), rank: 1 };
    const scores = await gpuRxScore(m, rx);
    // 97 is rounded down to whole 256-byte offsets of the score buffer.
    deepEqual(await gpuRxScore(g, { ...rx, chunkRows: 97 }), scores);
    const onDevice = await gpuRxScore(g, { ...rx, chunkRows: 97, output: "device" });
    deepEqual(await onDevice.storage.read(), scores);
    onDevice.storage.free();
    storage.free();
    await rejects(() => gpuGram(g, { operation }), TypeError);
    deepEqual(gpu.pool.stats().inUseBytes, 0);
  } finally {
    await releaseGpu();
  }
});

Deno.test("GpuStorage refuses what one buffer cannot hold and frees once", { ignore }, async () => {
  try {
    const gpu = await getGpu();
    const max = gpu.limits.maxBufferSize;
    throws(() => GpuStorage.allocate(gpu, Math.floor(max / 4) + 1), /maxBufferSize is \d+/);
    gpu.stats.reset();
    const s = GpuStorage.fromArray(gpu, new Float32Array([1, 2, 3]));
    deepEqual({ ...gpu.stats }, { submits: 0, readBacks: 0, uploads: 1 });
    deepEqual(Array.from(await s.read()), [1, 2, 3]);
    deepEqual({ ...gpu.stats }, { submits: 1, readBacks: 1, uploads: 1 });
    s.free();
    s.free();
    await rejects(() => s.read(), /freed/);
    deepEqual(gpu.pool.stats().inUseBytes, 0);
    // Storage outliving its device frees without error.
    const orphan = GpuStorage.allocate(gpu, 4);
    await releaseGpu();
    orphan.free();
    ok(orphan.freed);
  } finally {
    await releaseGpu();
  }
});

Deno.test("readRanges() reads several ranges in one submit and one map", { ignore }, async () => {
  try {
    const gpu = await getGpu();
    const a = GpuStorage.fromArray(gpu, new Float32Array([1, 2, 3, 4]));
    const b = GpuStorage.fromArray(gpu, new Float32Array([5, 6]));
    gpu.stats.reset();
    const [x, y, z] = await gpu.readRanges([
      { buffer: a.buffer, byteOffset: 4, bytes: 8 },
      { buffer: b.buffer, bytes: 8 },
      { buffer: a.buffer, bytes: 0 },
    ]);
    deepEqual([Array.from(new Float32Array(x)), Array.from(new Float32Array(y)), z.byteLength], [
      [2, 3],
      [5, 6],
      0,
    ]);
    deepEqual([gpu.stats.submits, gpu.stats.readBacks], [1, 1]);
    a.free();
    b.free();
  } finally {
    await releaseGpu();
  }
});

Deno.test("record() checks every storage binding is given, and only those", {
  ignore,
}, async () => {
  try {
    const gpu = await getGpu();
    const s = GpuStorage.allocate(gpu, 16);
    const run = {
      program: COLUMN_SUMS_PROGRAM,
      overrides: { WG_X: 1, WG_Y: 256, ROWS_PER_LANE: 16 },
      shapes: { rows: 4, cols: 1 },
    };
    await rejects(
      () => record(gpu, [{ ...run, buffers: { matrix: { buffer: s.buffer } } }]),
      /partials/,
    );
    await rejects(
      () =>
        record(gpu, [{
          ...run,
          buffers: {
            matrix: { buffer: s.buffer },
            partials: { buffer: s.buffer },
            extra: { buffer: s.buffer },
          },
        }]),
      /no storage binding "extra"/,
    );
    deepEqual(gpu.stats.submits, 0);
    s.free();
  } finally {
    await releaseGpu();
  }
});

Deno.test("every program's bindings match its WGSL, in order, and its dispatch is pure", () => {
  // deno-lint-ignore no-explicit-any
  const programs: GpuProgram<any>[] = [
    COLUMN_SUMS_PROGRAM,
    SYRK_PROGRAM,
    MAHALANOBIS_PROGRAM,
    MATMUL_PROGRAM,
  ];
  for (const p of programs) {
    const declared = [
      ...p.wgsl.matchAll(/@group\(0\) @binding\((\d+)\) var<(\w+)(?:, (\w+))?> (\w+)/g),
    ]
      .map((m) => ({ index: Number(m[1]), type: m[2], access: m[3], name: m[4] }));
    deepEqual(declared.map((d) => d.index), p.bindings.map((_, i) => i), p.name);
    deepEqual(
      declared.map(({ type, access, name }) => ({ type, access, name })),
      p.bindings.map(({ type, access, name }) => ({ type, access, name })),
      p.name,
    );
    const overrides = [...p.wgsl.matchAll(/^\s*override\s+(\w+)\s*:\s*u32\s*;/gm)].map((m) => m[1]);
    deepEqual(overrides.sort(), [...p.overrides].sort(), p.name);
  }
  const limits = { maxComputeWorkgroupsPerDimension: 10 };
  const shapes = { m: 17, n: 33, k: 5, transposeA: false, transposeB: true };
  // 2 x 3 tiles of 16, laid out within 10 per dimension.
  deepEqual(MATMUL_PROGRAM.dispatch(shapes, limits), { workgroups: 6, x: 6, y: 1 });
  deepEqual(Array.from(MATMUL_PROGRAM.params(shapes)), [17, 33, 5, 0, 1, 3, 6, 0]);
  deepEqual(MAHALANOBIS_PROGRAM.dispatch({ rows: 64 * 25, cols: 3, k: 2 }, limits), {
    workgroups: 25,
    x: 9,
    y: 3,
  });
  throws(() => COLUMN_SUMS_PROGRAM.dispatch({ rows: 512 * 101, cols: 7 }, limits), RangeError);
});
