import assert from "node:assert/strict";
import { InvalidDataError, KernelError } from "../core/errors.ts";
import { defaultPool, WorkerPool } from "../wasm/pool.ts";
import { columnSums64 } from "./_helpers.ts";
import { randomF32 } from "../synth/uniform.ts";

const TEST_WORKER = new URL("./_wasm_test_worker.ts", import.meta.url);

Deno.test("WorkerPool.run('column_sums') matches float64 reference and transfers the input", async () => {
  const pool = new WorkerPool({ size: 2 });
  try {
    const rows = 257, cols = 13;
    const data = randomF32(rows * cols, 7, { lo: -0.5, hi: 0.5 });
    const expected = columnSums64(data, cols).sums;
    const sums = await pool.run<Float64Array>("column_sums", { data, rows, cols }, {
      transfer: [data.buffer],
    });
    assert.equal(data.length, 0, "the input buffer was transferred, not copied");
    assert.ok(sums instanceof Float64Array);
    for (let c = 0; c < cols; c++) assert.ok(Math.abs(sums[c] - expected[c]) < 1e-4);
  } finally {
    pool.close();
  }
});

Deno.test("WorkerPool runs concurrent calls on all its workers", async () => {
  const pool = new WorkerPool({ size: 3, workerUrl: TEST_WORKER });
  try {
    assert.equal(pool.size, 3);
    const names = await Promise.all([1, 2, 3].map(() => pool.run<string>("test_whoami", null)));
    assert.equal(new Set(names).size, 3, `expected three workers, got ${names.join(", ")}`);
    // More calls than workers queue and still all complete.
    const many = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        pool.run<Float64Array>("column_sums", {
          data: new Float32Array([i, 1]),
          rows: 1,
          cols: 2,
        })),
    );
    assert.deepEqual(many.map((s) => s[0]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  } finally {
    pool.close();
  }
});

Deno.test("WorkerPool recreates a job's named error by class, fields included", async () => {
  const pool = new WorkerPool({ size: 1, workerUrl: TEST_WORKER });
  try {
    await assert.rejects(pool.run("test_throw_range", null), (e: Error) => {
      assert.ok(e instanceof RangeError);
      assert.match(e.message, /got 42/);
      return true;
    });
    await assert.rejects(pool.run("test_throw_invalid", null), (e: Error) => {
      assert.ok(e instanceof InvalidDataError);
      assert.deepEqual(e.position, { row: 3, col: 1 });
      return true;
    });
    await assert.rejects(pool.run("test_throw_plain", null), (e: Error) => {
      assert.ok(e instanceof KernelError);
      assert.equal(e.kernel, "test_throw_plain");
      assert.match(e.message, /something odd happened/);
      return true;
    });
    await assert.rejects(pool.run("column_sums", { data: [1, 2], rows: 1, cols: 2 }), TypeError);
    await assert.rejects(pool.run("no_such_job", null), /unknown job "no_such_job"/);
    // A job error does not cost the worker.
    const before = await pool.run<string>("test_whoami", null);
    await assert.rejects(pool.run("test_throw_range", null), RangeError);
    assert.equal(await pool.run<string>("test_whoami", null), before);
  } finally {
    pool.close();
  }
});

Deno.test("WorkerPool rejects a trapping kernel with KernelError and replaces the worker", async () => {
  const pool = new WorkerPool({ size: 1, workerUrl: TEST_WORKER });
  try {
    const before = await pool.run<string>("test_whoami", null);
    await assert.rejects(pool.run("test_trap", null), (e: Error) => {
      assert.ok(e instanceof KernelError, `got ${e}`);
      assert.equal(e.kernel, "test_trap");
      assert.equal(e.status, -1);
      assert.match(e.message, /trapped \(.*out of bounds/);
      return true;
    });
    const after = await pool.run<string>("test_whoami", null);
    assert.notEqual(after, before, "the trapped worker must be replaced");
    const sums = await pool.run<Float64Array>("column_sums", {
      data: new Float32Array([2, 3]),
      rows: 1,
      cols: 2,
    });
    assert.deepEqual(Array.from(sums), [2, 3]);
  } finally {
    pool.close();
  }
});

Deno.test("WorkerPool survives a crashed worker and serves the next call", async () => {
  const pool = new WorkerPool({ size: 1, workerUrl: TEST_WORKER });
  try {
    await assert.rejects(pool.run("test_crash", null), (e: Error) => {
      assert.ok(e instanceof KernelError);
      assert.equal(e.kernel, "test_crash");
      assert.match(e.message, /worker crashed on purpose/);
      return true;
    });
    const sums = await pool.run<Float64Array>("column_sums", {
      data: new Float32Array([5]),
      rows: 1,
      cols: 1,
    });
    assert.equal(sums[0], 5);
  } finally {
    pool.close();
  }
});

Deno.test("WorkerPool.close() rejects waiting calls and later calls", async () => {
  const pool = new WorkerPool({ size: 1, workerUrl: TEST_WORKER });
  const pending = pool.run("test_whoami", null);
  pool.close();
  await assert.rejects(pending, /closed WorkerPool/);
  await assert.rejects(pool.run("test_whoami", null), /was closed/);
});

Deno.test("WorkerPool rejects bad options and job names", async () => {
  assert.throws(() => new WorkerPool({ size: 0 }), RangeError);
  assert.throws(() => new WorkerPool({ size: 1.5 }), TypeError);
  assert.throws(() => new WorkerPool({ idleMs: -1 }), RangeError);
  const pool = new WorkerPool({ size: 1 });
  await assert.rejects(pool.run(42 as unknown as string, null), TypeError);
  pool.close();
});

Deno.test("defaultPool() is shared, sized to the machine, and renewed after close()", () => {
  const pool = defaultPool();
  assert.equal(defaultPool(), pool);
  assert.equal(pool.size, navigator.hardwareConcurrency);
  pool.close();
  const next = defaultPool();
  assert.notEqual(next, pool);
  next.close();
});

Deno.test("a process that uses the pool and never calls close() exits by itself", async () => {
  const script = new URL("./_wasm_pool_exit_script.ts", import.meta.url);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-read", script.pathname],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // A guard against a hang, not a timing assertion: the child should end within a second.
  const guard = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    const { code, signal, stdout, stderr } = await child.output();
    assert.equal(signal, null, "the child had to be killed: idle workers kept it alive");
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.equal(new TextDecoder().decode(stdout).trim(), "[5,7,9]");
  } finally {
    clearTimeout(guard);
  }
});
