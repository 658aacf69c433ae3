import assert from "node:assert";
import { measure, ratio, summarise } from "../harness/timing.ts";

Deno.test("summarise: median, extremes and interquartile spread of odd and even counts", () => {
  assert.deepStrictEqual(
    { ...summarise([7]), samples: undefined },
    { samples: undefined, medianMs: 7, minMs: 7, maxMs: 7, spreadMs: 0 },
  );
  const even = summarise([4, 1, 3, 2]);
  assert.strictEqual(even.medianMs, 2.5);
  assert.strictEqual(even.spreadMs, 1.5); // 3.25 - 1.75
  assert.deepStrictEqual(even.samples, [4, 1, 3, 2]); // order kept
});

Deno.test("summarise refuses no samples and non-finite ones", () => {
  assert.throws(() => summarise([]), /at least one sample/);
  assert.throws(() => summarise([1, NaN]), /not a finite time: NaN/);
});

Deno.test("measure: warm-ups are not timed, sync runs inside each timed run", async () => {
  const events: string[] = [];
  let n = 0;
  const t = await measure(() => {
    events.push(`run${n++}`);
  }, {
    warmup: 2,
    iterations: 3,
    sync: () => events.push("sync"),
  });
  assert.strictEqual(t.samples.length, 3);
  assert.deepStrictEqual(events, [
    "run0",
    "sync",
    "run1",
    "sync",
    "run2",
    "sync",
    "run3",
    "sync",
    "run4",
    "sync",
  ]);
});

Deno.test("measure times awaited work, stops on a signal, refuses bad counts", async () => {
  const slow = await measure(() => new Promise((r) => setTimeout(r, 20)), {
    warmup: 0,
    iterations: 2,
  });
  assert(slow.minMs >= 15, `a 20 ms timer measured ${slow.minMs} ms`);
  const controller = new AbortController();
  let runs = 0;
  const stopped = await measure(() => {
    if (++runs === 3) controller.abort();
  }, { warmup: 1, iterations: 10, signal: controller.signal });
  assert.strictEqual(stopped.samples.length, 2);
  controller.abort();
  await assert.rejects(
    measure(() => {}, { signal: controller.signal }),
    /stopped before any timed run/,
  );
  await assert.rejects(measure(() => {}, { iterations: 0 }), /iterations must be an integer ≥ 1/);
  await assert.rejects(measure(() => {}, { warmup: -1 }), /warmup must be an integer ≥ 0/);
  await assert.rejects(measure(() => {}, { warmupMs: NaN }), /warmupMs must be a finite number/);
});

Deno.test("measure warms up for warmupMs after its warm-up runs, and counts no warm-up run", async () => {
  let calls = 0;
  const t = await measure(async () => {
    calls++;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }, { warmup: 1, warmupMs: 30, iterations: 2 });
  assert.strictEqual(t.samples.length, 2);
  // Each run sleeps at least 2 ms, so 30 ms of warm-up take at most 15 runs, and more than the
  // one asked for.
  const warmupRuns = calls - 2;
  assert(warmupRuns > 1 && warmupRuns <= 15, `got ${warmupRuns} warm-up runs`);
});

Deno.test("ratio is prism ÷ peer, undefined without a peer, refuses zero and NaN", () => {
  assert.strictEqual(ratio(30, 60), 0.5);
  assert.strictEqual(ratio(30, undefined), undefined);
  assert.throws(() => ratio(0, 1), /prism time must be finite and positive/);
  assert.throws(() => ratio(1, NaN), /peer time must be finite and positive/);
});
