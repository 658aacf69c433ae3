import assert from "node:assert/strict";
import { openHdf5Dataset, readHdf5Dataset, readHdf5Tree, writeHdf5 } from "../io/hdf5.ts";
import { InvalidDataError } from "../core/errors.ts";
import { hasH5py, inTempDir, python, rejectsWith } from "./_io_helpers.ts";

function values(n: number, scale = 0.25): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => ((i * 29) % 97) * scale - 7);
}

Deno.test({
  name: "writeHdf5() output opens in h5py with shapes, values, chunks, gzip and attributes",
  ignore: !hasH5py,
  fn: () =>
    inTempDir(async (dir) => {
      const x = values(257 * 3);
      await writeHdf5(`${dir}/m.h5`, {
        attrs: { title: "run ✓", version: 2, columns: ["step", "loss"], scales: [0.5, 1] },
        groups: [{ path: "conv1", attrs: { kind: "layer" } }],
        datasets: [
          {
            path: "conv1/x",
            data: x,
            shape: [257, 3],
            chunks: [64, 3],
            gzip: 6,
            attrs: { unit: "a" },
          },
          { path: "/deep/er/steps", data: new BigInt64Array([0n, 5n, 10n]), shape: [3] },
          { path: "i16", data: new Int16Array([-3, 0, 3, 32767]), shape: [2, 2] },
          { path: "auto", data: new Float64Array(1000).fill(1.5), shape: [1000], gzip: 4 },
          { path: "empty", data: new Float32Array(0), shape: [0, 4] },
        ],
      });
      const out = await python(
        `import h5py, json, sys, numpy as np
f = h5py.File(sys.argv[1], "r")
def conv(v):
    if isinstance(v, np.ndarray): return [conv(x) for x in v.tolist()]
    if isinstance(v, bytes): return v.decode()
    if isinstance(v, (np.integer,)): return int(v)
    if isinstance(v, (np.floating,)): return float(v)
    return v
res = {"attrs": {k: conv(v) for k, v in f.attrs.items()}, "groupattrs": dict(f["conv1"].attrs)}
for name in ["conv1/x", "deep/er/steps", "i16", "auto", "empty"]:
    d = f[name]
    res[name] = {"shape": list(d.shape), "dtype": str(d.dtype), "chunks": d.chunks,
                 "compression": d.compression, "opts": d.compression_opts,
                 "values": d[()].ravel().astype(np.float64).tolist(),
                 "attrs": {k: conv(v) for k, v in d.attrs.items()}}
print(json.dumps(res))`,
        `${dir}/m.h5`,
      );
      const res = JSON.parse(out);
      assert.deepEqual(res.attrs, {
        title: "run ✓",
        version: 2,
        columns: ["step", "loss"],
        scales: [0.5, 1],
      });
      assert.deepEqual(res.groupattrs, { kind: "layer" });
      const cx = res["conv1/x"];
      assert.deepEqual([cx.shape, cx.dtype, cx.chunks, cx.compression, cx.opts], [
        [257, 3],
        "float32",
        [64, 3],
        "gzip",
        6,
      ]);
      assert.deepEqual(cx.values, Array.from(x));
      assert.deepEqual(cx.attrs, { unit: "a" });
      assert.deepEqual([res["deep/er/steps"].dtype, res["deep/er/steps"].values], ["int64", [
        0,
        5,
        10,
      ]]);
      assert.deepEqual([res.i16.dtype, res.i16.shape, res.i16.values], ["int16", [2, 2], [
        -3,
        0,
        3,
        32767,
      ]]);
      assert.equal(res.auto.compression, "gzip");
      assert.ok(res.auto.chunks !== null && res.auto.chunks[0] <= 1000);
      assert.deepEqual(res.empty.shape, [0, 4]);
    }),
});

Deno.test({
  name: "readHdf5Tree() and readHdf5Dataset() read what h5py writes",
  ignore: !hasH5py,
  fn: () =>
    inTempDir(async (dir) => {
      await python(
        `import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["n"] = np.int16(3)
    f.attrs["name"] = "h5py"
    f.attrs["fl"] = np.array([1.5, 2.5], dtype="f4")
    g = f.create_group("layers/fc1")
    g.attrs["columns"] = ["a", "b"]
    g.create_dataset("big", data=(np.arange(1000 * 7, dtype="f8").reshape(1000, 7) / 8 - 3).astype(">f8"),
                     chunks=(100, 7), compression="gzip", compression_opts=6)
    f.create_dataset("u8", data=np.arange(10, dtype="u1"))
    f.create_dataset("text", data=np.array([b"ab", b"cd"]))
    f.create_dataset("scalar", data=np.float32(4.25))`,
        `${dir}/p.h5`,
      );
      const tree = await readHdf5Tree(`${dir}/p.h5`);
      assert.deepEqual(tree.attrs, { n: 3, name: "h5py", fl: [1.5, 2.5] });
      assert.deepEqual(tree.groups.map((g) => g.path), ["/layers", "/layers/fc1"]);
      assert.deepEqual(tree.groups[1].attrs, { columns: ["a", "b"] });
      const big = tree.datasets.find((d) => d.path === "/layers/fc1/big")!;
      assert.deepEqual([big.shape, big.dtype, big.chunks, big.gzip, big.filters], [
        [1000, 7],
        "float64",
        [100, 7],
        6,
        ["deflate"],
      ]);
      assert.equal(tree.datasets.find((d) => d.path === "/text")!.dtype, "string");
      const ref = (i: number) => i / 8 - 3;
      const all = await readHdf5Dataset(`${dir}/p.h5`, "layers/fc1/big");
      assert.deepEqual(all.shape, [1000, 7]);
      assert.ok(all.data instanceof Float64Array);
      for (let i = 0; i < 7000; i++) assert.equal(all.data[i], ref(i));
      const part = await readHdf5Dataset(`${dir}/p.h5`, "/layers/fc1/big", {
        rowStart: 997,
        rowCount: 3,
      });
      assert.deepEqual(part.shape, [3, 7]);
      assert.deepEqual(
        Array.from(part.data as Float64Array),
        Array.from({ length: 21 }, (_, i) => ref(997 * 7 + i)),
      );
      const tail = await readHdf5Dataset(`${dir}/p.h5`, "u8", { rowStart: 8 });
      assert.deepEqual([Array.from(tail.data as Uint8Array), tail.shape], [[8, 9], [2]]);
      const none = await readHdf5Dataset(`${dir}/p.h5`, "u8", { rowStart: 4, rowCount: 0 });
      assert.deepEqual([none.data.length, none.shape], [0, [0]]);
      const scalar = await readHdf5Dataset(`${dir}/p.h5`, "scalar");
      assert.deepEqual([Array.from(scalar.data as Float32Array), scalar.shape], [[4.25], []]);
      await rejectsWith(
        () => readHdf5Dataset(`${dir}/p.h5`, "u8", { rowStart: 9, rowCount: 2 }),
        RangeError,
      );
      await rejectsWith(
        () => readHdf5Dataset(`${dir}/p.h5`, "text"),
        InvalidDataError,
        "only numeric datasets",
      );
    }),
});

Deno.test("openHdf5Dataset() streams rows as float32 and closes", () =>
  inTempDir(async (dir) => {
    const data = new Int32Array(257 * 5).map((_, i) => i * 3 - 100);
    await writeHdf5(`${dir}/o.h5`, {
      datasets: [{ path: "a/b", data, shape: [257, 5], chunks: [16, 5], gzip: 1 }],
    });
    using reader = await openHdf5Dataset(`${dir}/o.h5`, "a/b");
    assert.deepEqual([reader.shape, reader.dtype, reader.rows, reader.rowLength], [
      [257, 5],
      "int32",
      257,
      5,
    ]);
    let seen = 0;
    for (let start = 0; start < reader.rows; start += 50) {
      const count = Math.min(50, reader.rows - start);
      const rows = await reader.readRows(start, count);
      assert.ok(rows instanceof Float32Array);
      for (let k = 0; k < rows.length; k++) assert.equal(rows[k], data[start * 5 + k]);
      seen += count;
    }
    assert.equal(seen, 257);
    await assert.rejects(reader.readRows(250, 8), RangeError);
  }));

Deno.test("writeHdf5() append adds datasets, keeps the old ones and refuses an existing path", () =>
  inTempDir(async (dir) => {
    const path = `${dir}/a.h5`;
    await writeHdf5(path, {
      attrs: { v: 1 },
      datasets: [{ path: "g/one", data: new Float32Array([1, 2]), shape: [2] }],
    });
    await writeHdf5(path, {
      attrs: { v: 2, extra: "yes" },
      groups: [{ path: "g", attrs: { note: "kept" } }],
      datasets: [{ path: "g/two", data: new Float64Array([3]), shape: [1] }],
    }, { append: true });
    const tree = await readHdf5Tree(path);
    assert.deepEqual(tree.attrs, { v: 2, extra: "yes" });
    assert.deepEqual(tree.datasets.map((d) => d.path).sort(), ["/g/one", "/g/two"]);
    assert.deepEqual(tree.groups, [{ path: "/g", attrs: { note: "kept" } }]);
    const before = await Deno.readFile(path);
    await rejectsWith(
      () =>
        writeHdf5(path, { datasets: [{ path: "/g/one", data: new Float32Array(1), shape: [1] }] }, {
          append: true,
        }),
      Deno.errors.AlreadyExists,
      "already holds /g/one",
    );
    assert.deepEqual(await Deno.readFile(path), before);
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names, ["a.h5"]);
    await writeHdf5(`${dir}/new.h5`, {
      datasets: [{ path: "x", data: new Uint8Array(3), shape: [3] }],
    }, { append: true });
    assert.deepEqual((await readHdf5Tree(`${dir}/new.h5`)).datasets.map((d) => d.shape), [[3]]);
  }));

Deno.test("writeHdf5() without append replaces the file", () =>
  inTempDir(async (dir) => {
    const path = `${dir}/r.h5`;
    await writeHdf5(path, { datasets: [{ path: "old", data: new Uint16Array([1]), shape: [1] }] });
    await writeHdf5(path, {
      datasets: [{ path: "new", data: new Uint16Array([65535]), shape: [1] }],
    });
    const tree = await readHdf5Tree(path);
    assert.deepEqual(tree.datasets.map((d) => [d.path, d.dtype]), [["/new", "uint16"]]);
    assert.deepEqual(Array.from((await readHdf5Dataset(path, "new")).data as Uint16Array), [65535]);
  }));

Deno.test("HDF5 readers give clear errors for a missing file, a missing dataset and a non-HDF5 file", () =>
  inTempDir(async (dir) => {
    await rejectsWith(
      () => readHdf5Tree(`${dir}/nope.h5`),
      Deno.errors.NotFound,
      "nope.h5 does not exist",
    );
    await writeHdf5(`${dir}/t.h5`, {
      datasets: [{ path: "g/x", data: new Float32Array(6), shape: [3, 2] }],
    });
    await rejectsWith(
      () => readHdf5Dataset(`${dir}/t.h5`, "g/y"),
      Deno.errors.NotFound,
      "has no dataset /g/y; it holds: /g/x (float32 [3, 2])",
    );
    await rejectsWith(
      () => openHdf5Dataset(`${dir}/t.h5`, "g"),
      Deno.errors.NotFound,
      "(it is a group)",
    );
    await Deno.writeTextFile(`${dir}/fake.h5`, "this is not HDF5\n".repeat(100));
    await rejectsWith(
      () => readHdf5Tree(`${dir}/fake.h5`),
      InvalidDataError,
      "fake.h5 is not an HDF5 file",
    );
    await rejectsWith(
      () => writeHdf5(`${dir}/fake.h5`, { attrs: { a: 1 } }, { append: true }),
      InvalidDataError,
      "fake.h5 is not an HDF5 file",
    );
    assert.equal(await Deno.readTextFile(`${dir}/fake.h5`), "this is not HDF5\n".repeat(100));
  }));

Deno.test("writeHdf5() rejects bad content before touching the file", () =>
  inTempDir(async (dir) => {
    const p = `${dir}/bad.h5`;
    const ds = (extra: object) => ({
      datasets: [{ path: "x", data: new Float32Array(6), shape: [2, 3], ...extra }],
    });
    await rejectsWith(
      () => writeHdf5(p, ds({ shape: [4, 2] })),
      TypeError,
      "holds 8 values but data has 6",
    );
    await rejectsWith(() => writeHdf5(p, ds({ chunks: [3, 3] })), RangeError, "chunks[0]");
    await rejectsWith(() => writeHdf5(p, ds({ chunks: [2] })), TypeError, "one extent per axis");
    await rejectsWith(() => writeHdf5(p, ds({ gzip: 10 })), RangeError, "gzip level");
    await rejectsWith(
      () => writeHdf5(p, ds({ data: [1, 2, 3, 4, 5, 6] })),
      TypeError,
      "Float32Array",
    );
    await rejectsWith(
      () => writeHdf5(p, { attrs: { a: [1, "b"] as unknown as number[] } }),
      TypeError,
      "attribute a",
    );
    await rejectsWith(
      () => writeHdf5(p, { datasets: [{ path: "", data: new Float32Array(1), shape: [1] }] }),
      TypeError,
      "non-empty",
    );
    await assert.rejects(Deno.stat(p), Deno.errors.NotFound);
  }));
