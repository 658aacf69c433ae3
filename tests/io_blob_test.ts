/**
 * The path-free readers a web page uses, `openNpyBlob` and `openEnviBlob`, against the file
 * readers on the same bytes: every dtype and byte order, every interleave, odd sizes (1 and
 * primes), row ranges, and the messages for truncated, mis-sized and Fortran-order input.
 */

import assert from "node:assert";
import {
  encodeNpy,
  InvalidDataError,
  openEnvi,
  openEnviBlob,
  openNpyBlob,
  readNpy,
} from "../mod.ts";

/** Hand-written `.npy` bytes: a header with `descr` and `shape`, then the raw values. */
function npyBytes(
  descr: string,
  shape: number[],
  raw: Uint8Array,
  fortran = false,
): Uint8Array<ArrayBuffer> {
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? "True" : "False"}, ` +
    `'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  const pad = 64 - ((10 + dict.length + 1) % 64);
  const header = new TextEncoder().encode(dict + " ".repeat(pad % 64) + "\n");
  const out = new Uint8Array(10 + header.length + raw.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 255, header.length >> 8]);
  out.set(header, 10);
  out.set(raw, 10 + header.length);
  return out;
}

Deno.test("openNpyBlob reads every row range as readNpy does, for sizes 1 and primes", async () => {
  for (const shape of [[1, 1, 1], [7, 5, 3], [13, 2], [11]]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, (_, i) => (i * 7919) % 101 - 50.5);
    const bytes = encodeNpy(data, shape);
    const reader = await openNpyBlob(new Blob([bytes.slice()]), "a.npy");
    const whole = (await readNpy(bytes)).data;
    assert.strictEqual(reader.rows, shape[0]);
    const per = n / shape[0];
    for (let start = 0; start < shape[0]; start++) {
      for (const count of [1, shape[0] - start]) {
        const rows = await reader.readRows(start, count);
        assert.deepStrictEqual([...rows], [...whole.slice(start * per, (start + count) * per)]);
      }
    }
    await assert.rejects(() => reader.readRows(0, shape[0] + 1), RangeError);
  }
});

Deno.test("openNpyBlob converts big-endian int16 and float64 to float32", async () => {
  const view = new DataView(new ArrayBuffer(6));
  [-2, 300, 7].forEach((v, i) => view.setInt16(2 * i, v, false));
  const be = await openNpyBlob(new Blob([npyBytes(">i2", [3], new Uint8Array(view.buffer))]), "b");
  assert.deepStrictEqual([...await be.readRows(0, 3)], [-2, 300, 7]);
  const f8 = new Float64Array([0.1, -1e300, 2.5]);
  const le = await openNpyBlob(new Blob([npyBytes("<f8", [3], new Uint8Array(f8.buffer))]), "c");
  assert.deepStrictEqual([...await le.readRows(0, 3)], [...Float32Array.from(f8)]);
});

Deno.test("openNpyBlob refuses truncated, Fortran-order and non-.npy bytes, naming the file", async () => {
  const raw = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
  const short = npyBytes("<f4", [2, 3], raw).slice(0, -1);
  await assert.rejects(() => openNpyBlob(new Blob([short]), "short.npy"), (e: Error) => {
    assert(e instanceof InvalidDataError && /short\.npy is truncated/.test(e.message));
    return true;
  });
  const fortran = new Blob([npyBytes("<f4", [2, 3], raw, true)]);
  await assert.rejects(() => openNpyBlob(fortran, "f.npy"), /f\.npy is a Fortran-order array/);
  await assert.rejects(() => openNpyBlob(new Blob(["hello world, not numpy"]), "t.npy"), /t\.npy/);
  await assert.rejects(() => openNpyBlob(new Blob([]), "empty.npy"), /empty\.npy/);
});

Deno.test("openEnviBlob reads BSQ, BIL and BIP as openEnvi does", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [lines, samples, bands] = [5, 3, 7];
    const raw = Float32Array.from({ length: lines * samples * bands }, (_, i) => i * 1.5 - 20);
    for (const interleave of ["bsq", "bil", "bip"]) {
      const header = `ENVI\nsamples = ${samples}\nlines = ${lines}\nbands = ${bands}\n` +
        `data type = 4\ninterleave = ${interleave}\nbyte order = 0\n`;
      await Deno.writeTextFile(`${dir}/${interleave}.hdr`, header);
      await Deno.writeFile(`${dir}/${interleave}.img`, new Uint8Array(raw.buffer));
      using file = await openEnvi(`${dir}/${interleave}.hdr`);
      const blob = openEnviBlob(header, new Blob([raw]), `${interleave}.hdr`);
      assert.deepStrictEqual([blob.height, blob.width, blob.bands], [lines, samples, bands]);
      for (const [start, count] of [[0, lines], [2, 1], [4, 1], [1, 3]]) {
        assert.deepStrictEqual(
          [...await blob.readRows(start, count)],
          [...await file.readRows(start, count)],
          `${interleave} lines ${start}+${count}`,
        );
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openEnviBlob refuses data of another size than the header declares", () => {
  const header = "ENVI\nsamples = 2\nlines = 2\nbands = 2\ndata type = 2\ninterleave = bip\n";
  assert.throws(
    () => openEnviBlob(header, new Blob([new Uint8Array(15)]), "x.hdr"),
    (e: Error) => {
      assert(e instanceof InvalidDataError);
      assert.match(
        e.message,
        /x\.hdr has 15 bytes, but the header declares 2 lines .* \(16 bytes\)/,
      );
      return true;
    },
  );
  assert.throws(() => openEnviBlob("not a header", new Blob([]), "y.hdr"), InvalidDataError);
});
