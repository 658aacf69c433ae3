import assert from "node:assert";
import { openCubeSource } from "../io/cube_source.ts";
import { chooseLayout } from "../io/layout.ts";
import { readNpy, writeNpy } from "../io/npy.ts";
import { readEnvi } from "../io/envi.ts";
import { writeHdf5 } from "../io/hdf5.ts";
import { InvalidDataError } from "../core/errors.ts";
import { hasH5py, hasNumpy, inTempDir, python, rejectsWith } from "./_io_helpers.ts";

/** A C × H × W array and the H × W × C (BIP) array it holds, values all distinct. */
function bandFirst(c: number, h: number, w: number) {
  const chw = new Float32Array(c * h * w).map((_, i) => i * 0.25 - 7);
  const hwc = new Float32Array(c * h * w);
  for (let b = 0; b < c; b++) {
    for (let p = 0; p < h * w; p++) hwc[p * c + b] = chw[b * h * w + p];
  }
  return { chw, hwc };
}

async function readSource(path: string, options: Parameters<typeof openCubeSource>[1] = {}) {
  const src = await openCubeSource(path, options);
  try {
    const parts: number[] = [];
    for await (const m of src.chunks(1)) parts.push(...m.data);
    return { src, streamed: Float32Array.from(parts), whole: (await src.readAll()).data };
  } finally {
    src.close();
  }
}

Deno.test("the layout rule: bands last when smallest, bands first assumed, coin tosses refused", () => {
  const f = (shape: number[], dtype = "float32") => chooseLayout(shape, { dtype, name: "x" });
  assert.deepStrictEqual(f([30, 20, 6]), { layout: "hwc", origin: "shape" });
  assert.deepStrictEqual(f([4, 30, 20, 6]), { layout: "nhwc", origin: "shape" });
  assert.equal(f([6, 20, 30]).layout, "chw");
  assert.match(f([6, 20, 30]).notice!, /assumed bands first.*--layout hwc/);
  assert.equal(f([2, 6, 20, 30]).layout, "nchw");
  // Bands larger than the image (e.g. 145 x 145 x 200): bands last, said to be assumed.
  assert.equal(f([145, 145, 200]).layout, "hwc");
  assert.match(f([145, 145, 200]).notice!, /--layout chw/);
  assert.equal(f([1, 1, 1]).layout, "hwc");
  for (const shape of [[6, 30, 20], [5, 9, 5], [3, 6, 30, 20]]) {
    assert.throws(() => f(shape), /could both be the bands/, String(shape));
  }
  for (const dtype of ["int32", "uint8", "bool", "int64"]) {
    assert.throws(() => f([10, 64, 64], dtype), /labels.*--layout hwc/, dtype);
  }
  assert.deepStrictEqual(chooseLayout([10, 64, 64], { dtype: "int32", name: "x", layout: "chw" }), {
    layout: "chw",
    origin: "option",
  });
  assert.deepStrictEqual(f([7, 3]), { layout: "pixels", origin: "shape" });
  const opt = (shape: number[], layout: "hwc" | "nchw") =>
    chooseLayout(shape, { dtype: "float32", name: "x", layout });
  assert.throws(() => opt([7, 3], "hwc"), /2-D.*drop --layout hwc/);
  assert.throws(() => opt([7, 3, 2], "nchw"), /needs a 4-D array.*hwc or chw/);
  assert.throws(() => chooseLayout([2, 2, 2], { dtype: "f", name: "x", layout: "whc" as "hwc" }));
});

Deno.test("the layout from HDF5 attributes: layout, axes, DIMENSION_LABELS; bad ones refused", () => {
  const f = (attrs: Record<string, unknown>, shape = [6, 30, 20], layout?: "hwc") =>
    chooseLayout(shape, { dtype: "int16", name: "f.h5 /x", attrs, layout });
  assert.deepStrictEqual(f({ layout: "CHW" }), { layout: "chw", origin: "attribute" });
  assert.deepStrictEqual(f({ axes: ["y", "x", "band"] }), { layout: "hwc", origin: "attribute" });
  assert.equal(f({ DIMENSION_LABELS: ["n", "channel", "y", "x"] }, [2, 6, 30, 20]).layout, "nchw");
  assert.equal(f({ axes: "CHW" }).layout, "chw");
  assert.throws(() => f({ layout: "chw" }, [6, 30, 20], "hwc"), /says its layout is chw/);
  assert.throws(() => f({ layout: "bsq" }), InvalidDataError);
  assert.throws(() => f({ axes: ["y", "x"] }), /'axes' attribute/);
  assert.throws(() => f({ axes: ["y", "band", "x"] }), /no single bands axis/);
});

Deno.test("openCubeSource reads band-first .npy and HDF5 (C x H x W, N x C x H x W) as BIP", async () => {
  await inTempDir(async (dir) => {
    // (6, 30, 20) is a coin toss by shape: refused without a layout, read with one.
    const { chw, hwc } = bandFirst(6, 30, 20);
    await writeNpy(`${dir}/toss.npy`, { data: chw, shape: [6, 30, 20] });
    await rejectsWith(() => openCubeSource(`${dir}/toss.npy`), TypeError, "could both be");
    const named = await readSource(`${dir}/toss.npy`, { layout: "chw" });
    assert.deepStrictEqual([named.src.height, named.src.width, named.src.bands], [30, 20, 6]);
    assert.deepStrictEqual(named.streamed, hwc);
    assert.deepStrictEqual(named.whole, hwc);
    assert.equal(named.src.layoutNotice, undefined);
    // (5, 7, 11) is band-first by the rule, with a notice; a prime-sized Fortran copy reads alike.
    const b = bandFirst(5, 7, 11);
    await writeNpy(`${dir}/chw.npy`, { data: b.chw, shape: [5, 7, 11] });
    const guessed = await readSource(`${dir}/chw.npy`);
    assert.equal(guessed.src.layout, "chw");
    assert.match(guessed.src.layoutNotice!, /chw\.npy \[5, 7, 11\]: assumed bands first/);
    assert.deepStrictEqual(guessed.streamed, b.hwc);
    // N x C x H x W: each sample transposed on its own.
    const s0 = bandFirst(3, 4, 5), s1 = bandFirst(3, 4, 5);
    s1.chw.forEach((v, i) => (s1.chw[i] = v + 100));
    s1.hwc.forEach((v, i) => (s1.hwc[i] = v + 100));
    const stack = new Float32Array([...s0.chw, ...s1.chw]);
    await writeNpy(`${dir}/nchw.npy`, { data: stack, shape: [2, 3, 4, 5] });
    const n = await readSource(`${dir}/nchw.npy`, { layout: "nchw" });
    assert.deepStrictEqual(n.src.pixelShape, [2, 4, 5]);
    assert.deepStrictEqual(n.whole, new Float32Array([...s0.hwc, ...s1.hwc]));
    // HDF5 has no readInner: the band-first dataset is read whole once; its attribute decides.
    await writeHdf5(`${dir}/c.h5`, {
      datasets: [{ path: "cube", data: chw, shape: [6, 30, 20], attrs: { layout: "chw" } }],
    });
    const h5 = await readSource(`${dir}/c.h5`, { dataset: "/cube" });
    assert.equal(h5.src.layout, "chw");
    assert.deepStrictEqual(h5.streamed, hwc);
    // Integer labels N x H x W are refused without a layout; ENVI refuses any layout.
    await writeNpy(`${dir}/labels.npy`, { data: new Int32Array(4 * 8 * 8), shape: [4, 8, 8] });
    await rejectsWith(() => openCubeSource(`${dir}/labels.npy`), TypeError, "N x H x W labels");
    await Deno.writeTextFile(
      `${dir}/e.hdr`,
      "ENVI\nsamples = 2\nlines = 2\nbands = 1\ndata type = 4\ninterleave = bsq\n",
    );
    await Deno.writeFile(`${dir}/e.img`, new Uint8Array(16));
    await rejectsWith(
      () => openCubeSource(`${dir}/e.hdr`, { layout: "hwc" }),
      TypeError,
      "interleave",
    );
  });
});

const NPY_DTYPES = ["f2", "f4", "f8", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "b1"];

Deno.test({
  name: "readNpy and openNpy read every dtype numpy writes, both byte orders, equal to numpy",
  ignore: !hasNumpy,
  fn: () =>
    inTempDir(async (dir) => {
      // Extremes of each type (and values float16 holds exactly), in both byte orders; the
      // values are also written as float64 text, numpy's own conversion, to compare against.
      await python(
        `import numpy as np, sys, json
d = sys.argv[1]
for t in sys.argv[2].split(","):
    dt = np.dtype(t)
    if dt.kind == "b":
        a = np.array([True, False, True, True, False, False, True])
    elif dt.kind == "f":
        a = np.array([0, -0.5, 1.5, 65504 if dt.itemsize == 2 else 3.25e38, -2.0**-14, 7, -1e-3]).astype(dt)
    else:
        i = np.iinfo(dt)
        big = min(int(i.max), 2**53 - 1)
        a = np.array([i.min if dt.itemsize < 8 else max(int(i.min), -(2**53) + 1), 0, 1, big, 3, 17, big - 1], dtype=dt)
    a = a.reshape(7, 1)
    for order in "<>":
        np.save(f"{d}/{t}{'le' if order == '<' else 'be'}.npy", a.astype(dt.newbyteorder(order)))
    json.dump([float(v) for v in a.ravel()], open(f"{d}/{t}.json", "w"))`,
        dir,
        NPY_DTYPES.join(","),
      );
      for (const t of NPY_DTYPES) {
        const want = JSON.parse(await Deno.readTextFile(`${dir}/${t}.json`)) as number[];
        for (const order of ["le", "be"]) {
          const a = await readNpy(`${dir}/${t}${order}.npy`);
          assert.deepStrictEqual(a.shape, [7, 1]);
          assert.deepStrictEqual([...a.data], want, `${t} ${order}`);
          const src = await readSource(`${dir}/${t}${order}.npy`);
          assert.deepStrictEqual(src.whole, Float32Array.from(want), `${t} ${order} streamed`);
        }
      }
      // int64 beyond 2^53 would change as float64: refused, naming the index.
      await python(
        `import numpy as np, sys; np.save(sys.argv[1], np.array([1, 2**60], dtype="<i8"))`,
        `${dir}/huge.npy`,
      );
      await rejectsWith(() => readNpy(`${dir}/huge.npy`), InvalidDataError, "flat index 1");
    }),
});

Deno.test("ENVI data types 1-5 and 12-15 in both byte orders and every interleave read equal", async () => {
  const types: [number, number, (v: DataView, o: number, x: number, le: boolean) => void][] = [
    [1, 1, (v, o, x) => v.setUint8(o, x)],
    [2, 2, (v, o, x, le) => v.setInt16(o, x, le)],
    [3, 4, (v, o, x, le) => v.setInt32(o, x, le)],
    [4, 4, (v, o, x, le) => v.setFloat32(o, x, le)],
    [5, 8, (v, o, x, le) => v.setFloat64(o, x, le)],
    [12, 2, (v, o, x, le) => v.setUint16(o, x, le)],
    [13, 4, (v, o, x, le) => v.setUint32(o, x, le)],
    [14, 8, (v, o, x, le) => v.setBigInt64(o, BigInt(x), le)],
    [15, 8, (v, o, x, le) => v.setBigUint64(o, BigInt(x), le)],
  ];
  const H = 3, W = 5, C = 2; // odd sizes; BIP reference values fit every type
  const bip = Array.from({ length: H * W * C }, (_, i) => (i * 37) % 251);
  const signed = new Set([2, 3, 14]);
  await inTempDir(async (dir) => {
    for (const [type, size, set] of types) {
      const want = bip.map((x, i) => (signed.has(type) && i % 3 === 0 ? 0 - x : x));
      for (const interleave of ["bsq", "bil", "bip"]) {
        for (const order of [0, 1]) {
          const view = new DataView(new ArrayBuffer(H * W * C * size));
          for (let y = 0; y < H; y++) {
            for (let x = 0; x < W; x++) {
              for (let b = 0; b < C; b++) {
                const at = interleave === "bip"
                  ? (y * W + x) * C + b
                  : interleave === "bil"
                  ? (y * C + b) * W + x
                  : (b * H + y) * W + x;
                set(view, at * size, want[(y * W + x) * C + b], order === 0);
              }
            }
          }
          await Deno.writeFile(`${dir}/e.img`, new Uint8Array(view.buffer));
          await Deno.writeTextFile(
            `${dir}/e.hdr`,
            `ENVI\nsamples = ${W}\nlines = ${H}\nbands = ${C}\ndata type = ${type}\n` +
              `interleave = ${interleave}\nbyte order = ${order}\n`,
          );
          const cube = await readEnvi(`${dir}/e.hdr`);
          assert.deepStrictEqual([...cube.data], want, `type ${type} ${interleave} ${order}`);
        }
      }
    }
  });
});

Deno.test({
  name: "openCubeSource takes the bands axis from h5py's dimension labels and a layout attribute",
  ignore: !hasH5py,
  fn: () =>
    inTempDir(async (dir) => {
      await python(
        `import numpy as np, h5py, sys
with h5py.File(sys.argv[1], "w") as f:
    a = (np.arange(6 * 30 * 20, dtype=np.float32) * 0.25 - 7).reshape(6, 30, 20)
    d = f.create_dataset("labelled", data=a)
    for i, name in enumerate(["band", "y", "x"]):
        d.dims[i].label = name
    f.create_dataset("attr", data=a).attrs["layout"] = "chw"
    f.create_dataset("ints", data=np.zeros((4, 8, 8), dtype=np.int32)).attrs["layout"] = "hwc"`,
        `${dir}/l.h5`,
      );
      const { hwc } = bandFirst(6, 30, 20);
      for (const dataset of ["/labelled", "/attr"]) {
        const r = await readSource(`${dir}/l.h5`, { dataset });
        assert.equal(r.src.layout, "chw", dataset);
        assert.deepStrictEqual(r.whole, hwc, dataset);
      }
      // Integer data whose layout the file names is read, not refused.
      const ints = await readSource(`${dir}/l.h5`, { dataset: "/ints" });
      assert.deepStrictEqual([ints.src.height, ints.src.width, ints.src.bands], [4, 8, 8]);
    }),
});
