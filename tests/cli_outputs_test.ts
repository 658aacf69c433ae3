/**
 * Issue 9 item 6 through the CLI: `rx` writes ENVI (numpy and prism read it; an ENVI input's
 * map info, description and wavelengths kept), HDF5 with the run's attributes and chunks of at
 * most 4 MiB (h5py reads both), a `--top` CSV of shortest float32 scores; `cov` nests its JSON
 * covariance C x C.
 */
import assert from "node:assert/strict";
import meta from "../deno.json" with { type: "json" };
import { RxDetector } from "../ops/rx.ts";
import { synthCube } from "../synth/cube.ts";
import { readNpy, writeNpy } from "../io/npy.ts";
import { readEnvi, readEnviHeader } from "../io/envi.ts";
import { parseCsv } from "../io/csv.ts";
import { formatFloat32 } from "../io/float32_text.ts";
import { MAX_CHUNK_BYTES } from "../io/hdf5_write.ts";
import { hasH5py, hasNumpy, inTempDir, python } from "./_io_helpers.ts";
import { runMain } from "./_cli_helpers.ts";

// 13 x 17 pixels of 5 bands: primes, so a transposed line or band shows.
const H = 13, W = 17, C = 5;
const { cube } = synthCube({ height: H, width: W, bands: C, seed: 21 });
const reference = await (await new RxDetector().fit(cube)).score(cube);

function close(got: ArrayLike<number>, want: ArrayLike<number>, what: string) {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) {
    assert(Math.abs(got[i] - want[i]) <= 1e-3 * Math.abs(want[i]) + 1e-4, `${what}[${i}]`);
  }
}

/** Writes the cube as ENVI BIL int16-free float32 with georeferencing and wavelengths. */
async function enviInput(dir: string): Promise<string> {
  const bil = new Float32Array(cube.data.length);
  for (let y = 0; y < H; y++) {
    for (let b = 0; b < C; b++) {
      for (let x = 0; x < W; x++) bil[(y * C + b) * W + x] = cube.data[(y * W + x) * C + b];
    }
  }
  await Deno.writeFile(`${dir}/in.img`, new Uint8Array(bil.buffer));
  await Deno.writeTextFile(
    `${dir}/in.hdr`,
    `ENVI\ndescription = {Scene 7,\n  flight line 3}\nsamples = ${W}\nlines = ${H}\nbands = ${C}\n` +
      "data type = 4\ninterleave = bil\nbyte order = 0\n" +
      "map info = {UTM, 1.000, 1.000, 512345.5, 4123456.5, 2.5, 2.5, 33, North, WGS-84}\n" +
      "wavelength units = Nanometers\nwavelength = {401.5, 450,\n 500.25, 550, 612}\n",
  );
  return `${dir}/in.hdr`;
}

Deno.test("rx --out .hdr from an ENVI input: prism and numpy read it; map info, description, wavelengths kept", () =>
  inTempDir(async (dir) => {
    const input = await enviInput(dir);
    const r = await runMain(["rx", "--input", input, "--out", `${dir}/scores.hdr`]);
    assert.equal(r.code, 0, r.err);
    const back = await readEnvi(`${dir}/scores.hdr`);
    assert.deepEqual([back.height, back.width, back.bands], [H, W, 1]);
    close(back.data, reference, "prism");
    const header = await readEnviHeader(`${dir}/scores.hdr`);
    assert.equal(
      header.fields["map info"],
      "{UTM, 1.000, 1.000, 512345.5, 4123456.5, 2.5, 2.5, 33, North, WGS-84}",
    );
    assert.match(
      header.fields["description"],
      /RX scores of .*in\.hdr .*rank 5.*input: Scene 7,\s+flight line 3/s,
    );
    assert.equal(header.fields["input wavelength"], "{401.5, 450, 500.25, 550, 612}");
    assert.equal(header.fields["input wavelength units"], "Nanometers");
    if (hasNumpy) {
      const got = JSON.parse(
        await python(
          `import numpy as np, sys, json, re
text = open(sys.argv[1] + ".hdr").read()
n = lambda k: int(re.search(r"^" + k + r" = (\\d+)", text, re.M).group(1))
a = np.fromfile(sys.argv[1] + ".img", dtype="<f4").reshape(n("lines"), n("samples"), n("bands"))
print(json.dumps({"shape": list(a.shape), "v": a.ravel().astype(float).tolist()}))`,
          `${dir}/scores`,
        ),
      );
      assert.deepEqual(got.shape, [H, W, 1]);
      close(got.v, reference, "numpy");
    }
    // .img names the same pair; a pixel list cannot be an image and is refused before work.
    await writeNpy(`${dir}/c.npy`, { data: cube.data, shape: [H, W, C] });
    assert.equal(
      (await runMain(["rx", "--input", `${dir}/c.npy`, "--out", `${dir}/b.img`])).code,
      0,
    );
    close((await readEnvi(`${dir}/b.hdr`)).data, reference, "from npy");
    await writeNpy(`${dir}/p.npy`, { data: cube.data, shape: [H * W, C] });
    const list = await runMain(["rx", "--input", `${dir}/p.npy`, "--out", `${dir}/p.hdr`]);
    assert.equal(list.code, 2);
    assert.match(list.err, /needs an image input/);
  }));

Deno.test({
  name: "rx --out .h5 carries the run's attributes and chunks of at most 4 MiB (h5py reads them)",
  ignore: !hasH5py,
  fn: () =>
    inTempDir(async (dir) => {
      const input = await enviInput(dir);
      let r = await runMain(["rx", "--input", input, "--out", `${dir}/s.h5`, "--eps", "1e-5"]);
      assert.equal(r.code, 0, r.err);
      const READ = `import h5py, sys, json
f = h5py.File(sys.argv[1])
a = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in f.attrs.items()}
a = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in a.items()}
d = f["scores"]
print(json.dumps({"attrs": a, "chunks": list(d.chunks), "item": d.dtype.itemsize, "v": d[()].ravel().tolist()}))`;
      const got = JSON.parse(await python(READ, `${dir}/s.h5`));
      const fit = await new RxDetector().fit(cube, { eps: 1e-5 });
      assert.equal(got.attrs.eps, 1e-5);
      assert.equal(got.attrs.rank, fit.stats.rank);
      assert(Math.abs(got.attrs.condition_number / fit.stats.conditionNumber - 1) < 1e-3);
      assert.equal(got.attrs.input, input);
      assert.deepEqual(got.attrs.bands_used, [0, 1, 2, 3, 4]);
      assert.deepEqual(got.attrs.wavelengths, [401.5, 450, 500.25, 550, 612]);
      assert.equal(got.attrs.prism_version, meta.version);
      assert.equal(got.attrs.method, "global");
      close(got.v, reference, "h5");

      // A stack of 260 images of 70 x 70: a chunk of 256 images would be 5 MB.
      const n = 260, side = 70;
      const stack = synthCube({ height: n * side, width: side, bands: 2, seed: 3 }).cube;
      await writeNpy(`${dir}/stack.npy`, { data: stack.data, shape: [n, side, side, 2] });
      r = await runMain([
        "rx",
        "--input",
        `${dir}/stack.npy`,
        "--out",
        `${dir}/stack.h5`,
        "--window",
        "3,5",
        "--quiet",
      ]);
      assert.equal(r.code, 0, r.err);
      const big = JSON.parse(
        await python(
          `import h5py, sys, json
f = h5py.File(sys.argv[1]); d = f["scores"]
print(json.dumps({"shape": list(d.shape), "chunks": list(d.chunks), "item": d.dtype.itemsize, "window": f.attrs["window"].tolist()}))`,
          `${dir}/stack.h5`,
        ),
      );
      assert.deepEqual(big.shape, [n, side, side]);
      assert(
        big.chunks.reduce((a: number, b: number) => a * b, big.item) <= MAX_CHUNK_BYTES,
        `${big.chunks}`,
      );
      assert.deepEqual(big.window, [3, 5]);
    }),
});

Deno.test("rx --top K writes x, y, sample, score of the K highest scores as shortest float32 decimals", () =>
  inTempDir(async (dir) => {
    await writeNpy(`${dir}/c.npy`, { data: cube.data, shape: [H, W, C] });
    const order = [...reference.keys()].sort((a, b) => reference[b] - reference[a] || a - b);
    for (const k of [1, 7, H * W + 5]) {
      const r = await runMain([
        "rx",
        "--input",
        `${dir}/c.npy`,
        "--out",
        `${dir}/s.npy`,
        "--top",
        String(k),
      ]);
      assert.equal(r.code, 0, r.err);
      const scores = (await readNpy(`${dir}/s.npy`)).data as Float32Array;
      const rows = parseCsv(await Deno.readTextFile(`${dir}/s.top.csv`));
      assert.deepEqual(rows[0], ["x", "y", "sample", "score"]);
      assert.equal(rows.length - 1, Math.min(k, H * W));
      let previous = Infinity;
      for (const [i, [x, y, sample, score]] of rows.slice(1).entries()) {
        const p = Number(y) * W + Number(x);
        assert.equal(sample, "0");
        assert.equal(score, formatFloat32(scores[p]), `row ${i}`);
        assert(Number(score) <= previous, "sorted, highest first");
        previous = Number(score);
        // The float64 reference ranks the same pixels first (scores far apart at the top).
        if (i < 3) assert.equal(p, order[i], `rank ${i}`);
      }
    }
    const r = await runMain([
      "rx",
      "--input",
      `${dir}/c.npy`,
      "--out",
      `${dir}/s.npy`,
      "--top",
      "0",
    ]);
    assert.equal(r.code, 2);
    assert.match(r.err, /--top must be a whole number/);
    const custom = await runMain([
      "rx",
      "--input",
      `${dir}/c.npy`,
      "--out",
      `${dir}/s.npy`,
      "--top",
      "2",
      "--top-out",
      `${dir}/t.csv`,
    ]);
    assert.equal(custom.code, 0, custom.err);
    assert.equal(parseCsv(await Deno.readTextFile(`${dir}/t.csv`)).length, 3);
  }));

Deno.test({
  name: "cov --out .json nests the covariance C x C; numpy reads it as np.cov",
  ignore: !hasNumpy,
  fn: () =>
    inTempDir(async (dir) => {
      await writeNpy(`${dir}/c.npy`, { data: cube.data, shape: [H, W, C] });
      const r = await runMain(["cov", "--input", `${dir}/c.npy`, "--out", `${dir}/s.json`]);
      assert.equal(r.code, 0, r.err);
      const json = JSON.parse(await Deno.readTextFile(`${dir}/s.json`));
      assert.equal(json.covariance.length, C);
      for (const row of json.covariance) assert.equal(row.length, C);
      const error = Number(
        await python(
          `import numpy as np, sys, json
X = np.load(sys.argv[1]).reshape(-1, ${C}).astype(np.float64)
got = np.array(json.load(open(sys.argv[2]))["covariance"])
ref = np.cov(X, rowvar=False)
print(np.abs(got - ref).max() / np.abs(ref).max())`,
          `${dir}/c.npy`,
          `${dir}/s.json`,
        ),
      );
      assert(error < 1e-5, `relative error ${error}`);
    }),
});
