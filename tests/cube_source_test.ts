import assert from "node:assert";
import { openCubeSource } from "../io/cube_source.ts";
import { writeNpy } from "../io/npy.ts";
import { writeHdf5 } from "../io/hdf5.ts";
import { InvalidDataError } from "../core/errors.ts";
import { inTempDir, rejectsWith } from "./_io_helpers.ts";

const H = 7, W = 5, C = 3;
const cube = new Float32Array(H * W * C).map((_, i) => i * 0.5 - 3);

async function collect(path: string, maxRows: number, dataset?: string) {
  const src = await openCubeSource(path, { dataset });
  try {
    const parts: Float32Array[] = [];
    let biggest = 0;
    for await (const m of src.chunks(maxRows)) {
      assert(m.cols === C && m.data.length === m.rows * C);
      biggest = Math.max(biggest, m.rows);
      parts.push(m.data);
    }
    const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((o, p) => (all.set(p, o), o + p.length), 0);
    return { src, all, biggest, whole: await src.readAll() };
  } finally {
    src.close();
  }
}

Deno.test("openCubeSource streams .npy (2-D, 3-D, 4-D), HDF5 and ENVI BIL int16 in order", async () => {
  await inTempDir(async (dir) => {
    await writeNpy(`${dir}/c3.npy`, { data: cube, shape: [H, W, C] });
    await writeNpy(`${dir}/c2.npy`, { data: cube, shape: [H * W, C] });
    await writeNpy(`${dir}/c4.npy`, { data: cube.slice(0, 1 * H * W * C), shape: [1, H, W, C] });
    await writeHdf5(`${dir}/c.h5`, {
      datasets: [{ path: "g/cube", data: cube, shape: [H, W, C] }],
    });
    // ENVI BIL int16, big-endian: line y, band b, sample x.
    const ints = new Int16Array(H * W * C).map((_, i) => i - 50);
    const bil = new DataView(new ArrayBuffer(H * W * C * 2));
    for (let y = 0; y < H; y++) {
      for (let b = 0; b < C; b++) {
        for (let x = 0; x < W; x++) {
          bil.setInt16(((y * C + b) * W + x) * 2, ints[(y * W + x) * C + b], false);
        }
      }
    }
    await Deno.writeFile(`${dir}/e.img`, new Uint8Array(bil.buffer));
    await Deno.writeTextFile(
      `${dir}/e.hdr`,
      `ENVI\nsamples = ${W}\nlines = ${H}\nbands = ${C}\ndata type = 2\ninterleave = bil\nbyte order = 1\n`,
    );
    for (
      const [name, rows] of [["c3.npy", 11], ["c2.npy", 4], ["c4.npy", 1], ["c.h5", 6]] as const
    ) {
      const r = await collect(`${dir}/${name}`, rows, name.endsWith(".h5") ? "/g/cube" : undefined);
      assert.deepStrictEqual(r.all, cube, name);
      assert.deepStrictEqual(r.whole.data, cube, name);
      assert(r.src.rows === H * W && r.src.bands === C);
      // Chunks are whole lines (3-D) or whole samples (4-D: files are read along the first axis).
      const unit = name === "c4.npy" ? H * W : name === "c2.npy" ? 1 : W;
      assert(r.biggest <= Math.max(rows, unit), `${name}: chunk of ${r.biggest}`);
    }
    const e = await collect(`${dir}/e.hdr`, 10);
    assert.deepStrictEqual(e.all, Float32Array.from(ints));
    assert(e.src.height === H && e.src.width === W);
    assert.deepStrictEqual([...(await collect(`${dir}/c4.npy`, 1)).src.pixelShape], [1, H, W]);
  });
});

Deno.test("openCubeSource rejects unknown formats, missing datasets, bad shapes and corrupt files", async () => {
  await inTempDir(async (dir) => {
    await rejectsWith(() => openCubeSource(`${dir}/x.tif`), RangeError, ".npy");
    await writeHdf5(`${dir}/c.h5`, { datasets: [{ path: "cube", data: cube, shape: [H, W, C] }] });
    await rejectsWith(() => openCubeSource(`${dir}/c.h5`), TypeError, "--dataset");
    await rejectsWith(
      () => openCubeSource(`${dir}/c.h5`, { dataset: "/nope" }),
      Deno.errors.NotFound,
    );
    await writeNpy(`${dir}/v.npy`, { data: cube, shape: [H * W * C] });
    await rejectsWith(() => openCubeSource(`${dir}/v.npy`), TypeError, "shape");
    await writeNpy(`${dir}/t.npy`, { data: cube, shape: [H, W, C] });
    const bytes = await Deno.readFile(`${dir}/t.npy`);
    await Deno.writeFile(`${dir}/t.npy`, bytes.subarray(0, bytes.length - 10));
    await rejectsWith(() => openCubeSource(`${dir}/t.npy`), InvalidDataError, "truncated");
    await Deno.writeTextFile(
      `${dir}/u.hdr`,
      "ENVI\nsamples = 2\nlines = 2\nbands = 1\ndata type = 6\n",
    );
    await Deno.writeFile(`${dir}/u.img`, new Uint8Array(32));
    await rejectsWith(() => openCubeSource(`${dir}/u.hdr`), InvalidDataError, "data type");
  });
});
