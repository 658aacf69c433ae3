/**
 * Tests of `cli.ts pca` (PCA and `--method mnf`) and `cli.ts rx --robust`: outputs equal the
 * library's, numpy/h5py read them, and bad flags are refused with a message naming the flag.
 */

import assert from "node:assert";
import { pca } from "../ops/pca.ts";
import { mnf } from "../ops/mnf.ts";
import { RxDetector } from "../ops/rx.ts";
import { readNpy, writeNpy } from "../io/npy.ts";
import { synthCube } from "../synth/cube.ts";
import { hasH5py, inTempDir, python } from "./_io_helpers.ts";
import { runCli } from "./_cli_helpers.ts";

/** The CLI in a subprocess, as a user runs it. */
const cli = (...args: string[]) => runCli(args);

const { cube } = synthCube({ height: 17, width: 13, bands: 7, seed: 2 });

/** Equal up to each component's sign, within 1e-4 of the component's spread. */
function sameUpToSign(got: Float32Array, want: Float32Array, k: number, what: string) {
  assert.equal(got.length, want.length, what);
  for (let j = 0; j < k; j++) {
    let dot = 0;
    let norm = 0;
    for (let p = j; p < want.length; p += k) {
      dot += got[p] * want[p];
      norm = Math.max(norm, Math.abs(want[p]));
    }
    const sign = Math.sign(dot) || 1;
    for (let p = j; p < want.length; p += k) {
      assert(Math.abs(got[p] - sign * want[p]) <= 1e-4 * norm, `${what}[${p}]`);
    }
  }
}

Deno.test("cli pca writes the K components of pca() and mnf() as H x W x K", async () => {
  await inTempDir(async (dir) => {
    await writeNpy(`${dir}/c.npy`, { data: cube.data, shape: [17, 13, 7] });
    let r = await cli(
      "pca",
      "--input",
      `${dir}/c.npy`,
      "--components",
      "3",
      "--out",
      `${dir}/p.npy`,
    );
    assert.equal(r.code, 0, r.err);
    assert(/pca: 221 pixels x 7 bands; eigenvalues/.test(r.out), r.out);
    const p = await pca(cube, { components: 3 });
    const got = await readNpy(`${dir}/p.npy`);
    assert.deepStrictEqual(got.shape, [17, 13, 3]);
    sameUpToSign(got.data as Float32Array, (await p.projection.transform(cube)).data, 3, "pca");

    r = await cli(
      "pca",
      "--input",
      `${dir}/c.npy`,
      "--components",
      "2",
      "--method",
      "mnf",
      "--direction",
      "right",
      "--out",
      `${dir}/m.h5`,
    );
    assert.equal(r.code, 0, r.err);
    assert(/noise pairs \(right\), noise rank 7/.test(r.out), r.out);
    if (hasH5py) {
      const m = await mnf(cube, { components: 2, direction: "right" });
      const want = (await m.projection.transform(cube)).data;
      const out = await python(
        `import h5py, sys, json
d = h5py.File(sys.argv[1], "r")["components"]
print(json.dumps({"shape": list(d.shape), "data": d[...].ravel().tolist()}))`,
        `${dir}/m.h5`,
      );
      const { shape, data } = JSON.parse(out) as { shape: number[]; data: number[] };
      assert.deepStrictEqual(shape, [17, 13, 2]);
      sameUpToSign(Float32Array.from(data), want, 2, "mnf");
    } else console.log("h5py is unavailable: the h5py read of the MNF output is skipped");
  });
});

Deno.test("cli pca refuses missing or bad --components, --method, --direction, mnf on a pixel list", async () => {
  await inTempDir(async (dir) => {
    await writeNpy(`${dir}/c.npy`, { data: cube.data, shape: [17, 13, 7] });
    await writeNpy(`${dir}/l.npy`, { data: cube.data, shape: [221, 7] });
    const base = ["pca", "--input", `${dir}/c.npy`, "--out", `${dir}/o.npy`];
    const cases: [string[], RegExp][] = [
      [base, /--components is required/],
      [[...base, "--components", "0"], /--components must be a whole number ≥ 1/],
      [[...base, "--components", "2.5"], /--components must be a whole number/],
      [[...base, "--components", "8"], /at most 7 components/],
      [[...base, "--components", "2", "--method", "ica"], /--method must be pca or mnf/],
      [[...base, "--components", "2", "--direction", "up"], /--direction must be one of/],
      [
        [
          "pca",
          "--input",
          `${dir}/l.npy`,
          "--out",
          `${dir}/o.npy`,
          "--components",
          "2",
          "--method",
          "mnf",
        ],
        /needs an image/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      assert.notEqual(r.code, 0, args.join(" "));
      assert(message.test(r.err), `${args.join(" ")}: ${r.err}`);
    }
    assert.deepStrictEqual((await Array.fromAsync(Deno.readDir(dir))).length, 2);
  });
});

Deno.test("cli rx --robust scores like fit({ robust: true }) and reports the passes", async () => {
  const { cube: big, mask } = synthCube({ height: 40, width: 40, bands: 12, seed: 3 });
  await inTempDir(async (dir) => {
    await writeNpy(`${dir}/c.npy`, { data: big.data, shape: [40, 40, 12] });
    const r = await cli("rx", "--robust", "--input", `${dir}/c.npy`, "--out", `${dir}/s.npy`);
    assert.equal(r.code, 0, r.err);
    const rx = await new RxDetector().fit(big, { robust: true });
    const s = rx.stats.robust!;
    assert(
      r.out.includes(`robust fit: kept ${s.kept} of ${s.pixels} pixels`) &&
        r.out.includes(`${s.passes} passes`),
      r.out,
    );
    const want = await rx.score(big);
    const got = (await readNpy(`${dir}/s.npy`)).data;
    for (let p = 0; p < want.length; p++) {
      assert(Math.abs(got[p] - want[p]) <= 1e-3 * Math.abs(want[p]) + 1e-3, `pixel ${p}`);
    }
    assert(mask.some((m) => m === 1));
    const w = await cli(
      "rx",
      "--robust",
      "--window",
      "3,9",
      "--input",
      `${dir}/c.npy`,
      "--out",
      `${dir}/w.npy`,
    );
    assert.notEqual(w.code, 0);
    assert(/--robust fits global RX/.test(w.err), w.err);
  });
});

Deno.test("cli pca leaves no-data pixels out of the fit and writes NaN for them; mnf refuses them", async () => {
  await inTempDir(async (dir) => {
    const data = cube.data.slice();
    const nodata = [0, 5, 100]; // pixels whose band 2 holds the no-data value
    for (const p of nodata) data[p * 7 + 2] = -9999;
    await writeNpy(`${dir}/c.npy`, { data, shape: [17, 13, 7] });
    const args = ["--input", `${dir}/c.npy`, "--components", "2", "--nodata", "-9999"];
    let r = await cli("pca", ...args, "--out", `${dir}/p.npy`);
    assert.equal(r.code, 0, r.err);
    const got = (await readNpy(`${dir}/p.npy`)).data as Float32Array;
    // The fit and transform of the kept pixels alone, as pca() gives them.
    const kept = [...Array(221).keys()].filter((p) => !nodata.includes(p));
    const rows = new Float32Array(kept.length * 7);
    kept.forEach((p, i) => rows.set(cube.data.subarray(p * 7, p * 7 + 7), i * 7));
    const m = { data: rows, rows: kept.length, cols: 7 };
    const want = (await (await pca(m, { components: 2 })).projection.transform(m)).data;
    const gotKept = new Float32Array(kept.length * 2);
    kept.forEach((p, i) => gotKept.set(got.subarray(p * 2, p * 2 + 2), i * 2));
    sameUpToSign(gotKept, want, 2, "pca of kept pixels");
    for (const p of nodata) assert(Number.isNaN(got[p * 2]) && Number.isNaN(got[p * 2 + 1]));
    r = await cli("pca", ...args, "--method", "mnf", "--out", `${dir}/m.npy`);
    assert.equal(r.code, 2, r.err);
    assert(/--method mnf: \d+ pixels of .* are no-data or masked/.test(r.err), r.err);
    assert.deepStrictEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "c.npy",
      "p.npy",
    ]);
  });
});
