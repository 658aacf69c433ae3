import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { columnSums } from "../wasm/column_sums.ts";
import { loadKernels } from "../wasm/loader.ts";

/** Float64 column sums, written independently of the kernel's blocking. */
function reference(data: Float32Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(cols);
  for (let i = 0; i < rows * cols; i++) out[i % cols] += data[i];
  return out;
}

function seeded(n: number, seed: number, offset = 0): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = offset + (s / 2 ** 32 - 0.5) * 2;
  }
  return out;
}

function assertClose(got: Float64Array, want: Float64Array, data: Float32Array, relTol: number) {
  assert.equal(got.length, want.length);
  const cols = want.length;
  const scale = new Float64Array(cols);
  for (let i = 0; i < data.length; i++) scale[i % cols] += Math.abs(data[i]);
  for (let c = 0; c < cols; c++) {
    const err = Math.abs(got[c] - want[c]);
    assert.ok(err <= relTol * scale[c] + 1e-30, `column ${c}: got ${got[c]}, want ${want[c]}`);
  }
}

const SIZES = [0, 1, 7, 257];

Deno.test("columnSums() matches float64 reference for rows and cols in 0, 1, 7, 257", async () => {
  const kernels = await loadKernels();
  for (const rows of SIZES) {
    for (const cols of [...SIZES, 4, 32, 37]) {
      const data = seeded(rows * cols, rows * 1000 + cols);
      const got = columnSums(kernels, { data, rows, cols });
      assertClose(got, reference(data, rows, cols), data, 1e-6);
    }
  }
  assert.equal(kernels.memory().inUseBytes, 0, "columnSums() must free its buffers");
});

Deno.test("columnSums() keeps precision on 1000003 rows offset by 1000", async () => {
  const kernels = await loadKernels();
  const rows = 1_000_003, cols = 3;
  const data = seeded(rows * cols, 99, 1000);
  const want = reference(data, rows, cols);
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
