import assert from "node:assert/strict";
import { DimensionalityTracker } from "../track/tracker.ts";
import { hasH5py, hasNumpy, python } from "./_io_helpers.ts";

/** A tracker with awkward layer names, a zero spectrum, missing extras and large steps. */
async function sampleTracker(): Promise<DimensionalityTracker> {
  let call = 0;
  const tracker = new DimensionalityTracker({
    samplingFrequency: 3,
    metadata: { model: "mlp 784-256-128-10", seed: 42, lr: 0.001 },
    measure: () => {
      call++;
      // Every 7th spectrum is the zero matrix's; the others vary irregularly.
      if (call % 7 === 0) return Promise.resolve(new Float64Array(3));
      return Promise.resolve(Float64Array.of(10 / call + 1, 1 / 3, Math.PI / (call + 2)));
    },
  });
  const x = { data: new Float32Array(4 * 3).fill(0.5), rows: 4, cols: 3 };
  const layers = ["enc/0.conv", 'a,b "quoted"\r\nline', "__proto__", ".", "FC", "fc"];
  for (let step = 0; step < 60; step += 3) {
    for (const [i, layer] of layers.entries()) {
      if (i === 2 && step > 30) continue; // layers of different lengths
      const extras = step % 2 ? { loss: 1 / (step + 1), gradNorm: step * 1e-7 } : {};
      await tracker.observe(step, { layer, activations: x, ...extras });
    }
  }
  // A step int32 cannot hold (a multiple of 3), and float32's smallest subnormal as the loss.
  await tracker.observe(2 ** 32 - 4, { layer: "fc", activations: x, loss: 1.401298464324817e-45 });
  return tracker;
}

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "prism_track_" });
}

for (const ext of ["csv", "json", "h5", "hdf5", "CSV"]) {
  Deno.test(`export() then load() round-trips rows exactly through .${ext}`, async () => {
    const dir = await tempDir();
    try {
      const tracker = await sampleTracker();
      const path = `${dir}/run.${ext}`;
      await tracker.export(path);
      const back = await DimensionalityTracker.load(path);
      assert.deepEqual(back.layers(), tracker.layers());
      assert.deepEqual(back.rows(), tracker.rows());
      assert.deepEqual(back.rows("fc").at(-1)!.loss, 1.401298464324817e-45);
      if (ext.startsWith("h")) {
        assert.equal(back.samplingFrequency, 3);
        assert.deepEqual(back.metadata, tracker.metadata);
      }
      assert.deepEqual(
        (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name),
        [`run.${ext}`],
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("export() of an empty tracker round-trips in every format", async () => {
  const dir = await tempDir();
  try {
    for (const ext of ["csv", "json", "h5"]) {
      await new DimensionalityTracker().export(`${dir}/empty.${ext}`);
      assert.deepEqual((await DimensionalityTracker.load(`${dir}/empty.${ext}`)).rows(), []);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("export() with perLayer writes one loadable CSV per layer with safe names", async () => {
  const dir = await tempDir();
  try {
    const tracker = await sampleTracker();
    await tracker.export(`${dir}/run.csv`, { perLayer: true });
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
    assert.deepEqual(names, [
      "run.FC.csv",
      "run._.csv",
      "run.__proto__.csv",
      "run.a_b__quoted___line.csv",
      "run.enc_0.conv.csv",
      "run.fc_2.csv",
    ]);
    const rows = [];
    for (const name of names) {
      const back = await DimensionalityTracker.load(`${dir}/${name}`);
      assert.equal(back.layers().length, 1);
      rows.push(...back.rows());
    }
    const key = (r: { layer: string; step: number }) => `${r.layer}@${r.step}`;
    assert.deepEqual(
      rows.sort((a, b) => key(a) < key(b) ? -1 : 1),
      tracker.rows().sort((a, b) => key(a) < key(b) ? -1 : 1),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "CSV and JSON exports read in Python give the same rows",
  ignore: !hasNumpy,
}, async () => {
  const dir = await tempDir();
  try {
    const tracker = await sampleTracker();
    await tracker.export(`${dir}/run.csv`);
    await tracker.export(`${dir}/run.json`);
    const script = `
import csv, json, sys
import numpy as np
with open(sys.argv[1], newline="") as f:
    rows = list(csv.DictReader(f))
with open(sys.argv[2]) as f:
    data = json.load(f)
num = lambda v: None if v == "" else float(v)
# The CSV writes float32 columns as their shortest float32 decimals: read them as float32.
f32 = lambda v: None if v == "" else float(np.float32(v))
out = {"csv": [[r["layer"], num(r["step"]), f32(r["loss"]), f32(r["stable_rank"])] for r in rows],
       "json": [[layer, r["step"], r["loss"], r["stable_rank"]] for layer in data for r in data[layer]],
       "header": list(rows[0].keys()) if rows else []}
print(json.dumps(out))
`;
    const got = JSON.parse(await python(script, `${dir}/run.csv`, `${dir}/run.json`));
    const want = tracker.rows().map((r) => [r.layer, r.step, r.loss, r.stable_rank]);
    assert.deepEqual(got.csv, want);
    assert.deepEqual(got.json, want);
    assert.deepEqual(got.header.slice(0, 4), ["layer", "step", "loss", "grad_norm"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "HDF5 export has a group per layer, a gzip dataset per column and attributes (h5py)",
  ignore: !hasH5py,
}, async () => {
  const dir = await tempDir();
  try {
    const tracker = await sampleTracker();
    await tracker.export(`${dir}/run.h5`);
    const script = `
import h5py, json, sys
f = h5py.File(sys.argv[1], "r")
run = f["run_0"]
layers = {}
for name, g in run.items():
    layers[g.attrs["layer"]] = {
        "group": name,
        "rows": int(g.attrs["rows"]),
        "datasets": sorted(g.keys()),
        "compression": sorted({(d.compression, d.compression_opts, d.chunks is not None) and
                               f"{d.compression}:{d.compression_opts}:{d.chunks is not None}"
                               for d in g.values()}),
        "stable_rank": g["stable_rank"][:].tolist(),
        "step": g["step"][:].tolist(),
        "dtypes": {k: str(d.dtype) for k, d in g.items()},
    }
print(json.dumps({
    "format": f.attrs["format"], "version": int(f.attrs["version"]),
    "columns": [str(c) for c in run.attrs["columns"]],
    "sampling_frequency": int(run.attrs["sampling_frequency"]),
    "model": run.attrs["model"], "seed": int(run.attrs["seed"]), "lr": float(run.attrs["lr"]),
    "layers": layers,
}))
`;
    const got = JSON.parse(await python(script, `${dir}/run.h5`));
    assert.equal(got.format, "prism-track");
    assert.equal(got.version, 1);
    assert.equal(got.sampling_frequency, 3);
    assert.deepEqual([got.model, got.seed, got.lr], ["mlp 784-256-128-10", 42, 0.001]);
    const columns = [
      "step",
      "loss",
      "grad_norm",
      "stable_rank",
      "participation_ratio",
      "cumulative_90",
      "nuclear_norm_ratio",
      "spectral_entropy",
      "condition_number",
      "numerical_rank",
    ];
    assert.deepEqual(got.columns, columns);
    assert.deepEqual(Object.keys(got.layers).sort(), [...tracker.layers()].sort());
    assert.equal(got.layers["enc/0.conv"].group, "enc%2F0.conv");
    assert.equal(got.layers["."].group, "%2E");
    for (const layer of tracker.layers()) {
      const g = got.layers[layer];
      const rows = tracker.rows(layer);
      assert.equal(g.rows, rows.length);
      assert.deepEqual(g.datasets, [...columns].sort());
      assert.deepEqual(g.compression, ["gzip:6:True"]);
      assert.deepEqual(g.stable_rank, rows.map((r) => r.stable_rank));
      assert.deepEqual(g.step, rows.map((r) => r.step));
      assert.equal(g.dtypes.condition_number, "float32");
      assert.equal(g.dtypes.stable_rank, "float32");
      assert.equal(g.dtypes.cumulative_90, "int32");
      assert.equal(g.dtypes.step, layer === "fc" ? "float64" : "int32");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "export() with append adds a run group; load() reads the last or a chosen run",
}, async () => {
  const dir = await tempDir();
  try {
    const path = `${dir}/runs.h5`;
    const first = await sampleTracker();
    await first.export(path, { append: true }); // creates the file
    const second = new DimensionalityTracker({
      metadata: { seed: 7 },
      measure: () => Promise.resolve(Float64Array.of(3, 1)),
    });
    for (let step = 0; step < 5; step++) {
      await second.observe(step, {
        layer: "fc",
        activations: { data: new Float32Array(4), rows: 2, cols: 2 },
      });
    }
    await second.export(path, { append: true });
    const last = await DimensionalityTracker.load(path);
    assert.deepEqual(last.rows(), second.rows());
    assert.deepEqual(last.metadata, { seed: 7 });
    assert.equal(last.samplingFrequency, 1);
    assert.deepEqual((await DimensionalityTracker.load(path, { run: 0 })).rows(), first.rows());
    await assert.rejects(DimensionalityTracker.load(path, { run: 2 }), {
      name: "RangeError",
      message: /runs 0, 1/,
    });
    if (hasH5py) { // h5py sees the two run groups too
      const groups = await python(
        `import h5py, sys; print(",".join(sorted(h5py.File(sys.argv[1], "r").keys())))`,
        path,
      );
      assert.equal(groups.trim(), "run_0,run_1");
    }
    // Without append the file is replaced by a single run.
    await second.export(path);
    assert.deepEqual((await DimensionalityTracker.load(path, { run: 0 })).rows(), second.rows());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a loaded tracker goes on observing after the loaded steps only", async () => {
  const dir = await tempDir();
  try {
    const tracker = await sampleTracker();
    await tracker.export(`${dir}/run.json`);
    const back = await DimensionalityTracker.load(`${dir}/run.json`, {
      measure: () => Promise.resolve(Float64Array.of(1)),
    });
    const x = { data: new Float32Array(3), rows: 1, cols: 3 };
    await assert.rejects(back.observe(57, { layer: "FC", activations: x }), { name: "RangeError" });
    assert.equal(await back.observe(60, { layer: "FC", activations: x }), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failing export leaves no file behind, and a failing append keeps the old file", async () => {
  const dir = await tempDir();
  try {
    const tracker = await sampleTracker();
    const listing = async () =>
      (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
    // The last per-layer file's name is taken by a folder: its rename fails after every file was
    // written; none of them may remain.
    await Deno.mkdir(`${dir}/run.fc_2.csv`);
    await assert.rejects(tracker.export(`${dir}/run.csv`, { perLayer: true }));
    assert.deepEqual(await listing(), ["run.fc_2.csv"]);
    await Deno.mkdir(`${dir}/run.h5`);
    await assert.rejects(tracker.export(`${dir}/run.h5`));
    assert.deepEqual(await listing(), ["run.fc_2.csv", "run.h5"]);
    // Appending to a file that is not a tracker export fails and leaves it as it was.
    await Deno.writeTextFile(`${dir}/other.h5`, "not hdf5");
    await assert.rejects(tracker.export(`${dir}/other.h5`, { append: true }));
    assert.equal(await Deno.readTextFile(`${dir}/other.h5`), "not hdf5");
    assert.deepEqual(await listing(), ["other.h5", "run.fc_2.csv", "run.h5"]);
    await assert.rejects(tracker.export(`${dir}/missing/run.json`), {
      name: "NotFound",
      message: /does not exist/,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("export() and load() reject unknown extensions, misplaced options and corrupt files", async () => {
  const dir = await tempDir();
  try {
    const tracker = await sampleTracker();
    await assert.rejects(tracker.export(`${dir}/run.parquet`), {
      name: "RangeError",
      message: /\.csv, \.json, \.h5 or \.hdf5/,
    });
    await assert.rejects(tracker.export(`${dir}/run.json`, { perLayer: true }), {
      name: "RangeError",
    });
    await assert.rejects(tracker.export(`${dir}/run.csv`, { append: true }), {
      name: "RangeError",
    });
    await assert.rejects(DimensionalityTracker.load(`${dir}/run.txt`), { name: "RangeError" });
    await assert.rejects(DimensionalityTracker.load(`${dir}/none.csv`), { name: "NotFound" });

    await tracker.export(`${dir}/run.csv`);
    const csv = await Deno.readTextFile(`${dir}/run.csv`);
    await Deno.writeTextFile(`${dir}/cut.csv`, csv.slice(0, csv.length - 40));
    await assert.rejects(DimensionalityTracker.load(`${dir}/cut.csv`), {
      name: "InvalidDataError",
      message: /cut\.csv line \d+/,
    });
    await Deno.writeTextFile(`${dir}/bad.csv`, csv.replace(/\r\nFC,3,/, "\r\nFC,3.5,"));
    await assert.rejects(DimensionalityTracker.load(`${dir}/bad.csv`), {
      name: "InvalidDataError",
      message: /step is 3.5/,
    });
    await Deno.writeTextFile(`${dir}/noheader.csv`, "a,b\r\n1,2\r\n");
    await assert.rejects(DimensionalityTracker.load(`${dir}/noheader.csv`), {
      name: "InvalidDataError",
      message: /no "layer" column/,
    });
    await Deno.writeTextFile(`${dir}/bad.json`, '{"fc": [{"step": 1}');
    await assert.rejects(DimensionalityTracker.load(`${dir}/bad.json`), {
      name: "InvalidDataError",
      message: /not valid JSON/,
    });
    await Deno.writeTextFile(`${dir}/rows.json`, '{"fc": [{"step": 1}]}');
    await assert.rejects(DimensionalityTracker.load(`${dir}/rows.json`), {
      name: "InvalidDataError",
      message: /column loss is missing/,
    });
    await tracker.export(`${dir}/run.json`);
    const json = JSON.parse(await Deno.readTextFile(`${dir}/run.json`));
    json.FC.reverse();
    await Deno.writeTextFile(`${dir}/order.json`, JSON.stringify(json));
    await assert.rejects(DimensionalityTracker.load(`${dir}/order.json`), {
      name: "InvalidDataError",
      message: /steps must increase/,
    });
    await Deno.writeFile(`${dir}/bin.csv`, new Uint8Array([0xff, 0xfe, 0x00]));
    await assert.rejects(DimensionalityTracker.load(`${dir}/bin.csv`), {
      name: "InvalidDataError",
    });
    await Deno.writeTextFile(`${dir}/text.h5`, "plain text, not HDF5");
    await assert.rejects(DimensionalityTracker.load(`${dir}/text.h5`), {
      name: "InvalidDataError",
    });
    await tracker.export(`${dir}/run.h5`);
    const h5 = await Deno.readFile(`${dir}/run.h5`);
    await Deno.writeFile(`${dir}/cut.h5`, h5.subarray(0, h5.length >> 1));
    await assert.rejects(DimensionalityTracker.load(`${dir}/cut.h5`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
