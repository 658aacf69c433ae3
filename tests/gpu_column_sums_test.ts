import { deepEqual, ok, rejects } from "node:assert/strict";
import { AbortedError } from "../core/errors.ts";
import type { Matrix } from "../core/types.ts";
import { getGpu, gpuStatus, releaseGpu } from "../gpu/device.ts";
import { gpuColumnSums as hostColumnSums, type GpuColumnSumsOptions } from "../gpu/column_sums.ts";
import type { MatrixInput } from "../gpu/upload.ts";
import { COLUMN_SUMS_PROGRAM, columnSumsOverrides } from "../gpu/programs/column_sums.ts";
import { assertColumnSums } from "./_helpers.ts";
import { uniform } from "../synth/uniform.ts";

// Checked once: every GPU test below is skipped, with this reason printed, when there is no adapter.
const status = await gpuStatus();
await releaseGpu();
const available = status.available;
if (!status.available) console.log(`GPU tests skipped: ${status.reason}`);

function matrix(rows: number, cols: number, value: (r: number, c: number) => number): Matrix {
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = value(r, c);
  return { data, rows, cols };
}

/** The host with this suite's operation name. */
function gpuColumnSums(
  m: MatrixInput,
  options: Omit<GpuColumnSumsOptions, "operation"> = {},
): Promise<Float64Array> {
  return hostColumnSums(m, { operation: "gpuColumnSums test", ...options });
}

/** |gpu - ref| <= 1e-5 * sum |x| per column: relative error, robust to cancellation. */
function assertClose(actual: Float64Array, m: Matrix, what: string): void {
  assertColumnSums(actual, m.data, m.cols, 1e-5, what);
}

Deno.test("gpuColumnSums() matches float64 reference at sizes 0, 1, 7 and 257", {
  ignore: !available,
}, async () => {
  try {
    const next = uniform(1, { lo: 0, hi: 1 });
    for (const rows of [0, 1, 7, 257]) {
      for (const cols of [0, 1, 7, 257]) {
        const m = matrix(rows, cols, () => next() * 2 - 1);
        assertClose(await gpuColumnSums(m), m, `${rows}x${cols}`);
      }
    }
  } finally {
    await releaseGpu();
  }
});

Deno.test("gpuColumnSums() keeps 1e-5 relative accuracy on data offset by 1000", {
  ignore: !available,
}, async () => {
  try {
    const next = uniform(2, { lo: 0, hi: 1 });
    // 5003 rows span several row blocks for every tile shape; 1 and 64 columns take the narrowest
    // and the widest workgroup, 67 a partial second column tile.
    for (const cols of [1, 13, 64, 67]) {
      const m = matrix(5003, cols, () => 1000 + next());
      assertClose(await gpuColumnSums(m), m, `5003x${cols} offset 1000`);
    }
  } finally {
    await releaseGpu();
  }
});

Deno.test("gpuColumnSums() sums each column separately on column-dependent data", {
  ignore: !available,
}, async () => {
  try {
    // Column c holds r * (c + 1) - c: any mix-up of columns or rows changes a sum.
    const m = matrix(1031, 70, (r, c) => r * (c + 1) - c);
    assertClose(await gpuColumnSums(m), m, "1031x70 ramp");
    // Large values of alternating sign: the sums cancel to almost nothing.
    const next = uniform(3, { lo: 0, hi: 1 });
    const cancel = matrix(2000, 5, (r) => (r % 2 === 0 ? 1 : -1) * (1e6 + next()));
    assertClose(await gpuColumnSums(cancel), cancel, "2000x5 cancellation");
  } finally {
    await releaseGpu();
  }
});

Deno.test("gpuColumnSums() in forced row chunks equals the one-chunk result", {
  ignore: !available,
}, async () => {
  try {
    const next = uniform(4, { lo: 0, hi: 1 });
    const cols = 7;
    const m = matrix(2000, cols, () => 1000 + next() * 2 - 1);
    const whole = await gpuColumnSums(m);
    // Chunks that are whole row blocks produce the very same f32 partials, so the f64 totals
    // match bit for bit.
    const { WG_Y, ROWS_PER_LANE } = columnSumsOverrides(cols);
    const blockRows = WG_Y * ROWS_PER_LANE;
    const progress: number[] = [];
    const aligned = await gpuColumnSums(m, {
      chunkRows: blockRows,
      onProgress: (p) => progress.push(p.done),
    });
    deepEqual(aligned, whole);
    deepEqual(progress, [512, 1024, 1536, 2000]);
    // Chunks that cut row blocks still agree with the reference.
    assertClose(await gpuColumnSums(m, { chunkRows: 97 }), m, "chunkRows 97");
    assertClose(await gpuColumnSums(m, { chunkRows: 1999 }), m, "chunkRows 1999");
    const { pool } = await getGpu();
    deepEqual(pool.stats().inUseBytes, 0);
  } finally {
    await releaseGpu();
  }
});

Deno.test("gpuColumnSums() splits an input larger than one storage binding", {
  // 1.25 bindings of f32 data; skipped where a binding is so large the test would take GiBs.
  ignore: !available || !status.available || status.limits.maxStorageBufferBindingSize > 2 ** 28,
}, async () => {
  try {
    const binding = status.available ? status.limits.maxStorageBufferBindingSize : 0;
    const cols = 64;
    const rows = Math.ceil((binding * 1.25) / 4 / cols);
    const m = matrix(rows, cols, (r, c) => ((r * 7 + c) % 13) - 6 + 0.25);
    let chunks = 0;
    assertClose(await gpuColumnSums(m, { onProgress: () => chunks++ }), m, `${rows}x${cols}`);
    deepEqual(chunks, 2);
    const { pool } = await getGpu();
    // Each upload fits one binding: the pool never held more than a binding plus the partials.
    ok(pool.stats().peakBytes < binding * 1.2, `peak ${pool.stats().peakBytes} B`);
  } finally {
    await releaseGpu();
  }
});

Deno.test("gpuColumnSums() propagates NaN to its own column only", {
  ignore: !available,
}, async () => {
  try {
    const m = matrix(300, 3, (r, c) => (r === 150 && c === 1 ? NaN : 1));
    const sums = await gpuColumnSums(m);
    deepEqual([sums[0], sums[2]], [300, 300]);
    ok(Number.isNaN(sums[1]));
  } finally {
    await releaseGpu();
  }
});

Deno.test({
  name: "gpuColumnSums() rejects malformed input and stops when aborted",
  ignore: !available, // the host takes the device before it reads the input
}, async () => {
  try {
    const good = matrix(4, 2, () => 1);
    await rejects(
      () =>
        gpuColumnSums({ data: new Float64Array(8) as unknown as Float32Array, rows: 4, cols: 2 }),
      TypeError,
    );
    await rejects(() => gpuColumnSums({ data: new Float32Array(7), rows: 4, cols: 2 }), TypeError);
    await rejects(() => gpuColumnSums(good, { chunkRows: 0 }), RangeError);
    await rejects(() => gpuColumnSums(good, { chunkRows: 2.5 }), TypeError);
    const controller = new AbortController();
    controller.abort(new Error("user stop"));
    await rejects(() => gpuColumnSums(good, { signal: controller.signal }), AbortedError);
    deepEqual((await getGpu()).pool.stats().inUseBytes, 0);
  } finally {
    await releaseGpu();
  }
});

Deno.test("COLUMN_SUMS_PROGRAM declares exactly the overrides its WGSL uses", () => {
  // Override values live only in TypeScript: the WGSL declares them without defaults.
  const declared = [...COLUMN_SUMS_PROGRAM.wgsl.matchAll(/^\s*override\s+(\w+)\s*:\s*u32\s*;/gm)]
    .map((m) => m[1]).sort();
  deepEqual(declared, [...COLUMN_SUMS_PROGRAM.overrides].sort());
  deepEqual(Object.keys(columnSumsOverrides(5)).sort(), declared);
  ok(!/override\s+\w+\s*:\s*u32\s*=/.test(COLUMN_SUMS_PROGRAM.wgsl));
});
