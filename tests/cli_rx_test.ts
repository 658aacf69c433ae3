import assert from "node:assert";
import { RxDetector } from "../ops/rx.ts";
import { rxLocal } from "../ops/rx_local.ts";
import { synthCube } from "../synth/cube.ts";
import { readNpy, writeNpy } from "../io/npy.ts";
import { hasH5py, inTempDir, python } from "./_io_helpers.ts";
import { runCli } from "./_cli_helpers.ts";

/** The CLI in a subprocess, as a user runs it. */
const cli = (...args: string[]) => runCli(args);

const { cube } = synthCube({ height: 19, width: 23, bands: 6, seed: 4 });

function close(a: ArrayLike<number>, b: ArrayLike<number>, what: string) {
  assert(a.length === b.length, `${what}: length ${a.length} vs ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    assert(
      Math.abs(a[i] - b[i]) <= 1e-3 * Math.abs(b[i]) + 1e-4,
      `${what}[${i}]: ${a[i]} vs ${b[i]}`,
    );
  }
}

Deno.test({
  name: "cli rx scores .npy, .h5 and ENVI cubes like RxDetector; numpy and h5py read the outputs",
  ignore: !hasH5py,
  async fn() {
    const want = await (await new RxDetector().fit(cube)).score(cube);
    await inTempDir(async (dir) => {
      await writeNpy(`${dir}/c.npy`, { data: cube.data, shape: [19, 23, 6] });
      let r = await cli("rx", "--input", `${dir}/c.npy`, "--out", `${dir}/s.npy`);
      assert(r.code === 0, r.err);
      assert(/rank 6, condition number/.test(r.out) && /Mpixel\/s/.test(r.out), r.out);
      const npy = await readNpy(`${dir}/s.npy`);
      assert.deepStrictEqual(npy.shape, [19, 23]);
      close(npy.data, want, "npy");

      await python(
        `import numpy as np, h5py, sys
h5py.File(sys.argv[2], "w").create_dataset("data/cube", data=np.load(sys.argv[1]))`,
        `${dir}/c.npy`,
        `${dir}/c.h5`,
      );
      r = await cli(
        "rx",
        "--input",
        `${dir}/c.h5`,
        "--dataset",
        "/data/cube",
        "--out",
        `${dir}/s.h5`,
      );
      assert(r.code === 0, r.err);
      const h5 = JSON.parse(
        await python(
          `import h5py, sys, json
print(json.dumps(h5py.File(sys.argv[1])["scores"][()].ravel().tolist()))`,
          `${dir}/s.h5`,
        ),
      );
      close(h5, want, "h5");

      // ENVI BSQ float32 little-endian.
      const bsq = new Float32Array(cube.data.length);
      for (let p = 0; p < 19 * 23; p++) {
        for (let b = 0; b < 6; b++) bsq[b * 19 * 23 + p] = cube.data[p * 6 + b];
      }
      await Deno.writeFile(`${dir}/e.img`, new Uint8Array(bsq.buffer));
      await Deno.writeTextFile(
        `${dir}/e.hdr`,
        "ENVI\nsamples = 23\nlines = 19\nbands = 6\ndata type = 4\ninterleave = bsq\nbyte order = 0\n",
      );
      r = await cli("rx", "--input", `${dir}/e.hdr`, "--out", `${dir}/e.npy`);
      assert(r.code === 0, r.err);
      close((await readNpy(`${dir}/e.npy`)).data, want, "envi");

      r = await cli("rx", "--input", `${dir}/c.npy`, "--out", `${dir}/l.npy`, "--window", "3,9");
      assert(r.code === 0, r.err);
      close(
        (await readNpy(`${dir}/l.npy`)).data,
        await rxLocal(cube, { inner: 3, outer: 9 }),
        "local",
      );

      r = await cli("cov", "--input", `${dir}/c.npy`, "--out", `${dir}/st.npy`);
      assert(r.code === 0, r.err);
      const ref = JSON.parse(
        await python(
          `import numpy as np, sys, json
X = np.load(sys.argv[1]).reshape(-1, 6).astype(np.float64)
print(json.dumps(np.abs(np.load(sys.argv[2]) - np.cov(X, rowvar=False)).max() / np.abs(np.cov(X, rowvar=False)).max()))`,
          `${dir}/c.npy`,
          `${dir}/st.npy`,
        ),
      );
      assert(ref < 1e-5, `cov relative error ${ref}`);
      r = await cli("cov", "--input", `${dir}/c.npy`, "--out", `${dir}/st.json`);
      const json = JSON.parse(await Deno.readTextFile(`${dir}/st.json`));
      assert(json.count === 19 * 23 && json.mean.length === 6 && json.covariance.length === 6);
      assert(json.covariance.every((row: number[]) => row.length === 6), "C rows of C");
    });
  },
});

Deno.test({
  name: "cli synth writes chunked cube, labels and mask that h5py reads and synthCube matches",
  ignore: !hasH5py,
  async fn() {
    await inTempDir(async (dir) => {
      const r = await cli(
        "synth",
        "--scale",
        "small",
        "--samples",
        "3",
        "--seed",
        "5",
        "--out",
        `${dir}/d.h5`,
      );
      assert(r.code === 0, r.err);
      const info = JSON.parse(
        await python(
          `import h5py, sys, json
f = h5py.File(sys.argv[1])
print(json.dumps({k: [f[k].shape, f[k].chunks, str(f[k].dtype)] for k in f} | {"v": float(f["cube"][2, 5, 6, 7]), "l": int(f["labels"][2].sum())}))`,
          `${dir}/d.h5`,
        ),
      );
      assert.deepStrictEqual(info.cube, [[3, 64, 64, 10], [1, 64, 64, 10], "float32"]);
      assert.deepStrictEqual(info.mask, [[3, 64, 64], [1, 64, 64], "uint8"]);
      const s = synthCube({ height: 64, width: 64, bands: 10, seed: 5, sampleIndex: 2 });
      assert(info.v === s.cube.data[(5 * 64 + 6) * 10 + 7]);
      assert(info.l === s.labels.reduce((a, b) => a + b, 0));
    });
  },
});

Deno.test("cli rx, cov and synth fail cleanly and leave no output file", async () => {
  await inTempDir(async (dir) => {
    const bad = cube.data.slice();
    bad[(4 * 23 + 2) * 6 + 3] = NaN;
    await writeNpy(`${dir}/nan.npy`, { data: bad, shape: [19, 23, 6] });
    let r = await cli("rx", "--input", `${dir}/nan.npy`, "--out", `${dir}/o.npy`);
    assert(r.code === 1 && /pixel 94|94.*3/.test(r.err), r.err);
    await writeNpy(`${dir}/one.npy`, { data: cube.data.slice(0, 6), shape: [1, 6] });
    r = await cli("rx", "--input", `${dir}/one.npy`, "--out", `${dir}/o.npy`);
    assert(r.code === 1 && r.err.includes("at least 2"), r.err);
    await Deno.writeFile(
      `${dir}/trunc.npy`,
      (await Deno.readFile(`${dir}/nan.npy`)).subarray(0, 200),
    );
    r = await cli("rx", "--input", `${dir}/trunc.npy`, "--out", `${dir}/o.npy`);
    assert(r.code === 1 && r.err.includes("truncated"), r.err);
    await Deno.writeTextFile(
      `${dir}/u.hdr`,
      "ENVI\nsamples = 2\nlines = 2\nbands = 1\ndata type = 6\n",
    );
    await Deno.writeFile(`${dir}/u.img`, new Uint8Array(32));
    r = await cli("cov", "--input", `${dir}/u.hdr`, "--out", `${dir}/o.json`);
    assert(r.code === 1 && r.err.includes("data type"), r.err);
    for (
      const args of [
        ["rx", "--out", `${dir}/o.npy`],
        ["rx", "--input", `${dir}/nan.npy`, "--out", `${dir}/o.csv`],
        ["rx", "--input", `${dir}/nan.npy`, "--out", `${dir}/o.npy`, "--window", "4,9"],
        ["rx", "--input", `${dir}/nan.npy`, "--out", `${dir}/o.npy`, "--backend", "cuda"],
        ["synth", "--scale", "huge", "--out", `${dir}/o.h5`],
        ["synth", "--scale", "small", "--samples", "11", "--out", `${dir}/o.h5`],
      ]
    ) {
      r = await cli(...args);
      assert(r.code === 2, `${args.join(" ")}: ${r.code} ${r.err}`);
    }
    r = await cli("synth", "--scale", "extra-large", "--out", `${dir}/o.h5`);
    assert(r.code === 2 && r.err.includes("--samples"), r.err);
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
      n.startsWith("o.") || n.endsWith(".tmp")
    );
    assert(left.length === 0, `left behind: ${left}`);
  });
});
