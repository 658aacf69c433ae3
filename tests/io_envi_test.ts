import assert from "node:assert/strict";
import { openEnvi, readEnvi, readEnviHeader } from "../io/envi.ts";
import { InvalidDataError } from "../core/errors.ts";
import { inTempDir, rejectsWith } from "./_io_helpers.ts";

const TYPES: Record<
  number,
  { size: number; put: (v: DataView, o: number, x: number, le: boolean) => void }
> = {
  2: { size: 2, put: (v, o, x, le) => v.setInt16(o, x, le) },
  4: { size: 4, put: (v, o, x, le) => v.setFloat32(o, x, le) },
  5: { size: 8, put: (v, o, x, le) => v.setFloat64(o, x, le) },
  12: { size: 2, put: (v, o, x, le) => v.setUint16(o, x, le) },
};

/** The float64 reference value of pixel (y, x), band b: exactly representable in every type. */
function ref(y: number, x: number, b: number, type: number): number {
  const v = y * 1000 + x * 10 + b;
  return type === 2 ? v - 16000 : type === 12 ? v : v / 4 - 1000;
}

/** Writes an ENVI image laid out by hand from the reference, with `offset` junk bytes first. */
async function writeImage(
  dir: string,
  name: string,
  dims: { lines: number; samples: number; bands: number },
  opts: {
    type: number;
    interleave: "bsq" | "bil" | "bip";
    byteOrder: 0 | 1;
    offset?: number;
    ext?: string;
  },
): Promise<string> {
  const { lines, samples, bands } = dims;
  const { size, put } = TYPES[opts.type];
  const offset = opts.offset ?? 0;
  const bytes = new Uint8Array(offset + lines * samples * bands * size).fill(0xab, 0, offset);
  const view = new DataView(bytes.buffer);
  for (let y = 0; y < lines; y++) {
    for (let x = 0; x < samples; x++) {
      for (let b = 0; b < bands; b++) {
        const index = opts.interleave === "bip"
          ? (y * samples + x) * bands + b
          : opts.interleave === "bil"
          ? (y * bands + b) * samples + x
          : (b * lines + y) * samples + x;
        put(view, offset + index * size, ref(y, x, b, opts.type), opts.byteOrder === 0);
      }
    }
  }
  await Deno.writeFile(`${dir}/${name}${opts.ext ?? ".img"}`, bytes);
  await Deno.writeTextFile(
    `${dir}/${name}.hdr`,
    `ENVI\ndescription = {\n  test image, made by hand}\nsamples = ${samples}\nlines   = ${lines}\n` +
      `bands = ${bands}\nheader offset = ${offset}\nfile type = ENVI Standard\n` +
      `data type = ${opts.type}\ninterleave = ${opts.interleave}\nbyte order = ${opts.byteOrder}\n` +
      `wavelength units = nm\nwavelength = {\n ${
        Array.from({ length: bands }, (_, b) => 400 + b * 2.5).join(",\n ")
      }}\n`,
  );
  return `${dir}/${name}.hdr`;
}

Deno.test("readEnvi() reads every interleave, supported type and byte order into BIP float32", () =>
  inTempDir(async (dir) => {
    const dims = { lines: 7, samples: 5, bands: 3 };
    for (const type of [2, 4, 5, 12]) {
      for (const interleave of ["bsq", "bil", "bip"] as const) {
        for (const byteOrder of [0, 1] as const) {
          const name = `i${type}_${interleave}_${byteOrder}`;
          const hdr = await writeImage(dir, name, dims, {
            type,
            interleave,
            byteOrder,
            offset: byteOrder * 13,
          });
          const cube = await readEnvi(hdr);
          assert.deepEqual([cube.height, cube.width, cube.bands], [7, 5, 3], name);
          for (let y = 0; y < 7; y++) {
            for (let x = 0; x < 5; x++) {
              for (let b = 0; b < 3; b++) {
                assert.equal(
                  cube.data[(y * 5 + x) * 3 + b],
                  ref(y, x, b, type),
                  `${name} ${y},${x},${b}`,
                );
              }
            }
          }
        }
      }
    }
  }));

Deno.test("openEnvi() streams line blocks that match the whole image", () =>
  inTempDir(async (dir) => {
    for (const interleave of ["bsq", "bil", "bip"] as const) {
      const hdr = await writeImage(dir, interleave, { lines: 13, samples: 4, bands: 5 }, {
        type: 4,
        interleave,
        byteOrder: 0,
      });
      const whole = (await readEnvi(hdr)).data;
      using reader = await openEnvi(hdr);
      const blocks = await Promise.all([
        reader.readRows(0, 5),
        reader.readRows(5, 5),
        reader.readRows(10, 3),
        reader.readRows(13, 0),
      ]);
      const joined = new Float32Array(whole.length);
      let at = 0;
      for (const b of blocks) {
        joined.set(b, at);
        at += b.length;
      }
      assert.deepEqual(joined, whole, interleave);
      await assert.rejects(async () => await reader.readRows(12, 2), RangeError);
    }
  }));

Deno.test("readEnviHeader() parses fields, multi-line values and wavelengths", () =>
  inTempDir(async (dir) => {
    const hdr = await writeImage(dir, "h", { lines: 2, samples: 3, bands: 4 }, {
      type: 12,
      interleave: "bil",
      byteOrder: 1,
      offset: 8,
      ext: ".dat",
    });
    const h = await readEnviHeader(hdr);
    assert.deepEqual(
      [
        h.samples,
        h.lines,
        h.bands,
        h.headerOffset,
        h.dataType,
        h.sampleType,
        h.interleave,
        h.byteOrder,
      ],
      [3, 2, 4, 8, 12, "u2", "bil", 1],
    );
    assert.deepEqual(h.wavelengths, [400, 402.5, 405, 407.5]);
    assert.equal(h.fields["wavelength units"], "nm");
    assert.equal(h.fields["description"], "{\ntest image, made by hand}");
    assert.equal(h.dataFile, `${dir}/h.dat`);
  }));

Deno.test("readEnviHeader() finds the data file by stem, extension case or 'data file'", () =>
  inTempDir(async (dir) => {
    const text = "ENVI\nsamples = 1\nlines = 1\nbands = 1\ndata type = 4\ninterleave = bsq\n";
    await Deno.writeTextFile(`${dir}/a.hdr`, text);
    await Deno.writeFile(`${dir}/a`, new Uint8Array(4));
    assert.equal((await readEnviHeader(`${dir}/a.hdr`)).dataFile, `${dir}/a`);
    await Deno.writeTextFile(`${dir}/b.hdr`, text);
    await Deno.writeFile(`${dir}/b.RAW`, new Uint8Array(4));
    assert.equal((await readEnviHeader(`${dir}/b.hdr`)).dataFile, `${dir}/b.RAW`);
    await Deno.mkdir(`${dir}/sub`);
    await Deno.writeFile(`${dir}/sub/pixels.bin`, new Uint8Array(new Float32Array([2.5]).buffer));
    await Deno.writeTextFile(`${dir}/c.hdr`, text + "data file = sub/pixels.bin\n");
    assert.deepEqual(Array.from((await readEnvi(`${dir}/c.hdr`)).data), [2.5]);
    await Deno.writeTextFile(`${dir}/d.hdr`, text);
    await rejectsWith(
      () => readEnviHeader(`${dir}/d.hdr`),
      Deno.errors.NotFound,
      `tried ${dir}/d, ${dir}/d.img`,
    );
  }));

Deno.test("readEnvi() rejects unsupported types, bad headers and truncated data", () =>
  inTempDir(async (dir) => {
    const base = "ENVI\nsamples = 4\nlines = 3\nbands = 2\ninterleave = bip\n";
    await Deno.writeFile(`${dir}/x.img`, new Uint8Array(4 * 3 * 2 * 4 - 1));
    await Deno.writeTextFile(`${dir}/x.hdr`, base + "data type = 4\n");
    await rejectsWith(
      () => readEnvi(`${dir}/x.hdr`),
      InvalidDataError,
      "expected 96 bytes, got 95",
    );
    await Deno.writeTextFile(`${dir}/x.hdr`, base + "data type = 6\n");
    await rejectsWith(
      () => readEnvi(`${dir}/x.hdr`),
      InvalidDataError,
      "data type 6 is complex64, which prism does not read",
    );
    await Deno.writeTextFile(`${dir}/x.hdr`, base + "data type = 9\n");
    await rejectsWith(() => readEnvi(`${dir}/x.hdr`), InvalidDataError, "9 is complex128");
    await Deno.writeTextFile(`${dir}/x.hdr`, base + "data type = 7\n");
    await rejectsWith(
      () => readEnvi(`${dir}/x.hdr`),
      InvalidDataError,
      "data type 7 is not supported; supported are 1 (uint8), 2 (int16), 3 (int32)",
    );
    await Deno.writeTextFile(`${dir}/x.hdr`, "ENVI\nsamples = 4\nlines = 3\ndata type = 4\n");
    await rejectsWith(() => readEnvi(`${dir}/x.hdr`), InvalidDataError, "'bands' is missing");
    await Deno.writeTextFile(`${dir}/x.hdr`, base + "data type = 4\nbyte order = 2\n");
    await rejectsWith(() => readEnvi(`${dir}/x.hdr`), InvalidDataError, "byte order 2");
    await Deno.writeTextFile(`${dir}/x.hdr`, base.replace("bip", "bsl") + "data type = 4\n");
    await rejectsWith(() => readEnvi(`${dir}/x.hdr`), InvalidDataError, "interleave 'bsl'");
    await Deno.writeTextFile(`${dir}/x.hdr`, base + "data type = 4\nwavelength = {1, 2, 3}\n");
    await rejectsWith(() => readEnvi(`${dir}/x.hdr`), InvalidDataError, "must list 2 numbers");
    await Deno.writeTextFile(`${dir}/x.hdr`, base + "data type = 4\nwavelength = {1,\n 2\n");
    await rejectsWith(() => readEnvi(`${dir}/x.hdr`), InvalidDataError, "is never closed");
    await Deno.writeTextFile(`${dir}/x.hdr`, "NOT ENVI\n" + base);
    await rejectsWith(() => readEnvi(`${dir}/x.hdr`), InvalidDataError, "not an ENVI header");
    await Deno.writeTextFile(`${dir}/x.hdr`, base + "samples = -4\ndata type = 4\n");
    await rejectsWith(
      () => readEnvi(`${dir}/x.hdr`),
      InvalidDataError,
      "'samples' must be a whole number",
    );
  }));
