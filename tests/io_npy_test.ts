import assert from "node:assert/strict";
import { encodeNpy, openNpy, readNpy, writeNpy } from "../io/npy.ts";
import { InvalidDataError } from "../core/errors.ts";
import { hasNumpy, inTempDir, python, rejectsWith, throwsWith } from "./_io_helpers.ts";

/** Values that exercise every byte (fractions, negatives, large magnitudes). */
function ramp(n: number): number[] {
  return Array.from({ length: n }, (_, i) => ((i * 37) % 101) - 50 + (i % 3) * 0.25);
}

Deno.test("encodeNpy() then readNpy() round-trips every supported type and odd shapes", async () => {
  const shapes = [[0], [1], [7], [3, 5], [2, 3, 4], [257, 1], [], [4, 0, 2]];
  const ctors = [Float32Array, Float64Array, Int16Array, Uint16Array, Int32Array, Uint8Array];
  for (const Ctor of ctors) {
    for (const shape of shapes) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = Ctor.from(
        ramp(n).map((v) =>
          (Ctor === Uint8Array || Ctor === Uint16Array)
            ? Math.abs(Math.round(v))
            : Ctor === Float32Array || Ctor === Float64Array
            ? v
            : Math.round(v)
        ),
      );
      const back = await readNpy(encodeNpy(data, shape));
      assert.deepEqual(back.shape, shape);
      assert.equal(back.data.constructor, Ctor);
      assert.deepEqual([...back.data], [...data], `${Ctor.name} ${shape}`);
    }
  }
});

Deno.test("encodeNpy() pads the header to 64 bytes and rejects a mismatched shape", () => {
  const bytes = encodeNpy(new Float32Array(6), [2, 3]);
  const headerLength = bytes[8] | (bytes[9] << 8);
  assert.equal((10 + headerLength) % 64, 0);
  assert.equal(bytes[10 + headerLength - 1], 0x0a);
  throwsWith(
    () => encodeNpy(new Float32Array(5), [2, 3]),
    TypeError,
    "holds 6 values but data has 5",
  );
  throwsWith(() => encodeNpy([1, 2] as unknown as Float32Array, [2]), TypeError, "Float32Array");
});

Deno.test({
  name: "writeNpy() files read back in numpy with the same dtype, shape and values",
  ignore: !hasNumpy,
  fn: () =>
    inTempDir(async (dir) => {
      const f32 = Float32Array.from(ramp(3 * 257), (v) => v / 3);
      await writeNpy(`${dir}/f32.npy`, { data: f32, shape: [3, 257] });
      const i16 = Int16Array.from(ramp(30), Math.round);
      await writeNpy(`${dir}/i16.npy`, { data: i16, shape: [2, 3, 5] });
      await writeNpy(`${dir}/u8.npy`, { data: new Uint8Array([0, 255, 7]), shape: [3] });
      const out = await python(
        `import numpy as np, json, sys
d = sys.argv[1]
res = {}
for name in ["f32", "i16", "u8"]:
    a = np.load(f"{d}/{name}.npy")
    res[name] = [str(a.dtype), list(a.shape), a.ravel().astype(np.float64).tolist()]
print(json.dumps(res))`,
        dir,
      );
      const res = JSON.parse(out);
      assert.deepEqual(res.f32.slice(0, 2), ["float32", [3, 257]]);
      assert.deepEqual(res.f32[2], Array.from(f32));
      assert.deepEqual(res.i16.slice(0, 2), ["int16", [2, 3, 5]]);
      assert.deepEqual(res.i16[2], Array.from(i16));
      assert.deepEqual(res.u8, ["uint8", [3], [0, 255, 7]]);
    }),
});

Deno.test({
  name: "readNpy() reads numpy's Fortran-order, big-endian, float64, int16 and v2/v3 files",
  ignore: !hasNumpy,
  fn: () =>
    inTempDir(async (dir) => {
      // Each file holds arange(n).reshape(shape) * scale + offset in C order, whatever its layout.
      await python(
        `import numpy as np, sys
from numpy.lib import format as fmt
d = sys.argv[1]
def ref(shape, dtype, scale=0.5, off=-3):
    return (np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) * scale + off).astype(dtype)
np.save(f"{d}/fortran.npy", np.asfortranarray(ref((3, 4, 5), "<f4")))
np.save(f"{d}/big_f8.npy", ref((7, 3), ">f8"))
np.save(f"{d}/big_fortran_i2.npy", np.asfortranarray(ref((5, 2), ">i2", 1, -4)))
np.save(f"{d}/i2.npy", ref((11,), "<i2", 3, -10))
np.save(f"{d}/u2.npy", ref((2, 2), ">u2", 1000, 0))
np.save(f"{d}/i4.npy", ref((2, 3), ">i4", 100000, -300000))
np.save(f"{d}/scalar.npy", np.float64(2.5))
for v in [(2, 0), (3, 0)]:
    with open(f"{d}/v{v[0]}.npy", "wb") as f:
        a = ref((4, 6), "<f8")
        fmt.write_array(f, a, version=v)`,
        dir,
      );
      const ref = (shape: number[], scale = 0.5, off = -3) =>
        Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i * scale + off);
      const cases: [string, string, number[], number[]][] = [
        ["fortran", "float32", [3, 4, 5], ref([3, 4, 5])],
        ["big_f8", "float64", [7, 3], ref([7, 3])],
        ["big_fortran_i2", "int16", [5, 2], ref([5, 2], 1, -4)],
        ["i2", "int16", [11], ref([11], 3, -10)],
        ["u2", "uint16", [2, 2], ref([2, 2], 1000, 0)],
        ["i4", "int32", [2, 3], ref([2, 3], 100000, -300000)],
        ["scalar", "float64", [], [2.5]],
        ["v2", "float64", [4, 6], ref([4, 6])],
        ["v3", "float64", [4, 6], ref([4, 6])],
      ];
      for (const [name, dtype, shape, values] of cases) {
        const a = await readNpy(`${dir}/${name}.npy`);
        assert.equal(a.dtype, dtype, name);
        assert.deepEqual(a.shape, shape, name);
        assert.deepEqual([...a.data], values, name);
      }
      // Fortran order is read whole by openNpy, then served row by row like C order.
      const fortran = await openNpy(`${dir}/fortran.npy`);
      try {
        assert.deepEqual([...await fortran.readRows(1, 2)], ref([3, 4, 5]).slice(20, 60));
        const inner = [...await fortran.readInner!(2, 1)];
        assert.deepEqual(
          inner,
          [0, 1, 2].flatMap((i) => ref([3, 4, 5]).slice(i * 20 + 10, i * 20 + 15)),
        );
      } finally {
        fortran.close();
      }
      const reader = await openNpy(`${dir}/big_f8.npy`);
      try {
        assert.deepEqual(Array.from(await reader.readRows(2, 3)), ref([7, 3]).slice(6, 15));
      } finally {
        reader.close();
      }
    }),
});

Deno.test("openNpy() reads row slices without loading the file, in any order", () =>
  inTempDir(async (dir) => {
    const rows = 257, cols = 13;
    const data = Float64Array.from(ramp(rows * cols));
    await writeNpy(`${dir}/a.npy`, { data, shape: [rows, cols] });
    using reader = await openNpy(`${dir}/a.npy`);
    assert.equal(reader.rows, rows);
    assert.equal(reader.rowLength, cols);
    assert.equal(reader.dtype, "float64");
    const [late, early, none] = await Promise.all([
      reader.readRows(250, 7),
      reader.readRows(0, 1),
      reader.readRows(257, 0),
    ]);
    assert.deepEqual(Array.from(late), Array.from(Float32Array.from(data.subarray(250 * cols))));
    assert.deepEqual(Array.from(early), Array.from(Float32Array.from(data.subarray(0, cols))));
    assert.equal(none.length, 0);
    assert.throws(() => reader.readRows(256, 2), RangeError);
    assert.throws(() => reader.readRows(-1, 1), RangeError);
    assert.throws(() => reader.readRows(0.5, 1), TypeError);
  }));

Deno.test("readNpy() and openNpy() name the file and the fault on corrupt input", () =>
  inTempDir(async (dir) => {
    const good = encodeNpy(new Float32Array(12), [3, 4]);
    await Deno.writeFile(`${dir}/short.npy`, good.subarray(0, good.length - 5));
    await rejectsWith(
      () => readNpy(`${dir}/short.npy`),
      InvalidDataError,
      /short\.npy is truncated.*expected 48 got 43/,
    );
    await rejectsWith(() => openNpy(`${dir}/short.npy`), InvalidDataError, "expected 48 got 43");
    const magic = good.slice();
    magic[1] = 0x58;
    await Deno.writeFile(`${dir}/magic.npy`, magic);
    await rejectsWith(
      () => readNpy(`${dir}/magic.npy`),
      InvalidDataError,
      "magic.npy is not a .npy file: bad magic",
    );
    await Deno.writeFile(`${dir}/tiny.npy`, good.subarray(0, 5));
    await rejectsWith(
      () => openNpy(`${dir}/tiny.npy`),
      InvalidDataError,
      "expected at least 12 got 5",
    );
    await rejectsWith(() => readNpy(`${dir}/tiny.npy`), InvalidDataError, "bad magic");
    await Deno.writeFile(`${dir}/cut_header.npy`, good.subarray(0, 40));
    await rejectsWith(
      () => readNpy(`${dir}/cut_header.npy`),
      InvalidDataError,
      "truncated inside its header",
    );
    // Byte-per-char: TextDecoder("latin1") is really windows-1252 and would remap 0x93.
    const text = String.fromCharCode(...good);
    const swap = (from: string, to: string) =>
      new Uint8Array([...text.replace(from, to)].map((c) => c.charCodeAt(0)));
    await rejectsWith(() => readNpy(swap("<f4", "<c8")), InvalidDataError, "dtype '<c8'");
    await rejectsWith(
      () => readNpy(swap("'shape'", "'shapf'")),
      InvalidDataError,
      "bad .npy header (no 'shape')",
    );
    await rejectsWith(() => readNpy(swap("(3, 4)", "(3, x)")), InvalidDataError, "not a tuple");
    const version = good.slice();
    version[6] = 9;
    await rejectsWith(() => readNpy(version), InvalidDataError, "version 9.0");
    await rejectsWith(() => readNpy(`${dir}/missing.npy`), Deno.errors.NotFound);
  }));

Deno.test("writeNpy() takes (path, { data, shape }) and says so when called the old way", () =>
  inTempDir(async (dir) => {
    await rejectsWith(
      () =>
        (writeNpy as (...a: unknown[]) => Promise<void>)(`${dir}/a.npy`, new Float32Array(2), [2]),
      TypeError,
      "writeNpy() takes (path, { data, shape })",
    );
    await writeNpy(`${dir}/a.npy`, { data: new Float32Array([1, 2]), shape: [2] });
    assert.deepEqual((await readNpy(`${dir}/a.npy`)).shape, [2]);
  }));
