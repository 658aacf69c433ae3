/**
 * ShardState (ops/shard_state.ts) and its files (ops/_shard_file.ts): row shards merged equal one
 * pass (float64 references), the three finishes, and every refusal: band counts, operations,
 * selections, prism versions, a shard merged twice, overlapping ranges, corrupt states.
 * Also `CubeSource.chunks(maxRows, range)`, which reads a shard of a file.
 *
 * @module
 */

import assert from "node:assert";
import { InvalidDataError } from "../core/errors.ts";
import { CovarianceAccumulator } from "../ops/covariance_accumulator.ts";
import { RxDetector } from "../ops/rx.ts";
import { type ShardJson, type ShardOp, ShardState } from "../ops/shard_state.ts";
import { readShardFile, writeShardFile } from "../ops/_shard_file.ts";
import { openCubeSource } from "../io/cube_source.ts";
import { writeNpy } from "../io/npy.ts";
import { matrix, random, reference, relError } from "./_covariance_helpers.ts";
import { jacobiEigen } from "./_eigen_reference.ts";
import { hasH5py, inTempDir, listDir, python, rejectsWith, throwsWith } from "./_io_helpers.ts";
import type { Matrix } from "../core/types.ts";

/** The state of rows `[start, end)` of `m`, as a shard of `input` computes it. */
async function shardOf(
  m: Matrix,
  range: [number, number],
  options: { op?: ShardOp; input?: string; selection?: Record<string, string> } = {},
): Promise<ShardState> {
  const [start, end] = range;
  const acc = new CovarianceAccumulator(m.cols, { backend: "wasm" });
  const data = m.data.subarray(start * m.cols, end * m.cols);
  await acc.add({ data, rows: end - start, cols: m.cols });
  return ShardState.of(acc, {
    op: options.op ?? "cov",
    selection: options.selection,
    sources: [{ input: options.input ?? "/data/a.npy", rows: [start, end], host: "n1" }],
  });
}

/** `m` cut at `cuts` into shards, each through JSON (as a file would carry it), merged in order. */
async function mergedShards(m: Matrix, cuts: number[], op: ShardOp = "cov"): Promise<ShardState> {
  const edges = [0, ...cuts, m.rows];
  let merged: ShardState | undefined;
  for (let i = 0; i + 1 < edges.length; i++) {
    const s = await shardOf(m, [edges[i], edges[i + 1]], { op });
    const copy = await ShardState.fromJSON(JSON.parse(JSON.stringify(s)));
    merged = merged === undefined ? copy : merged.merge(copy);
  }
  return merged!;
}

/** Far from zero, so the shift matters; float32. */
function data(rows: number, cols: number, seed = 7): Matrix {
  const rnd = random(seed);
  return matrix(rows, cols, (r, c) => 1000 + (c + 1) * (rnd() - 0.5) + (r % 3) * 0.25);
}

Deno.test("row shards merged equal the float64 covariance of all rows (odd sizes)", async () => {
  for (const [rows, cols, cuts] of [[2, 1, [1]], [7, 3, [0, 3, 3, 5]], [257, 13, [1, 128, 131]]]) {
    const m = data(rows as number, cols as number);
    const ref = reference(m);
    const got = (await mergedShards(m, cuts as number[])).covariance();
    assert.strictEqual(got.count, rows);
    assert(relError(got.mean, ref.mean) < 1e-9, `mean ${rows}x${cols}`);
    // float32 products inside the kernels' blocks: ~1e-6 relative.
    assert(relError(got.covariance, ref.cov) < 2e-5, `covariance ${rows}x${cols}`);
  }
});

Deno.test("on small integers shards merge to one pass up to float64 rounding", async () => {
  const rnd = random(3);
  const m = matrix(211, 5, () => Math.floor(rnd() * 16));
  const one = new CovarianceAccumulator(5, { backend: "wasm" });
  await one.add(m);
  const merged = (await mergedShards(m, [13, 100, 101])).covariance();
  // The kernels are exact on small integers: only the float64 merge rounds.
  assert(relError(merged.covariance, one.result().covariance) < 1e-14);
  assert(relError(merged.mean, one.result().mean) < 1e-15);
});

Deno.test("rx-fit finishes into the detector a fit of all pixels gives", async () => {
  const m = data(131, 4, 11);
  const merged = await mergedShards(m, [60], "rx-fit");
  const rx = await merged.detector({ eps: 1e-6 });
  const whole = await new RxDetector().fit(m, { eps: 1e-6, backend: "wasm" });
  assert(relError(rx.stats.covariance, whole.stats.covariance) < 1e-5);
  const a = await rx.score(m), b = await whole.score(m);
  assert(relError(a, b) < 1e-4);
});

Deno.test("gram finishes into the singular values of the stacked pixels (float64 Jacobi)", async () => {
  for (const [rows, cols] of [[1, 3], [3, 3], [97, 6]]) {
    const m = data(rows, cols, rows);
    const cuts = rows > 1 ? [Math.floor(rows / 2)] : [];
    const s = await (await mergedShards(m, cuts, "gram")).singularValues();
    // Reference: √eig(XᵀX) in float64, XᵀX from the float32 values.
    const g = new Float64Array(cols * cols);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < cols; i++) {
        for (let j = 0; j < cols; j++) {
          g[i * cols + j] += m.data[r * cols + i] * m.data[r * cols + j];
        }
      }
    }
    const want = jacobiEigen(g, cols).values.map((v) => Math.sqrt(Math.max(v, 0)));
    assert.strictEqual(s.length, Math.min(rows, cols));
    for (let i = 0; i < s.length; i++) {
      assert(Math.abs(s[i] - want[i]) <= 1e-5 * want[0], `σ${i} of ${rows}x${cols}: ${s[i]}`);
    }
  }
});

Deno.test("merges that would be wrong are refused, naming the shards", async () => {
  const m = data(20, 3);
  const a = await shardOf(m, [0, 10]);
  const twice = await shardOf(m, [0, 10]);
  throwsWith(() => a.merge(twice), InvalidDataError, /a\.npy rows 0:10 .*same shard merged twice/);
  throwsWith(() => a.merge(twice), InvalidDataError, "computed on n1");
  const overlap = await shardOf(m, [9, 20]);
  throwsWith(
    () => a.merge(overlap),
    InvalidDataError,
    /rows 9:20 \(computed on n1\) overlaps shard \/data\/a\.npy rows 0:10/,
  );
  // The refused merge changed nothing.
  assert.strictEqual(a.count, 10);
  const other = await shardOf(data(20, 4), [10, 20]);
  throwsWith(() => a.merge(other), InvalidDataError, "4 and 3 bands");
  const rx = await shardOf(m, [10, 20], { op: "rx-fit" });
  throwsWith(() => a.merge(rx), InvalidDataError, "--op rx-fit, the other for --op cov");
  const picked = await shardOf(m, [10, 20], { selection: { nodata: "-1" } });
  throwsWith(() => a.merge(picked), InvalidDataError, "pixel selections differ");
  const json = (await shardOf(m, [10, 20])).toJSON();
  const old = await ShardState.fromJSON({ ...json, prism: "0.0.1" });
  throwsWith(() => a.merge(old), InvalidDataError, "prism 0.0.1 and");
  // The same rows of another file merge.
  const b = await shardOf(m, [0, 10], { input: "/data/b.npy" });
  assert.strictEqual(a.merge(b).sources.length, 2);
});

Deno.test("fromJSON refuses corrupt states with the field named", async () => {
  const good = (await shardOf(data(5, 2), [0, 5])).toJSON();
  const bad = (patch: Record<string, unknown>) => ({ ...good, ...patch }) as unknown as ShardJson;
  await rejectsWith(
    () => ShardState.fromJSON(bad({ format: "x" })),
    InvalidDataError,
    "prism.shard",
  );
  await rejectsWith(() => ShardState.fromJSON(bad({ version: 2 })), InvalidDataError, "version 2");
  await rejectsWith(() => ShardState.fromJSON(bad({ op: "pca" })), TypeError, "op must be");
  await rejectsWith(() => ShardState.fromJSON(bad({ bands: 3 })), InvalidDataError, "3 but");
  await rejectsWith(() => ShardState.fromJSON(bad({ sources: [] })), TypeError, "non-empty");
  await rejectsWith(
    () => ShardState.fromJSON(bad({ sources: [{ input: "a", rows: [5, 2] }] })),
    RangeError,
    "end is before the start",
  );
  await rejectsWith(
    () => ShardState.fromJSON(bad({ state: { ...good.state, m2: [1, 0, 0, -1] } })),
    InvalidDataError,
    "negative",
  );
  await rejectsWith(() => ShardState.fromJSON(bad({ prism: 1 })), TypeError, "state.prism");
});

Deno.test("state files round-trip exactly as JSON and HDF5 (h5py reads the HDF5)", async () => {
  await inTempDir(async (dir) => {
    const s = await mergedShards(data(41, 3), [17], "rx-fit");
    for (const ext of ["json", "h5"]) {
      await writeShardFile(`${dir}/s.${ext}`, s);
      const back = await readShardFile(`${dir}/s.${ext}`);
      assert.deepStrictEqual(back.toJSON(), s.toJSON());
    }
    assert.deepStrictEqual(await listDir(dir), ["s.h5", "s.json"]);
    if (hasH5py) {
      const out = await python(
        `import h5py, json, sys
f = h5py.File(sys.argv[1]); meta = json.loads(f.attrs["shard"])
print(json.dumps([f["m2"].shape, meta["op"], meta["sources"][0]["rows"], float(f["mean"][0])]))`,
        `${dir}/s.h5`,
      );
      const [shape, op, rows, mean0] = JSON.parse(out);
      assert.deepStrictEqual([shape, op, rows], [[3, 3], "rx-fit", [0, 17]]);
      assert.strictEqual(mean0, s.toJSON().state.mean[0]);
    }
    await Deno.writeTextFile(`${dir}/bad.json`, "{ not json");
    await rejectsWith(() => readShardFile(`${dir}/bad.json`), InvalidDataError, "bad.json");
  });
});

Deno.test("CubeSource.chunks(maxRows, range) reads exactly pixels start..end-1", async () => {
  await inTempDir(async (dir) => {
    const shapes = [[13, 3], [5, 7, 3], [3, 2, 5, 3]];
    for (const shape of shapes) {
      const n = shape.reduce((a, b) => a * b, 1);
      const values = new Float32Array(n).map((_, i) => i);
      await writeNpy(`${dir}/a.npy`, { data: values, shape });
      const layout = shape.length === 2 ? undefined : shape.length === 3 ? "hwc" : "nhwc";
      const src = await openCubeSource(`${dir}/a.npy`, { layout });
      for (const [start, end] of [[0, 0], [0, src.rows], [1, 2], [2, src.rows - 3], [7, 12]]) {
        for (const maxRows of [1, 4, 1000]) {
          const got: number[] = [];
          let at = start;
          for await (const c of src.chunks(maxRows, { start, end })) {
            assert.strictEqual(c.start, at);
            at += c.pixels;
            got.push(...c.data);
          }
          const want = [...values.subarray(start * 3, end * 3)];
          assert.deepStrictEqual(got, want, `${shape} ${start}:${end} by ${maxRows}`);
        }
      }
      await assert.rejects(
        async () => {
          for await (const _ of src.chunks(4, { start: 2, end: src.rows + 1 })) { /* none */ }
        },
        (e) => e instanceof RangeError && e.message.includes(`holds ${src.rows} pixels`),
      );
      src.close();
    }
  });
});
