import assert from "node:assert";
import { fileURLToPath } from "node:url";
import { InvalidDataError } from "../core/errors.ts";
import { readHdf5Tree, writeHdf5 } from "../io/hdf5.ts";
import { loadWeights, saveWeights, WEIGHTS_FORMAT, type WeightsEntry } from "../nn/weights_file.ts";
import { hasH5py, hasTorch, inTempDir, python, rejectsWith } from "./_io_helpers.ts";
import { fixturePath, fixtureSpec, netManifest, trainNames } from "./_net_fixtures.ts";

// Odd shapes of every layout a network stores: HWIO 7x7 and 1x1, depthwise [kh, kw, c, 1],
// transposed k4, vectors of 1, 3 and 13 channels.
function sampleWeights(): Map<string, WeightsEntry> {
  const shapes: [string, number[]][] = [
    ["encoder.conv.weight", [7, 7, 3, 13]],
    ["encoder.conv.bias", [13]],
    ["encoder.norm.running_var", [13]],
    ["block1.depthwise.conv.weight", [5, 5, 13, 1]],
    ["up.conv.weight", [4, 4, 13, 3]],
    ["out.conv.weight", [1, 1, 3, 1]],
    ["out.conv.bias", [1]],
  ];
  let seed = 1;
  return new Map(shapes.map(([name, shape]) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      data[i] = seed / 2 ** 30 - 1;
    }
    return [name, { data, shape }];
  }));
}

Deno.test("saveWeights() then loadWeights() gives back every name, shape and value", async () => {
  await inTempDir(async (dir) => {
    const weights = sampleWeights();
    await saveWeights(`${dir}/w.h5`, weights, { attrs: { spec: "every_layer" } });
    const back = await loadWeights(`${dir}/w.h5`);
    assert.deepEqual([...back.keys()].sort(), [...weights.keys()].sort());
    for (const [name, { data, shape }] of weights) {
      const got = back.get(name)!;
      assert.deepEqual(got.shape, shape, name);
      assert(got.data instanceof Float32Array);
      assert.deepEqual(got.data, data, name);
    }
    const tree = await readHdf5Tree(`${dir}/w.h5`);
    assert.deepEqual(tree.attrs, { format: WEIGHTS_FORMAT, version: 1, spec: "every_layer" });
    assert(tree.datasets.every((d) => d.dtype === "float32"));
    assert.equal(tree.groups.length, 0, "every dataset sits at the root");
  });
});

Deno.test({
  name: "h5py reads every dataset of a weights file with its shape and values",
  ignore: !hasH5py,
  async fn() {
    await inTempDir(async (dir) => {
      const weights = sampleWeights();
      await saveWeights(`${dir}/w.h5`, weights, { attrs: { spec: "every_layer" } });
      const out = await python(
        `import h5py, json, sys
f = h5py.File(sys.argv[1], "r")
print(json.dumps({"attrs": {k: (v.decode() if isinstance(v, bytes) else
                   v.item() if hasattr(v, "item") else v) for k, v in f.attrs.items()},
                  "data": {k: {"shape": list(d.shape), "dtype": str(d.dtype),
                               "values": d[()].ravel().tolist()} for k, d in f.items()}}))`,
        `${dir}/w.h5`,
      );
      const got = JSON.parse(out);
      assert.deepEqual(got.attrs, { format: WEIGHTS_FORMAT, version: 1, spec: "every_layer" });
      assert.deepEqual(Object.keys(got.data).sort(), [...weights.keys()].sort());
      for (const [name, { data, shape }] of weights) {
        assert.deepEqual(got.data[name].shape, shape, name);
        assert.equal(got.data[name].dtype, "float32", name);
        // float32 -> Python float is exact, so the values compare equal.
        assert.deepEqual(got.data[name].values, Array.from(data), name);
      }
    });
  },
});

Deno.test({
  name: "loadWeights() reads what h5py writes (float64 narrowed) and refuses foreign layouts",
  ignore: !hasH5py,
  async fn() {
    await inTempDir(async (dir) => {
      await python(
        `import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "w") as f:
    f["conv1.conv.weight"] = np.arange(6, dtype=np.float64).reshape(1, 1, 2, 3) / 4
    f["conv1.conv.bias"] = np.array([0.5, -1, 2], dtype=np.float32)
with h5py.File(sys.argv[2], "w") as f:
    f["layer1/kernel"] = np.zeros((3, 3), dtype=np.float32)
with h5py.File(sys.argv[3], "w") as f:
    f["steps"] = np.arange(3, dtype=np.int32)
with h5py.File(sys.argv[4], "w") as f:
    f.attrs["format"] = "keras"
    f["w"] = np.zeros(2, dtype=np.float32)`,
        `${dir}/ok.h5`,
        `${dir}/grouped.h5`,
        `${dir}/ints.h5`,
        `${dir}/keras.h5`,
      );
      const back = await loadWeights(`${dir}/ok.h5`);
      assert.deepEqual(back.get("conv1.conv.weight")!.shape, [1, 1, 2, 3]);
      assert.deepEqual([...back.get("conv1.conv.weight")!.data], [0, 0.25, 0.5, 0.75, 1, 1.25]);
      assert.deepEqual([...back.get("conv1.conv.bias")!.data], [0.5, -1, 2]);
      await rejectsWith(() => loadWeights(`${dir}/grouped.h5`), InvalidDataError, "group /layer1");
      await rejectsWith(() => loadWeights(`${dir}/ints.h5`), InvalidDataError, "steps holds int32");
      await rejectsWith(() => loadWeights(`${dir}/keras.h5`), InvalidDataError, "keras file");
    });
  },
});

Deno.test("saveWeights() refuses bad names, data and shapes, and leaves no file behind", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/w.h5`;
    const ok = { data: new Float32Array(6), shape: [2, 3] };
    const bad: [string, Iterable<[string, WeightsEntry]>, string][] = [
      ["empty name", [["", ok]], 'parameter name ""'],
      ["slash", [["conv1/weight", ok]], 'without "/"'],
      ["nul", [["a\0b", ok]], "control characters"],
      ["dot", [[".", ok]], 'parameter name "."'],
      ["repeat", [["a", ok], ["a", ok]], "given twice"],
      [
        "f64",
        [["a", { data: new Float64Array(6) as unknown as Float32Array, shape: [2, 3] }]],
        "is a Float64Array",
      ],
      [
        "length",
        [["a", { data: new Float32Array(5), shape: [2, 3] }]],
        "holds 6 values but data has 5",
      ],
      ["zero extent", [["a", { data: new Float32Array(0), shape: [0, 3] }]], "positive integers"],
      ["fraction", [["a", { data: new Float32Array(6), shape: [2, 3.5] }]], "positive integers"],
      ["none", [], "values is empty"],
    ];
    for (const [what, values, text] of bad) {
      await rejectsWith(() => saveWeights(path, values), TypeError, text).catch((e) => {
        throw new Error(`${what}: ${e.message}`);
      });
    }
    await rejectsWith(
      () => saveWeights(path, [["a", ok]], { attrs: { format: "x" } }),
      TypeError,
      "o.attrs.format is set by saveWeights",
    );
    const nan = new Float32Array(6);
    nan[4] = NaN;
    await rejectsWith(
      () => saveWeights(path, [["head.bias", { data: nan, shape: [6] }]]),
      InvalidDataError,
      "parameter head.bias holds NaN at index 4",
    );
    assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing was written");
  });
});

Deno.test("a failed save keeps the previous weights file whole, with no temporary left", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/w.h5`;
    await saveWeights(path, sampleWeights());
    const before = await Deno.readFile(path);
    // The second entry fails only while the iterable is consumed, after the first was accepted.
    function* failing(): Generator<[string, WeightsEntry]> {
      yield ["a", { data: new Float32Array(2), shape: [2] }];
      yield ["b", { data: new Float32Array(3), shape: [2] }];
    }
    await rejectsWith(() => saveWeights(path, failing()), TypeError, "b: shape [2]");
    await rejectsWith(
      () => saveWeights(path, sampleWeights(), { attrs: { bad: [] as unknown as string } }),
      TypeError,
      "o.attrs.bad must be a string or a finite number",
    );
    assert.deepEqual(await Deno.readFile(path), before);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["w.h5"]);
    // A failure after the whole file was written: the rename onto a folder fails.
    await Deno.mkdir(`${dir}/folder.h5`);
    await assert.rejects(() => saveWeights(`${dir}/folder.h5`, sampleWeights()));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["folder.h5", "w.h5"]);
    assert.deepEqual([...Deno.readDirSync(`${dir}/folder.h5`)], []);
  });
});

Deno.test("loadWeights() names a missing file, a non-HDF5 file, an empty one and NaN", async () => {
  await inTempDir(async (dir) => {
    await rejectsWith(
      () => loadWeights(`${dir}/nope.h5`),
      Deno.errors.NotFound,
      `weights file ${dir}/nope.h5 does not exist`,
    );
    await Deno.writeTextFile(`${dir}/text.h5`, "not hdf5");
    await rejectsWith(() => loadWeights(`${dir}/text.h5`), InvalidDataError, "not an HDF5 file");
    await writeHdf5(`${dir}/empty.h5`, { attrs: { format: WEIGHTS_FORMAT, version: 1 } });
    await rejectsWith(() => loadWeights(`${dir}/empty.h5`), InvalidDataError, "no datasets");
    await writeHdf5(`${dir}/new.h5`, {
      attrs: { format: WEIGHTS_FORMAT, version: 2 },
      datasets: [{ path: "a", data: new Float32Array(1), shape: [1] }],
    });
    await rejectsWith(() => loadWeights(`${dir}/new.h5`), InvalidDataError, "version 2");
    await writeHdf5(`${dir}/nan.h5`, {
      datasets: [{ path: "a.b", data: new Float32Array([1, Infinity]), shape: [2] }],
    });
    await rejectsWith(
      () => loadWeights(`${dir}/nan.h5`),
      InvalidDataError,
      `${dir}/nan.h5: dataset a.b holds Infinity at index 1`,
    );
  });
});

Deno.test("loadWeights() reads the PyTorch twin's files (save_prism_h5) of the net fixtures", async () => {
  for (const [name, net] of Object.entries(netManifest.nets)) {
    const weights = await loadWeights(fixturePath(net.files.weights.file));
    const running = trainNames(net, "running");
    const trained = trainNames(net, "grad");
    assert.deepEqual([...weights.keys()].sort(), [...trained, ...running].sort(), name);
    const count = trained.reduce((n, p) => n + weights.get(p)!.data.length, 0);
    assert.equal(count, net.parameters, `${name} parameter count`);
    for (const p of trained) {
      assert.deepEqual(weights.get(p)!.shape, net.files.train.datasets[`grad/${p}`], p);
    }
  }
});

Deno.test({
  name: "the PyTorch twin loads what saveWeights writes and gives the fixtures' outputs",
  ignore: !hasTorch,
  async fn() {
    await inTempDir(async (dir) => {
      // prism's files of the fixtures' weights, into fresh twins by load_prism_h5 (one Python
      // run: importing torch takes seconds).
      const cases = [];
      for (const [name, net] of Object.entries(netManifest.nets)) {
        const weights = await loadWeights(fixturePath(net.files.weights.file));
        await saveWeights(`${dir}/${name}.h5`, weights, { attrs: { spec: name } });
        cases.push({
          name,
          spec: fixtureSpec(net),
          weights: `${dir}/${name}.h5`,
          input: fixturePath(net.files.input.file),
          eval: fixturePath(net.files.eval.file),
        });
      }
      const out = await python(
        `import sys, json, numpy as np, torch
sys.path.insert(0, sys.argv[1])
import prism_nets
errors = {}
for c in json.loads(sys.argv[2]):
    spec = json.load(open(c["spec"])) if c["spec"].endswith(".json") else c["spec"]
    net = prism_nets.build(spec).double().eval()
    prism_nets.load_prism_h5(net, c["weights"])
    x = torch.from_numpy(np.load(c["input"])).double().permute(0, 3, 1, 2)
    with torch.no_grad():
        y = net(x).permute(0, 2, 3, 1).numpy()
    want = np.load(c["eval"])
    errors[c["name"]] = float(np.abs(y - want).max() / np.abs(want).max())
print(json.dumps(errors))`,
        fileURLToPath(new URL("../bench/torch", import.meta.url)),
        JSON.stringify(cases),
      );
      const errors: Record<string, number> = JSON.parse(out);
      assert.deepEqual(Object.keys(errors).sort(), Object.keys(netManifest.nets).sort());
      // The fixture is the float32 rounding of the same float64 computation.
      for (const [name, err] of Object.entries(errors)) {
        assert(err < 1e-6, `${name}: relative error ${err}`);
      }
    });
  },
});
