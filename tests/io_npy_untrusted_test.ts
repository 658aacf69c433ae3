/**
 * `.npy` files as untrusted input (issue 10): zero-size axes with huge others, shapes beyond
 * 2^53, too many axes, huge declared headers, band counts whose covariance or RX inverse is over
 * the memory budget, reads over the budget. Fixtures are made here, small, in temporary folders.
 *
 * @module
 */

import assert from "node:assert/strict";
import { openNpy, readNpy, writeNpy } from "../io/npy.ts";
import { openCubeSource } from "../io/cube_source.ts";
import { covariance } from "../ops/covariance.ts";
import { CovarianceAccumulator } from "../ops/covariance_accumulator.ts";
import { RxDetector } from "../ops/rx.ts";
import { InvalidDataError, OutOfMemoryError } from "../core/errors.ts";
import { inTempDir, rejectsWith, throwsWith } from "./_io_helpers.ts";
import { npyWithHeader, withBudget } from "./_untrusted_helpers.ts";

const dict = (shape: string, descr = "<f4") =>
  `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape}), }`;

Deno.test(".npy: shape (1e15, 0, 5) streams no chunk and stops at once", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/z.npy`, npyWithHeader(dict("1000000000000000, 0, 5")));
    const whole = await readNpy(`${dir}/z.npy`);
    assert.equal(whole.data.length, 0);
    const src = await openCubeSource(`${dir}/z.npy`);
    assert.equal(src.rows, 0);
    let chunks = 0;
    for await (const _ of src.chunks()) chunks++;
    assert.equal(chunks, 0);
    assert.equal((await src.readAll()).data.length, 0);
    await rejectsWith(() => covariance(src.chunks()), RangeError, "input has 0 rows");
    src.close();
    // The same with a 4-D stack.
    await Deno.writeFile(`${dir}/s.npy`, npyWithHeader(dict("1000000000000000, 0, 3, 5")));
    const stack = await openCubeSource(`${dir}/s.npy`);
    for await (const _ of stack.chunks()) chunks++;
    assert.equal(chunks, 0);
    stack.close();
  });
});

Deno.test(".npy: 0 bands is refused naming the file and the axis", async () => {
  await inTempDir(async (dir) => {
    for (const shape of ["1000000000000000, 5, 0", "7, 0", "2, 2, 2, 0"]) {
      await Deno.writeFile(`${dir}/b.npy`, npyWithHeader(dict(shape)));
      const e = await rejectsWith(() => openCubeSource(`${dir}/b.npy`), TypeError, "0 bands");
      assert.match(e.message, /b\.npy holds an array of shape .*with 0 bands \(its last axis\)/);
    }
  });
});

Deno.test(".npy: axes beyond 2^53, more than 64 axes and a huge declared header are refused", async () => {
  const cases: [Uint8Array, RegExp][] = [
    [npyWithHeader(dict("99999999999999999999, 0")), /beyond 2\^53/],
    [npyWithHeader(dict("4294967296, 4294967296, 4294967296")), /beyond 2\^53/],
    [npyWithHeader(dict(Array(65).fill("1").join(", "))), /65 axes, over 64/],
  ];
  const huge = npyWithHeader(dict("2,"), new Uint8Array(8), 2);
  new DataView(huge.buffer).setUint32(8, 2 ** 31, true);
  cases.push([huge, /header of 2\.00 GiB, over the 1\.00 MiB limit/]);
  for (const [bytes, message] of cases) {
    await rejectsWith(() => readNpy(bytes), InvalidDataError, message);
  }
  await inTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/h.npy`, huge);
    await rejectsWith(() => openNpy(`${dir}/h.npy`), InvalidDataError, "NPY_HEADER_LIMIT");
  });
});

Deno.test("covariance/RX: band counts whose state is over the budget fail at once with band advice", async () => {
  const e = throwsWith(() => new CovarianceAccumulator(65535), OutOfMemoryError, "65535 bands");
  assert.match(e.message, /fewer bands: a band subset, or reduce them first \(PCA or MNF/);
  await inTempDir(async (dir) => {
    // The 2 × 20,000 .npy: 3.2 GB per bands² float64 matrix.
    const bands = 20000;
    await writeNpy(`${dir}/wide.npy`, { data: new Float32Array(2 * bands), shape: [2, bands] });
    const src = await openCubeSource(`${dir}/wide.npy`);
    await rejectsWith(
      () => new RxDetector().fit(src.chunks(), { backend: "wasm" }),
      OutOfMemoryError,
      /the covariance of 20000 bands .* over the memory budget.*PCA or MNF/,
    );
    src.close();
  });
  await withBudget("64M", async () => {
    // 1500 bands: the covariance (3 × 18 MB) fits, RX's inverse (4 × 18 MB) does not.
    await rejectsWith(
      () =>
        RxDetector.fromStatistics({
          count: 10,
          bands: 1500,
          mean: new Float64Array(1500),
          covariance: new Float64Array(1500 * 1500),
        }),
      OutOfMemoryError,
      "RX's inverse covariance of 1500 bands",
    );
  });
});

Deno.test(".npy: reads over the memory budget fail before allocating, with advice", async () => {
  await inTempDir(async (dir) => {
    await writeNpy(`${dir}/a.npy`, { data: new Float32Array(64 * 64), shape: [64, 64] });
    await withBudget("8K", async () => {
      await rejectsWith(() => readNpy(`${dir}/a.npy`), OutOfMemoryError, "openNpy()");
      using r = await openNpy(`${dir}/a.npy`);
      await rejectsWith(() => r.readRows(0, 64), OutOfMemoryError, "read fewer rows");
      assert.equal((await r.readRows(0, 4)).length, 256);
      const src = await openCubeSource(`${dir}/a.npy`);
      await rejectsWith(() => src.readAll(), OutOfMemoryError, "stream it in chunks");
      let rows = 0;
      for await (const m of src.chunks(8)) rows += m.rows;
      assert.equal(rows, 64);
      src.close();
    });
  });
});
