import assert from "node:assert";
import { readNpy, writeNpy } from "../io/npy.ts";
import { synthCube } from "../synth/cube.ts";
import { hasNumpy, inTempDir, python } from "./_io_helpers.ts";
import { runCli } from "./_cli_helpers.ts";

/** The BIP cube `hwc` as C × H × W. */
function toChw(hwc: Float32Array, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(hwc.length);
  for (let p = 0; p < h * w; p++) for (let b = 0; b < c; b++) out[b * h * w + p] = hwc[p * c + b];
  return out;
}

Deno.test("cli cov and rx read band-first .npy: assumed with a note, named by --layout, coin toss refused", async () => {
  await inTempDir(async (dir) => {
    const { cube } = synthCube({ height: 11, width: 13, bands: 5, seed: 9 });
    await writeNpy(`${dir}/hwc.npy`, { data: cube.data, shape: [11, 13, 5] });
    // (5, 11, 13): bands first by the rule (assumed, note on stderr).
    await writeNpy(`${dir}/chw.npy`, { data: toChw(cube.data, 11, 13, 5), shape: [5, 11, 13] });
    let r = await runCli(["cov", "--input", `${dir}/hwc.npy`, "--out", `${dir}/a.npy`]);
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.err, /note:/);
    r = await runCli(["cov", "--input", `${dir}/chw.npy`, "--out", `${dir}/b.npy`]);
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.err,
      /prism cov: note: .*chw\.npy \[5, 11, 13\]: assumed bands first.*--layout hwc/,
    );
    assert.deepStrictEqual(
      (await readNpy(`${dir}/b.npy`)).data,
      (await readNpy(`${dir}/a.npy`)).data,
    );
    // Read as bands last on request: 5 x 11 pixels of 13 bands.
    r = await runCli([
      "cov",
      "--input",
      `${dir}/chw.npy`,
      "--layout",
      "hwc",
      "--out",
      `${dir}/c.npy`,
    ]);
    assert.equal(r.code, 0, r.err);
    assert.deepStrictEqual((await readNpy(`${dir}/c.npy`)).shape, [13, 13]);
    // (5, 13, 11): both outer axes smaller than the middle: refused, then read with --layout chw.
    const t = synthCube({ height: 13, width: 11, bands: 5, seed: 2 }).cube;
    await writeNpy(`${dir}/toss.npy`, { data: toChw(t.data, 13, 11, 5), shape: [5, 13, 11] });
    r = await runCli(["rx", "--input", `${dir}/toss.npy`, "--out", `${dir}/s.npy`]);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /could both be the bands.*--layout hwc.*--layout chw/);
    assert(!(await Deno.stat(`${dir}/s.npy`).catch(() => null)), "nothing written on refusal");
    await writeNpy(`${dir}/t_hwc.npy`, { data: t.data, shape: [13, 11, 5] });
    r = await runCli([
      "rx",
      "--input",
      `${dir}/toss.npy`,
      "--layout",
      "chw",
      "--out",
      `${dir}/s.npy`,
    ]);
    assert.equal(r.code, 0, r.err);
    r = await runCli(["rx", "--input", `${dir}/t_hwc.npy`, "--out", `${dir}/s2.npy`]);
    assert.equal(r.code, 0, r.err);
    const [s, s2] = [await readNpy(`${dir}/s.npy`), await readNpy(`${dir}/s2.npy`)];
    assert.deepStrictEqual(s.shape, [13, 11]);
    assert.deepStrictEqual(s.data, s2.data);
    r = await runCli([
      "rx",
      "--input",
      `${dir}/toss.npy`,
      "--layout",
      "bsq",
      "--out",
      `${dir}/x.npy`,
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /--layout must be hwc, chw, nhwc, nchw, got "bsq"/);
  });
});

Deno.test("cli rx --window scores each sample of an N x H x W x C stack alone", async () => {
  await inTempDir(async (dir) => {
    const N = 3, H = 16, W = 7, C = 4; // windows of 9 reach 4 lines: they would cross samples
    const stack = new Float32Array(N * H * W * C);
    for (let k = 0; k < N; k++) {
      const { cube } = synthCube({ height: H, width: W, bands: C, seed: 20 + k });
      // Very different samples, so a window that crossed into the next one would show.
      stack.set(cube.data.map((v) => v * (1 + 10 * k) + 50 * k), k * H * W * C);
    }
    await writeNpy(`${dir}/stack.npy`, { data: stack, shape: [N, H, W, C] });
    let r = await runCli([
      "rx",
      "--input",
      `${dir}/stack.npy`,
      "--window",
      "3,9",
      "--out",
      `${dir}/s.npy`,
    ]);
    assert.equal(r.code, 0, r.err);
    const all = await readNpy(`${dir}/s.npy`);
    assert.deepStrictEqual(all.shape, [N, H, W]);
    for (let k = 0; k < N; k++) {
      const one = stack.slice(k * H * W * C, (k + 1) * H * W * C);
      await writeNpy(`${dir}/one.npy`, { data: one, shape: [H, W, C] });
      r = await runCli([
        "rx",
        "--input",
        `${dir}/one.npy`,
        "--window",
        "3,9",
        "--out",
        `${dir}/o.npy`,
      ]);
      assert.equal(r.code, 0, r.err);
      const alone = (await readNpy(`${dir}/o.npy`)).data;
      assert.deepStrictEqual(all.data.slice(k * H * W, (k + 1) * H * W), alone, `sample ${k}`);
    }
  });
});

Deno.test({
  name: "cli cov and rx read Fortran-order .npy (numpy) like its C-order copy",
  ignore: !hasNumpy,
  fn: () =>
    inTempDir(async (dir) => {
      await python(
        `import numpy as np, sys
d = sys.argv[1]
a = np.random.default_rng(3).normal(size=(7, 11, 3)).astype("<f4")
np.save(f"{d}/c.npy", a)
np.save(f"{d}/f.npy", np.asfortranarray(a))
s = np.random.default_rng(4).normal(size=(2, 5, 13, 3)).astype(">f8")
np.save(f"{d}/sc.npy", s)
np.save(f"{d}/sf.npy", np.asfortranarray(s))`,
        dir,
      );
      for (const [c, f] of [["c", "f"], ["sc", "sf"]]) {
        for (const args of [["cov"], ["rx"], ["rx", "--window", "1,3"]]) {
          const outs = [];
          for (const name of [c, f]) {
            const r = await runCli([
              ...args,
              "--input",
              `${dir}/${name}.npy`,
              "--out",
              `${dir}/o.npy`,
            ]);
            assert.equal(r.code, 0, r.err);
            outs.push(await readNpy(`${dir}/o.npy`));
          }
          assert.deepStrictEqual(outs[1], outs[0], `${args.join(" ")} ${f}`);
        }
      }
    }),
});

Deno.test("cli spectrum --exact keeps float64 input in float64; the JSON has 'method'", async () => {
  await inTempDir(async (dir) => {
    // Orthogonal columns of norms 1 + k·2^-40: exact singular values that float32 cannot hold
    // (it would round each to 1). Rows 7, columns 3 (odd, prime).
    const rows = 7, cols = 3;
    const data = new Float64Array(rows * cols);
    const want = [3, 2, 1].map((k) => 1 + k * 2 ** -40);
    for (let j = 0; j < cols; j++) data[j * cols + j] = want[j];
    await writeNpy(`${dir}/a.npy`, { data, shape: [rows, cols] });
    let r = await runCli([
      "spectrum",
      "--input",
      `${dir}/a.npy`,
      "--exact",
      "--out",
      `${dir}/s.json`,
    ]);
    assert.equal(r.code, 0, r.err);
    const json = JSON.parse(await Deno.readTextFile(`${dir}/s.json`));
    assert.equal(json.method, "exact");
    assert.equal(json.backend, undefined);
    json.singular_values.forEach((s: number, i: number) =>
      assert(Math.abs(s - want[i]) <= 4 * 2 ** -52, `s${i} ${s} vs ${want[i]}`)
    );
    // The Gram route rounds to float32 and says so.
    r = await runCli(["spectrum", "--input", `${dir}/a.npy`, "--out", `${dir}/g.json`]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /float64.*pass --exact/);
    r = await runCli(["spectrum", "--help"]);
    assert.match(r.out + r.err, /method is "gram" or "exact"/);
  });
});
