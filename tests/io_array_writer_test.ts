import assert from "node:assert";
import { writeRowsAtomic } from "../io/array_writer.ts";
import { AbortedError } from "../core/errors.ts";
import { readHdf5Dataset } from "../io/hdf5.ts";
import { readNpy } from "../io/npy.ts";
import { hasH5py, inTempDir, python, rejectsWith } from "./_io_helpers.ts";

Deno.test("writeRowsAtomic streams bands to .npy and .h5 that numpy and h5py read", async () => {
  await inTempDir(async (dir) => {
    const all = Float32Array.from({ length: 7 * 5 * 3 }, (_, i) => i / 4);
    for (const name of ["a.npy", "a.h5"]) {
      await writeRowsAtomic(`${dir}/${name}`, { shape: [7, 5, 3], dataset: "g/y" }, async (w) => {
        for (let r = 0; r < 7; r += 3) await w(all.slice(r * 15, Math.min(7, r + 3) * 15));
      });
    }
    assert.deepStrictEqual((await readNpy(`${dir}/a.npy`)).data, all);
    assert.deepStrictEqual((await readHdf5Dataset(`${dir}/a.h5`, "g/y")).data, all);
    if (hasH5py) {
      const out = await python(
        "import sys, numpy as np, h5py\n" +
          "a = np.load(sys.argv[1]); b = h5py.File(sys.argv[2])['g/y'][:]\n" +
          "print(a.shape, b.shape, float(a.sum()), float(b.sum()))",
        `${dir}/a.npy`,
        `${dir}/a.h5`,
      );
      assert.strictEqual(out.trim(), "(7, 5, 3) (7, 5, 3) 1365.0 1365.0");
    }
  });
});

Deno.test("writeRowsAtomic leaves nothing on too few or too many rows, a throw, or a bad path", async () => {
  await inTempDir(async (dir) => {
    const row = new Float32Array(4);
    for (const name of ["b.npy", "b.h5"]) {
      await rejectsWith(
        () => writeRowsAtomic(`${dir}/${name}`, { shape: [3, 4] }, (w) => w(row)),
        TypeError,
        "only 1 of 3 rows",
      );
      await rejectsWith(
        () =>
          writeRowsAtomic(`${dir}/${name}`, { shape: [1, 4] }, async (w) => {
            await w(row);
            await w(row);
          }),
        TypeError,
        "more than its 1",
      );
      await rejectsWith(
        () =>
          writeRowsAtomic(
            `${dir}/${name}`,
            { shape: [2, 4] },
            () => Promise.reject(new RangeError("x")),
          ),
        RangeError,
        "x",
      );
      await rejectsWith(
        () => writeRowsAtomic(`${dir}/${name}`, { shape: [2, 4] }, (w) => w(new Float32Array(3))),
        TypeError,
        "whole rows of 4",
      );
    }
    await rejectsWith(
      () => writeRowsAtomic(`${dir}/c.tif`, { shape: [1] }, () => Promise.resolve()),
      TypeError,
      ".npy, .h5",
    );
    assert.deepStrictEqual([...Deno.readDirSync(dir)], []);
  });
});

Deno.test("writeRowsAtomic stops on an AbortSignal: AbortedError, no file, no temporary left", () =>
  inTempDir(async (dir) => {
    for (const name of ["a.npy", "a.h5"]) {
      const controller = new AbortController();
      await rejectsWith(
        () =>
          writeRowsAtomic(
            `${dir}/${name}`,
            { shape: [4, 2], signal: controller.signal },
            async (write) => {
              await write(new Float32Array([1, 2]));
              controller.abort();
              await write(new Float32Array([3, 4]));
            },
          ),
        AbortedError,
        "writeRowsAtomic()",
      );
      assert.deepStrictEqual([...Deno.readDirSync(dir)].map((e) => e.name), [], name);
    }
  }));
