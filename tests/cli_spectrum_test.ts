/**
 * `cli.ts spectrum` and `cli.ts track-demo` end to end (in-process, output captured), with each
 * output format read back by python (csv, json, h5py).
 */
import assert from "node:assert";
import { runMain as run } from "./_cli_helpers.ts";
import { writeNpy } from "../io/npy.ts";
import { writeHdf5 } from "../io/hdf5.ts";
import { spectrumMetrics } from "../ops/spectrum_metrics.ts";
import { hasH5py, inTempDir, python } from "./_io_helpers.ts";
import { numpySingularValues, randomMatrix } from "./_spectrum_helpers.ts";

const READ_BACK = `
import csv, json, sys, h5py
path = sys.argv[1]
if path.endswith(".csv"):
    rows = list(csv.DictReader(open(path)))
    print(json.dumps({k: float(v) for k, v in rows[0].items()}))
elif path.endswith(".json"):
    d = json.load(open(path)); print(json.dumps({**d["metrics"], "count": d["count"], "s1": d["s1"]}))
else:
    f = h5py.File(path, "r")
    d = {k: float(v) for k, v in f.attrs.items() if k not in ("input", "shape", "method", "prism_version")}
    d["n_values"] = int(f["singular_values"].shape[0]); print(json.dumps(d))
`;

Deno.test({
  name:
    "cli spectrum on .npy (4-D NHWC) and .h5 (3-D) input writes csv, json and h5 that python reads",
  ignore: !hasH5py,
  fn: () =>
    inTempDir(async (dir) => {
      const m = randomMatrix(24, 2 * 3 * 5, 3);
      const ref = spectrumMetrics(await numpySingularValues(m), { shape: [24, 30] });
      await writeNpy(`${dir}/acts.npy`, { data: m.data, shape: [24, 2, 3, 5] });
      await writeHdf5(`${dir}/acts.h5`, {
        datasets: [
          { path: "layers/fc", data: m.data, shape: [4, 6, 30] },
          { path: "other", data: new Float32Array(4), shape: [2, 2] },
        ],
      });
      for (
        const [input, extra] of [[`${dir}/acts.npy`, []], [`${dir}/acts.h5`, [
          "--dataset",
          "/layers/fc",
        ]]]
      ) {
        for (const ext of ["csv", "json", "h5"]) {
          const out = `${dir}/metrics_${ext}.${ext}`;
          const r = await run(["spectrum", "--input", input as string, ...extra, "--out", out]);
          assert.strictEqual(r.code, 0, r.err);
          assert.match(r.out, /24 x 30/);
          assert.match(r.out, /count\s+24/);
          for (const key of Object.keys(ref)) assert.match(r.out, new RegExp(key));
          const back = JSON.parse(await python(READ_BACK, out));
          for (const key of ["stable_rank", "participation_ratio", "cumulative_90"] as const) {
            assert(Math.abs(back[key] - ref[key]) <= 1e-6 * ref[key], `${ext} ${key}`);
          }
          await Deno.remove(out);
        }
      }
    }),
});

Deno.test("cli spectrum rejects wrong shapes, a missing --dataset choice and an unwritable --out", () =>
  inTempDir(async (dir) => {
    await writeNpy(`${dir}/v.npy`, { data: new Float32Array(5), shape: [5] });
    let r = await run(["spectrum", "--input", `${dir}/v.npy`]);
    assert.strictEqual(r.code, 1);
    assert.match(r.err, /shape \[5\].*2-D/);
    await writeHdf5(`${dir}/two.h5`, {
      datasets: [
        { path: "a", data: new Float32Array(4), shape: [2, 2] },
        { path: "b", data: new Float32Array(4), shape: [2, 2] },
      ],
    });
    r = await run(["spectrum", "--input", `${dir}/two.h5`]);
    assert.strictEqual(r.code, 2);
    assert.match(r.err, /--dataset/);
    r = await run(["spectrum", "--input", `${dir}/v.npy`, "--out", `${dir}/x.txt`]);
    assert.strictEqual(r.code, 2);
    await writeNpy(`${dir}/m.npy`, { data: randomMatrix(6, 4, 1).data, shape: [6, 4] });
    const before = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    for (const out of [`${dir}/missing/m.json`, `${dir}/m.npy/m.h5`, `${dir}/missing/m.csv`]) {
      r = await run(["spectrum", "--input", `${dir}/m.npy`, "--out", out]);
      assert.strictEqual(r.code, 1, out);
      assert.match(r.err, /Cannot write|not a directory|does not exist/i, r.err);
    }
    const after = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepStrictEqual(after, before, "nothing half-written");
  }));

Deno.test("cli track-demo with tiny steps runs and prints its table and export figures", () =>
  inTempDir(async (dir) => {
    const r = await run(["track-demo", "--steps", "12", "--sampling", "2,5", "--out-dir", dir]);
    assert.strictEqual(r.code, 0, r.err);
    assert.match(r.out, /sampling\s+overhead %\s+in observe %\s+measurements/);
    assert.match(r.out, /^\s+2\s+-?\d+\.\d+\s+-?\d+\.\d+\s+18\s/m); // 6 steps x 3 layers
    assert.match(r.out, /^\s+5\s+-?\d+\.\d+\s+-?\d+\.\d+\s+9\s/m); // steps 0, 5, 10
    for (const format of ["csv", "json", "hdf5"]) {
      assert.match(r.out, new RegExp(`^${format}\\s+\\d+`, "m"));
    }
    assert.match(r.out, /--steps 8000/);
    for (const f of ["track.csv", "track.json", "track.h5"]) {
      assert((await Deno.stat(`${dir}/${f}`)).size > 0);
    }
  }));
