import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { columnSums } from "../wasm/column_sums.ts";
import { loadKernels } from "../wasm/loader.ts";
import { assertColumnSums, columnSums64 } from "./_helpers.ts";
import { randomF32 } from "../synth/uniform.ts";

const SIZES = [0, 1, 7, 257];

Deno.test("columnSums() matches float64 reference for rows and cols in 0, 1, 7, 257", async () => {
  const kernels = await loadKernels();
  for (const rows of SIZES) {
    for (const cols of [...SIZES, 4, 32, 37]) {
      const data = randomF32(rows * cols, rows * 1000 + cols);
      const got = columnSums(kernels, { data, rows, cols });
      assertColumnSums(got, data, cols, 1e-6, `${rows}x${cols}`, 1e-30);
    }
  }
  assert.equal(kernels.memory().inUseBytes, 0, "columnSums() must free its buffers");
});

Deno.test("columnSums() keeps precision on 1000003 rows offset by 1000", async () => {
  const kernels = await loadKernels();
  const rows = 1_000_003, cols = 3;
  const data = randomF32(rows * cols, 99, { lo: 999, hi: 1001 });
  const want = columnSums64(data, cols).sums;
  const got = columnSums(kernels, { data, rows, cols });
  // A plain float32 running sum is off by about 1e-2 relative here; 256-row blocks stay near
  // float32 rounding of the block sums (about 1e-8 measured).
  for (let c = 0; c < cols; c++) {
    assert.ok(Math.abs(got[c] - want[c]) / want[c] < 1e-7, `column ${c}: ${got[c]} vs ${want[c]}`);
  }
  let naive = Math.fround(0);
  for (let r = 0; r < rows; r++) naive = Math.fround(naive + data[r * cols]);
  assert.ok(Math.abs(naive - want[0]) / want[0] > 1e-4, "the data must defeat a naive sum");
});

Deno.test("prism_column_sums_f32 adds to its output and keeps NaN in its own column", async () => {
  const k = await loadKernels();
  const data = new Float32Array([1, NaN, 3, Infinity, 5, 6, 7, 8, 9, 10]);
  const x = k.copyIn(data);
  const out = k.alloc(5 * 8);
  try {
    k.f64(out, 5).set([100, 0, 0, 0, 0]);
    k.check("prism_column_sums_f32", k.exports.prism_column_sums_f32(x, 2, 5, out));
    k.check("prism_column_sums_f32", k.exports.prism_column_sums_f32(x, 2, 5, out));
    const got = Array.from(k.f64(out, 5));
    assert.deepEqual(got, [100 + 2 * 7, NaN, 2 * 11, Infinity, 2 * 15]);
  } finally {
    k.free(x);
    k.free(out);
  }
});

Deno.test("prism_column_sums_f32 returns INVALID_ARGUMENT for overflowing sizes and null pointers", async () => {
  const k = await loadKernels();
  const out = k.alloc(64);
  try {
    const sums = k.exports.prism_column_sums_f32;
    assert.equal(sums(16, 0x4000_0000, 4, out), 1, "rows * cols * 4 overflows 32 bits");
    assert.throws(
      () => k.check("prism_column_sums_f32", sums(16, 0x4000_0000, 4, out)),
      (e: Error) => e instanceof KernelError && e.status === 1,
    );
    assert.equal(sums(0, 1, 4, out), 1, "null input");
    assert.equal(sums(16, 1, 4, 0), 1, "null output");
    assert.equal(sums(0, 0, 0, 0), 0, "an empty block needs no buffers");
  } finally {
    k.free(out);
  }
});

Deno.test("columnSums() rejects a malformed matrix with TypeError", async () => {
  const kernels = await loadKernels();
  assert.throws(
    () => columnSums(kernels, { data: new Float32Array(5), rows: 2, cols: 3 }),
    /rows \* cols = 2 \* 3 = 6/,
  );
  assert.throws(
    () => columnSums(kernels, { data: [1, 2] as unknown as Float32Array, rows: 1, cols: 2 }),
    TypeError,
  );
});
