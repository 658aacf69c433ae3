/**
 * The output formats of issue 9 item 6 below the CLI: shortest float32 decimals (against numpy's
 * own shortest repr), the tracker CSV written with them, HDF5 chunks capped at 4 MiB (read by
 * h5py), and `writeEnvi` (read back by prism and by numpy).
 */
import assert from "node:assert/strict";
import { formatFloat32 } from "../io/float32_text.ts";
import { writeEnvi } from "../io/envi_write.ts";
import { readEnvi, readEnviHeader } from "../io/envi.ts";
import { MAX_CHUNK_BYTES, writeHdf5 } from "../io/hdf5_write.ts";
import { formatTrackCsv, parseTrackCsv } from "../track/_csv_format.ts";
import { TRACK_COLUMNS, type TrackRow } from "../track/row.ts";
import { uniform } from "../synth/uniform.ts";
import { hasH5py, hasNumpy, inTempDir, listDir, python, rejectsWith } from "./_io_helpers.ts";

/** Adversarial float32 values: extremes, subnormals, powers of two and ten, integers near 2^24. */
function awkwardFloat32s(): number[] {
  const next = uniform(11, { lo: -1, hi: 1 });
  const values = [
    0,
    -0,
    1,
    -1,
    1 / 3,
    0.1,
    2 / 3,
    3.4028234663852886e38,
    1.1754943508222875e-38,
    1.401298464324817e-45,
    -1.401298464324817e-45,
    16777216,
    16777217,
    1e-7,
    123456.789,
    Math.PI,
  ];
  for (let e = -40; e <= 38; e += 3) values.push(10 ** e, 2 ** e);
  for (let i = 0; i < 500; i++) values.push(next() * 10 ** Math.round(next() * 30));
  return values.map(Math.fround);
}

Deno.test("formatFloat32 round-trips every value through float32 and is never longer than needed", () => {
  for (const x of awkwardFloat32s()) {
    const text = formatFloat32(x);
    assert(Object.is(Math.fround(Number(text)), x), `${x}: ${text} does not read back`);
    // Significant digits: the mantissa without sign, point, leading and trailing zeros.
    const digits = text.replace(/^-/, "").replace(/e.*$/, "").replace(".", "").replace(/^0+/, "")
      .replace(/0+$/, "");
    if (digits.length > 1) {
      // One significant digit fewer must not read back as the same float32.
      const shorter = Math.fround(Number(x.toPrecision(digits.length - 1)));
      assert(
        shorter !== x,
        `${x}: ${text} is not the shortest (${x.toPrecision(digits.length - 1)})`,
      );
    }
  }
  assert.equal(formatFloat32(Math.fround(1 / 3)), "0.33333334");
  assert.equal(formatFloat32(NaN), "NaN");
  assert.equal(formatFloat32(-Infinity), "-Infinity");
  assert.equal(formatFloat32(1e300), "Infinity"); // beyond float32: its float32 is infinite
  assert.throws(() => formatFloat32("1" as unknown as number), TypeError);
});

Deno.test({
  name: "formatFloat32 gives the same decimal as numpy's shortest float32 repr",
  ignore: !hasNumpy,
  async fn() {
    // JSON drops the sign of -0, so zeros are left to the test above.
    const values = awkwardFloat32s().filter((x) => Number.isFinite(x) && x !== 0);
    const numpy: string[] = JSON.parse(
      await python(
        `import numpy as np, sys, json
print(json.dumps([np.format_float_positional(np.float32(v), unique=True, trim="-") for v in json.loads(sys.argv[1])]))`,
        JSON.stringify(values),
      ),
    );
    values.forEach((x, i) => {
      // Same decimal value: the same double once parsed (the notations differ: 1e-7 vs 0.0000001).
      assert.equal(
        Number(formatFloat32(x)),
        Number(numpy[i]),
        `${x}: ${formatFloat32(x)} vs ${numpy[i]}`,
      );
    });
  },
});

function row(step: number, value: number): TrackRow {
  const f = Math.fround(value);
  return {
    step,
    loss: step === 0 ? null : f,
    grad_norm: Math.fround(f / 7),
    stable_rank: f,
    participation_ratio: Math.fround(f * 3),
    cumulative_90: 3,
    nuclear_norm_ratio: Math.fround(1 / 3),
    spectral_entropy: Math.fround(0.1),
    effective_rank: Math.exp(Math.fround(0.1)),
    condition_number: 3.4028234663852886e38,
    numerical_rank: 2,
  };
}

Deno.test("tracker CSV prints float32 columns as shortest decimals and reads them back exactly", () => {
  const rows = [0, 1, 2, 3, 5, 7].map((s) => row(s, 1 / (s + 3)));
  const text = formatTrackCsv([{ name: "fc", rows }]);
  assert(text.includes(",0.33333334,"), text);
  assert(!text.includes("0.3333333432674408"), "float64 expansion of a float32 in the CSV");
  assert(text.includes(",3.4028235e+38,"), text);
  const back = parseTrackCsv(text, "t.csv").layers[0].rows;
  for (const [i, r] of rows.entries()) {
    for (const c of TRACK_COLUMNS) {
      const got = back[i][c];
      const want = r[c];
      // Float32 columns come back as the same float32; effective_rank is derived from entropy.
      assert(
        got === null || want === null ? got === want : Math.fround(got) === Math.fround(want),
        `row ${i} ${c}: ${got} vs ${want}`,
      );
    }
  }
});

Deno.test({
  name: "writeHdf5 keeps chunks at most 4 MiB (h5py reads the chunk shapes) and values intact",
  ignore: !hasH5py,
  fn: () =>
    inTempDir(async (dir) => {
      // 257 x 71 x 67 float32: a requested chunk of 257 x 71 x 67 is 4.9 MB; a 1-D row of 2^21
      // + 3 values with gzip; and a dataset whose one row is over the cap.
      const big = new Float32Array(257 * 71 * 67).map((_, i) => i % 1000);
      const long = new Float64Array(2 ** 20 + 3).map((_, i) => i);
      await writeHdf5(`${dir}/c.h5`, {
        datasets: [
          { path: "big", data: big, shape: [257, 71, 67], chunks: [257, 71, 67], gzip: 1 },
          { path: "long", data: long, shape: [1, long.length], gzip: 1 },
          { path: "small", data: new Float32Array(6), shape: [2, 3], chunks: [2, 3] },
        ],
      });
      const got = JSON.parse(
        await python(
          `import h5py, sys, json, numpy as np
f = h5py.File(sys.argv[1])
print(json.dumps({k: [list(f[k].chunks), int(f[k].dtype.itemsize), float(np.asarray(f[k]).ravel()[-1])] for k in f}))`,
          `${dir}/c.h5`,
        ),
      );
      for (const [name, [chunks, size]] of Object.entries(got) as [string, [number[], number]][]) {
        const bytes = chunks.reduce((a, b) => a * b, size);
        assert(bytes <= MAX_CHUNK_BYTES, `${name}: chunk ${chunks} is ${bytes} bytes`);
      }
      assert.deepEqual(got.small[0], [2, 3]);
      assert.equal(got.big[2], big.at(-1));
      assert.equal(got.long[2], long.at(-1));
    }),
});

const TYPE_BYTES = `import numpy as np, sys, json, re
text = open(sys.argv[1]).read()
field = lambda k: re.search(r"^" + k + r" = (.*)$", text, re.M).group(1)
assert field("data type") == "4" and field("interleave") == "bip"
dtype = "<f4" if field("byte order") == "0" else ">f4"
a = np.fromfile(sys.argv[2], dtype=dtype).reshape(int(field("lines")), int(field("samples")), int(field("bands")))
print(json.dumps({"shape": list(a.shape), "values": a.ravel().astype(float).tolist()}))`;

for (const [height, width, bands] of [[1, 1, 1], [7, 13, 3], [2, 1, 5]]) {
  Deno.test(`writeEnvi ${height}x${width}x${bands}: prism and numpy read it back`, () =>
    inTempDir(async (dir) => {
      const next = uniform(height * 100 + width, { lo: -1e3, hi: 1e3 });
      const data = new Float32Array(height * width * bands).map(() => next());
      const files = await writeEnvi(`${dir}/out.img`, { data, height, width, bands }, {
        fields: {
          "map info": "{UTM, 1, 1, 5e5, 4e6, 30, 30, 33, North}",
          wavelength: [...Array(bands).keys()],
        },
      });
      assert.deepEqual(files, { header: `${dir}/out.hdr`, data: `${dir}/out.img` });
      assert.deepEqual(await listDir(dir), ["out.hdr", "out.img"]);
      const back = await readEnvi(files.header);
      assert.deepEqual([back.height, back.width, back.bands], [height, width, bands]);
      assert.deepEqual(back.data, data);
      const header = await readEnviHeader(files.header);
      assert.equal(header.fields["map info"], "{UTM, 1, 1, 5e5, 4e6, 30, 30, 33, North}");
      assert.equal(header.wavelengths?.length, bands);
      if (hasNumpy) {
        const np = JSON.parse(await python(TYPE_BYTES, files.header, files.data));
        assert.deepEqual(np.shape, [height, width, bands]);
        assert.deepEqual(np.values, [...data]);
      }
    }));
}

Deno.test("writeEnvi refuses bad input with a message, and a failed write leaves nothing", () =>
  inTempDir(async (dir) => {
    const cube = { data: new Float32Array(4), height: 2, width: 2, bands: 1 };
    await rejectsWith(() => writeEnvi(`${dir}/x.tif`, cube), TypeError, ".hdr or .img");
    await rejectsWith(
      () => writeEnvi(`${dir}/x.hdr`, { ...cube, bands: 2 }),
      TypeError,
      "height x width x bands = 8",
    );
    await rejectsWith(() => writeEnvi(`${dir}/x.hdr`, { ...cube, width: 0 }), RangeError);
    const badFields: Record<string, string | number>[] = [
      { samples: 3 },
      { "data type": 5 },
      { description: "{a}b}" },
      { description: "two\nlines" },
      { "a=b": "1" },
    ];
    for (const fields of badFields) {
      await rejectsWith(() => writeEnvi(`${dir}/x.hdr`, cube, { fields }), TypeError);
    }
    await rejectsWith(() => writeEnvi(`${dir}/missing/x.hdr`, cube), Deno.errors.NotFound);
    assert.deepEqual(await listDir(dir), []);
  }));
