/**
 * `covariance()`, `gram()` and `gpuGram()` on WebGPU (the software adapter in CI), against float64
 * references. Skipped, with the reason printed, when there is no adapter.
 */

import { deepStrictEqual, ok } from "node:assert";
import { getGpu, gpuStatus, releaseGpu } from "../gpu/device.ts";
import { gpuGram } from "../gpu/gram.ts";
import { SYRK_OVERRIDES, SYRK_PROGRAM } from "../gpu/programs/syrk.ts";
import { covariance } from "../ops/covariance.ts";
import { gram } from "../ops/gram.ts";
import {
  COLS,
  matrix,
  random,
  reference,
  referenceGram,
  relError,
  ROWS,
  transpose,
} from "./_covariance_helpers.ts";

const status = await gpuStatus();
await releaseGpu();
const ignore = !status.available;
if (!status.available) console.log(`GPU covariance tests skipped: ${status.reason}`);
const gpu = { backend: "webgpu" } as const;

Deno.test("covariance() on webgpu matches float64 reference for rows 2..1000, cols 1..67", {
  ignore,
}, async () => {
  try {
    const next = random(21);
    for (const rows of ROWS) {
      for (const cols of COLS) {
        const m = matrix(rows, cols, () => next() * 2 - 1);
        const r = await covariance(m, gpu);
        deepStrictEqual(r.backend, "webgpu");
        ok(relError(r.covariance, reference(m).cov) < 1e-5, `${rows}x${cols}`);
      }
    }
  } finally {
    await releaseGpu();
  }
});

Deno.test("covariance() on webgpu keeps 1e-5 on offset data, constant bands and streams", {
  ignore,
}, async () => {
  try {
    const next = random(22);
    const m = matrix(9001, 50, (_, c) => (c === 7 ? 4242.5 : 1000 + next() * 2 - 1));
    const r = await covariance(m, gpu);
    ok(
      relError(r.covariance, reference(m).cov) < 1e-5,
      `${relError(r.covariance, reference(m).cov)}`,
    );
    for (let j = 0; j < 50; j++) deepStrictEqual(r.covariance[7 * 50 + j], 0);
    const parts = async function* () {
      for (let r0 = 0; r0 < 9001; r0 += 3000) {
        const r1 = Math.min(9001, r0 + 3000);
        yield { data: m.data.subarray(r0 * 50, r1 * 50), rows: r1 - r0, cols: 50 };
      }
    };
    const s = await covariance(parts(), gpu);
    ok(relError(s.covariance, reference(m).cov) < 1e-5);
  } finally {
    await releaseGpu();
  }
});

Deno.test("gram() on webgpu: side rows for wide matrices, and row chunks", {
  ignore,
}, async () => {
  try {
    const next = random(23);
    const w = matrix(19, 1001, () => next() - 0.5);
    const g = await gram(w, { ...gpu, side: "rows" });
    ok(relError(g.gram, referenceGram(transpose(w))) < 1e-6);
    const m = matrix(10_007, 21, () => next() - 0.5);
    const shift = new Float32Array(21).fill(0.25);
    const rowsPerGroup = SYRK_OVERRIDES.BLOCK_ROWS * SYRK_OVERRIDES.BLOCKS;
    let chunks = 0;
    const chunked = await gpuGram(m, {
      operation: "gram()",
      shift,
      chunkRows: rowsPerGroup,
      onProgress: () => chunks++,
    });
    deepStrictEqual(chunks, Math.ceil(10_007 / rowsPerGroup));
    const whole = await gpuGram(m, { operation: "gram()", shift });
    const ref = referenceGram(m, shift);
    const upper = (a: Float64Array) => a.map((v, k) => (k % 21 >= Math.floor(k / 21) ? v : 0));
    ok(relError(upper(chunked.gram), upper(ref)) < 1e-6);
    ok(relError(upper(whole.gram), upper(ref)) < 1e-6);
    deepStrictEqual((await getGpu()).pool.stats().inUseBytes, 0);
  } finally {
    await releaseGpu();
  }
});

Deno.test("SYRK_PROGRAM declares exactly the overrides its WGSL uses", () => {
  const declared = [...SYRK_PROGRAM.wgsl.matchAll(/^\s*override\s+(\w+)\s*:\s*u32\s*;/gm)]
    .map((m) => m[1]).sort();
  deepStrictEqual(declared, [...SYRK_PROGRAM.overrides].sort());
  deepStrictEqual(Object.keys(SYRK_OVERRIDES).sort(), declared);
});
