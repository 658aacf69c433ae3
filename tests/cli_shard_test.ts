/**
 * `cli.ts shard` and `cli.ts merge`: row shards of a file (and shards of several files) merged and
 * finished equal `cli.ts cov` / RX / singular values of all pixels; RX scores per shard equal the
 * whole file's; bad input (flags, ranges, wrong merges) fails with a message naming the problem
 * and writes nothing.
 *
 * @module
 */

import assert from "node:assert";
import { RxDetector } from "../ops/rx.ts";
import { readNpy, writeNpy } from "../io/npy.ts";
import { synthCube } from "../synth/cube.ts";
import { inTempDir, listDir } from "./_io_helpers.ts";
import { runMain } from "./_cli_helpers.ts";
import { relError } from "./_covariance_helpers.ts";
import { jacobiEigen } from "./_eigen_reference.ts";

// 17 x 13 = 221 pixels of 5 bands: a prime number of lines and of pixels per line.
const { cube } = synthCube({ height: 17, width: 13, bands: 5, seed: 9 });
const PIXELS = 17 * 13;

async function ok(...args: string[]): Promise<string> {
  const r = await runMain(args);
  assert.strictEqual(r.code, 0, `${args.join(" ")}: ${r.err}`);
  return r.out;
}

async function fails(code: number, text: string | RegExp, ...args: string[]): Promise<void> {
  const r = await runMain(args);
  assert.strictEqual(r.code, code, `${args.join(" ")}: expected exit ${code}, got ${r.code}`);
  const ok = typeof text === "string" ? r.err.includes(text) : text.test(r.err);
  assert(ok, `${args.join(" ")}: stderr lacks ${String(text)}:\n${r.err}`);
}

/** Writes the cube and its row shards' states (cuts at 0, 1, 100, 101, PIXELS). */
async function shards(dir: string, op: string): Promise<string[]> {
  await writeNpy(`${dir}/c.npy`, { data: cube.data, shape: [17, 13, 5] });
  const edges = ["0:1", "1:100", "100:101", "101:"];
  const out: string[] = [];
  for (const [i, rows] of edges.entries()) {
    const path = `${dir}/${op}${i}.${i % 2 ? "h5" : "json"}`;
    await ok(
      "shard",
      "--op",
      op,
      "--input",
      `${dir}/c.npy`,
      "--layout",
      "hwc",
      "--rows",
      rows,
      "--out",
      path,
    );
    out.push(path);
  }
  return out;
}

Deno.test("cli shard + merge --finish: covariance equals cli cov of the whole file", async () => {
  await inTempDir(async (dir) => {
    const states = await shards(dir, "cov");
    await ok("merge", ...states.slice(0, 2), "--out", `${dir}/half.json`);
    await ok("merge", `${dir}/half.json`, ...states.slice(2), "--out", `${dir}/m.json`, "--finish");
    await ok("cov", "--input", `${dir}/c.npy`, "--layout", "hwc", "--out", `${dir}/ref.json`);
    const got = JSON.parse(await Deno.readTextFile(`${dir}/m.json`));
    const ref = JSON.parse(await Deno.readTextFile(`${dir}/ref.json`));
    assert.strictEqual(got.count, PIXELS);
    // Both sum deviations in float32 blocks, split differently.
    assert(relError(got.mean, ref.mean) < 1e-6);
    assert(relError(got.covariance.flat(), ref.covariance.flat()) < 1e-5);
    // Nothing but the outputs: no temporary files left.
    const left = (await listDir(dir)).filter((n) => n.startsWith("."));
    assert.deepStrictEqual(left, []);
  });
});

Deno.test("cli shard rx-fit, merge --finish, shard rx-score: scores equal RxDetector's", async () => {
  await inTempDir(async (dir) => {
    const states = await shards(dir, "rx-fit");
    await ok("merge", ...states, "--out", `${dir}/rx.h5`, "--finish", "--eps", "1e-4");
    const model = await RxDetector.load(`${dir}/rx.h5`);
    assert.strictEqual(model.stats.eps, 1e-4);
    const want = await (await new RxDetector().fit(cube, { eps: 1e-4 })).score(cube);
    const scores: number[] = [];
    for (const rows of ["0:7", "7:200", "200:"]) {
      const out = `${dir}/s${rows.replace(":", "-")}.npy`;
      await ok(
        "shard",
        "--op",
        "rx-score",
        "--model",
        `${dir}/rx.h5`,
        "--input",
        `${dir}/c.npy`,
        "--layout",
        "hwc",
        "--rows",
        rows,
        "--out",
        out,
      );
      scores.push(...(await readNpy(out)).data);
    }
    assert.strictEqual(scores.length, PIXELS);
    assert(relError(scores, want) < 1e-4, `relative error ${relError(scores, want)}`);
    // The whole file: scores in its pixel shape.
    await ok(
      "shard",
      "--op",
      "rx-score",
      "--model",
      `${dir}/rx.h5`,
      "--input",
      `${dir}/c.npy`,
      "--layout",
      "hwc",
      "--out",
      `${dir}/all.npy`,
    );
    assert.deepStrictEqual((await readNpy(`${dir}/all.npy`)).shape, [17, 13]);
  });
});

Deno.test("cli merge --finish of gram shards: singular values of all pixels", async () => {
  await inTempDir(async (dir) => {
    const states = await shards(dir, "gram");
    await ok("merge", ...states, "--out", `${dir}/sv.npy`, "--finish");
    const s = (await readNpy(`${dir}/sv.npy`)).data;
    const g = new Float64Array(25);
    for (let p = 0; p < PIXELS; p++) {
      for (let i = 0; i < 5; i++) {
        for (let j = 0; j < 5; j++) g[i * 5 + j] += cube.data[p * 5 + i] * cube.data[p * 5 + j];
      }
    }
    const want = jacobiEigen(g, 5).values.map(Math.sqrt);
    for (let i = 0; i < 5; i++) assert(Math.abs(s[i] - want[i]) <= 1e-5 * want[0], `σ${i}`);
  });
});

Deno.test("cli shard and merge refuse bad input clearly and write nothing", async () => {
  await inTempDir(async (dir) => {
    const [a, b] = await shards(dir, "cov");
    const base = ["--input", `${dir}/c.npy`, "--layout", "hwc"];
    const x = `${dir}/x.json`;
    // Another band count (bands 0-2 of the same file) and another operation.
    await ok("shard", "--op", "cov", ...base, "--bands", "0-2", "--out", `${dir}/three.json`);
    await ok("shard", "--op", "gram", ...base, "--rows", "101:", "--out", `${dir}/g.json`);
    const cases: [number, string | RegExp, string[]][] = [
      [2, "--op is required", ["shard", ...base, "--out", x]],
      [2, '--op must be cov, rx-fit, gram, rx-score, got "pca"', ["shard", "--op", "pca", ...base]],
      [2, "--rows must be A:B", ["shard", "--op", "cov", ...base, "--rows", "5", "--out", x]],
      [2, `holds ${PIXELS} pixels`, [
        "shard",
        "--op",
        "cov",
        ...base,
        "--rows",
        "9:999",
        "--out",
        x,
      ]],
      [2, "give 0 <= A <= B", ["shard", "--op", "cov", ...base, "--rows", "9:3", "--out", x]],
      [2, "--op rx-score needs --model", ["shard", "--op", "rx-score", ...base, "--out", x]],
      [2, "unknown output extension .npy", ["shard", "--op", "cov", ...base, "--out", `${x}.npy`]],
      [2, "give at least one STATE", ["merge", "--out", x]],
      [1, /merging .*cov0\.json: .*the same shard merged twice/, ["merge", a, b, a, "--out", x]],
      [1, "5 bands; shards of one data set", ["merge", a, `${dir}/three.json`, "--out", x]],
      [1, "--op gram, the other for --op cov", ["merge", a, `${dir}/g.json`, "--out", x]],
      [1, "missing.json", ["merge", `${dir}/missing.json`, "--out", x]],
      [2, "--eps and --ddof apply to --finish only", ["merge", a, "--eps", "1", "--out", x]],
    ];
    for (const [code, text, args] of cases) await fails(code, text, ...args);
    assert(!(await listDir(dir)).some((n) => n.startsWith("x.json")));
  });
});
