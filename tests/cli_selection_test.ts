/**
 * `--nodata`, `--mask`, `--bands` of `cli.ts cov`, `rx` and `spectrum` (in-process), and an ENVI
 * header's `data ignore value`, `bbl` and `reflectance scale factor` through `cov`.
 */
import assert from "node:assert";
import { readNpy, writeNpy } from "../io/npy.ts";
import { writeHdf5 } from "../io/hdf5.ts";
import { synthCube } from "../synth/cube.ts";
import { covariance64 } from "./_helpers.ts";
import { inTempDir } from "./_io_helpers.ts";
import { runMain as run } from "./_cli_helpers.ts";

const H = 9;
const W = 7;
const C = 5;
const { cube } = synthCube({ height: H, width: W, bands: C, seed: 11 });
const data = cube.data.slice();
// No-data in band 3 of pixels 4 and 20 (kept bands 1-3), in band 0 of pixel 30 (not kept).
for (const [p, b] of [[4, 3], [20, 3], [30, 0]]) data[p * C + b] = -500;
const mask = new Uint8Array(H * W).fill(1);
mask[10] = 0;
mask[4] = 0; // masked and no-data: counted once

/** Float64 covariance of bands 1-3 of the pixels neither masked nor no-data. */
function reference(): { cov: Float64Array; rows: number } {
  const x: number[] = [];
  for (let p = 0; p < H * W; p++) {
    if (mask[p] === 0 || p === 20) continue;
    x.push(data[p * C + 1], data[p * C + 2], data[p * C + 3]);
  }
  return { cov: covariance64(x, x.length / 3, 3), rows: x.length / 3 };
}

Deno.test("cli cov, rx and spectrum honour --nodata, --mask and --bands", async () => {
  await inTempDir(async (dir) => {
    await writeNpy(`${dir}/c.npy`, { data, shape: [H, W, C] });
    await writeNpy(`${dir}/m.npy`, { data: mask, shape: [H, W] });
    await writeHdf5(`${dir}/m.h5`, { datasets: [{ path: "mask", data: mask, shape: [H, W] }] });
    const sel = ["--nodata", "-500", "--bands", "1-3", "--mask"];
    let r = await run([
      "cov",
      "--input",
      `${dir}/c.npy`,
      ...sel,
      `${dir}/m.npy`,
      "--out",
      `${dir}/s.json`,
    ]);
    assert.equal(r.code, 0, r.err);
    const ref = reference();
    const json = JSON.parse(await Deno.readTextFile(`${dir}/s.json`));
    assert.equal(json.count, ref.rows);
    assert.equal(json.excluded, H * W - ref.rows);
    assert.deepEqual(json.band_indices, [1, 2, 3]);
    assert.equal(json.nodata, -500);
    assert.match(r.out, new RegExp(`${H * W - ref.rows} excluded \\(no-data -500, mask\\)`));
    for (let i = 0; i < 3; i++) {
      for (let j = i; j < 3; j++) {
        const [got, want] = [json.covariance[i][j], ref.cov[i * 3 + j]];
        assert(Math.abs(got - want) <= 1e-5 * Math.abs(ref.cov[i * 4]), `cov[${i}][${j}]`);
      }
    }

    r = await run([
      "rx",
      "--input",
      `${dir}/c.npy`,
      ...sel,
      `${dir}/m.h5`,
      "--out",
      `${dir}/r.npy`,
    ]);
    assert.equal(r.code, 0, r.err);
    const scores = await readNpy(`${dir}/r.npy`);
    assert.deepEqual(scores.shape, [H, W]);
    for (let p = 0; p < H * W; p++) {
      const out = mask[p] === 0 || p === 20;
      assert.equal(Number.isNaN(scores.data[p]), out, `pixel ${p}`);
    }
    r = await run([
      "rx",
      "--input",
      `${dir}/c.npy`,
      "--mask",
      `${dir}/m.npy`,
      "--window",
      "3,5",
      "--out",
      `${dir}/l.npy`,
    ]);
    assert.equal(r.code, 2);
    assert.match(r.err, /2 pixels .* are no-data or masked, and local RX cannot leave pixels out/);

    // spectrum: rows are pixels, the mask has the rows' shape.
    await writeNpy(`${dir}/a.npy`, { data, shape: [H * W, C] });
    await writeNpy(`${dir}/ma.npy`, { data: mask, shape: [H * W] });
    r = await run([
      "spectrum",
      "--input",
      `${dir}/a.npy`,
      ...sel,
      `${dir}/ma.npy`,
      "--out",
      `${dir}/sp.json`,
    ]);
    assert.equal(r.code, 0, r.err);
    const sp = JSON.parse(await Deno.readTextFile(`${dir}/sp.json`));
    assert.equal(sp.rows, ref.rows);
    assert.equal(sp.cols, 3);
    assert.equal(sp.excluded, H * W - ref.rows);
    assert.equal(sp.singular_values.length, 3);
  });
});

Deno.test("cli selection mistakes fail with the flag, the shapes or the count named", async () => {
  await inTempDir(async (dir) => {
    await writeNpy(`${dir}/c.npy`, { data, shape: [H, W, C] });
    await writeNpy(`${dir}/m.npy`, { data: mask, shape: [W, H] });
    await writeNpy(`${dir}/zero.npy`, { data: new Uint8Array(H * W), shape: [H, W] });
    const cov = (...a: string[]) =>
      run(["cov", "--input", `${dir}/c.npy`, "--out", `${dir}/o.json`, ...a]);
    const cases: [string[], number, RegExp][] = [
      [["--nodata", "nan"], 2, /--nodata NaN cannot mark no-data/],
      [["--nodata", "x"], 2, /--nodata must be a number/],
      [["--bands", "0-5"], 1, /band 5 is out of range: .*c\.npy has 5 bands \(0-4\)/],
      [["--bands", "exclude:0-4"], 1, /leaves no band/],
      [["--mask", `${dir}/m.npy`], 1, /the mask has shape \[7, 9\] but .*pixel shape \[9, 7\]/],
      [["--mask", `${dir}/zero.npy`], 1, /63 pixels were left out as no-data or masked/],
      [["--mask-dataset", "/m"], 2, /--mask-dataset needs --mask/],
    ];
    for (const [args, code, text] of cases) {
      const r = await cov(...args);
      assert.equal(r.code, code, `${args.join(" ")}: ${r.err}`);
      assert.match(r.err, text);
    }
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(left, ["c.npy", "m.npy", "zero.npy"], "no output written");
  });
});

Deno.test("cli cov reads an ENVI header's data ignore value, bbl and reflectance scale factor", async () => {
  await inTempDir(async (dir) => {
    // 2 lines x 3 samples x 3 bands, uint16 bip; band 2 is bad and holds 0 (the no-data value).
    const raw = new Uint16Array([10, 20, 0, 30, 50, 7, 0, 90, 7, 40, 40, 0, 20, 70, 7, 60, 10, 7]);
    await Deno.writeFile(`${dir}/e.img`, new Uint8Array(raw.buffer));
    await Deno.writeTextFile(
      `${dir}/e.hdr`,
      "ENVI\nsamples = 3\nlines = 2\nbands = 3\ndata type = 12\ninterleave = bip\n" +
        "data ignore value = 0\nbbl = {1, 1, 0}\nreflectance scale factor = 10\n",
    );
    const r = await run(["cov", "--input", `${dir}/e.hdr`, "--out", `${dir}/o.json`]);
    assert.equal(r.code, 0, r.err);
    const json = JSON.parse(await Deno.readTextFile(`${dir}/o.json`));
    // Pixel 2 has 0 in band 0: left out; pixels 0 and 3 have 0 only in the bad band: kept.
    assert.deepEqual([json.count, json.excluded, json.scale_factor], [5, 1, 10]);
    assert.deepEqual(json.band_indices, [0, 1]);
    const x = [1, 2, 3, 5, 4, 4, 2, 7, 6, 1];
    const mean0 = (1 + 3 + 4 + 2 + 6) / 5;
    assert(Math.abs(json.mean[0] - mean0) < 1e-6);
    const want = covariance64(x, 5, 2);
    for (const k of [0, 1, 3]) {
      assert(Math.abs(json.covariance.flat()[k] - want[k]) < 1e-5, `cov ${k}`);
    }
  });
});
