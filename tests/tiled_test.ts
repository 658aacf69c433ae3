import assert from "node:assert";
import { runTiled } from "../nn/tiled.ts";
import { AbortedError, InvalidDataError } from "../core/errors.ts";
import { openImageSource } from "../io/image_source.ts";
import { readNpy, writeNpy } from "../io/npy.ts";
import { readHdf5Dataset, writeHdf5 } from "../io/hdf5.ts";
import { randomF32 } from "../synth/uniform.ts";
import {
  DOWN_UP_SPEC,
  QUARTER_SPEC,
  runWhole,
  SMALL_SPEC,
  TinyNet,
  type TinySpec,
} from "./_tiny_nets.ts";
import { inTempDir, rejectsWith } from "./_io_helpers.ts";

/** Elementwise within 1e-5 of the whole run, relative to each value or the output's mean size. */
function assertSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string) {
  assert.strictEqual(got.length, want.length, `${what}: length`);
  let mean = 0;
  for (let i = 0; i < want.length; i++) mean += Math.abs(want[i]) / want.length;
  for (let i = 0; i < want.length; i++) {
    const tol = 1e-5 * Math.max(Math.abs(want[i]), mean);
    assert(Math.abs(got[i] - want[i]) <= tol, `${what}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

function image(h: number, w: number, c: number, seed = 7) {
  return { data: randomF32(h * w * c, seed), shape: [h, w, c] };
}

const CASES: [TinySpec, number[], number[]][] = [
  // spec, tile sizes, batch sizes
  [SMALL_SPEC, [16, 40, 256], [1, 3]],
  [DOWN_UP_SPEC, [24, 36], [1, 4]],
  [QUARTER_SPEC, [20, 36], [2]],
];

for (const [spec, tiles, batches] of CASES) {
  Deno.test(`runTiled equals the whole-image run: ${spec.name}, 97x131, tiles ${tiles}`, async () => {
    const net = new TinyNet(spec);
    const img = image(97, 131, net.inputChannels);
    const whole = await runWhole(net, img);
    for (const tileSize of tiles) {
      for (const batchSize of batches) {
        const progress: number[][] = [];
        const got = await runTiled(net, img, {
          tileSize,
          batchSize,
          onProgress: (done, total) => progress.push([done, total]),
        });
        const what = `${spec.name} tile ${tileSize} batch ${batchSize}`;
        assert.deepStrictEqual(got?.shape, whole.shape, what);
        assertSame(got!.data, whole.data, what);
        const [done, total] = progress.at(-1)!;
        assert(done === total && progress.every(([d], i) => i === 0 || d > progress[i - 1][0]));
      }
    }
  });
}

Deno.test("runTiled batches only equal tile sizes, up to batchSize", async () => {
  const net = new TinyNet(SMALL_SPEC);
  // 97 x 131 with 40-pixel tiles: 3 x 4 tiles; widths 43 (first), 46 (inner), 14 (last).
  await runTiled(net, image(97, 131, 6), { tileSize: 40, batchSize: 4 });
  assert(net.calls.every(([n]) => n <= 4));
  assert.strictEqual(net.calls.reduce((a, [n]) => a + n, 0), 3 * 4);
  // Per band: the two inner tiles share one batch, the edge ones run alone.
  assert.deepStrictEqual(net.calls.slice(0, 3).map((s) => s[0]).sort(), [1, 1, 2]);
});

Deno.test("runTiled: 1x1 and tiny images, one tile bigger than the image", async () => {
  for (
    const [spec, h, w] of [[SMALL_SPEC, 1, 1], [SMALL_SPEC, 2, 9], [QUARTER_SPEC, 13, 12]] as const
  ) {
    const net = new TinyNet(spec);
    const img = image(h, w, net.inputChannels, 3);
    const whole = await runWhole(net, img);
    const got = await runTiled(net, img, { tileSize: 64 });
    assert.deepStrictEqual(got?.shape, whole.shape);
    assertSame(got!.data, whole.data, `${spec.name} ${h}x${w}`);
  }
});

Deno.test("runTiled streams .npy and HDF5 images to .npy and HDF5 outputs", async () => {
  const net = new TinyNet(DOWN_UP_SPEC);
  const img = image(61, 45, 3, 11);
  const whole = await runWhole(net, img);
  await inTempDir(async (dir) => {
    await writeNpy(`${dir}/in.npy`, img);
    await writeHdf5(`${dir}/in.h5`, { datasets: [{ path: "img", ...img }] });
    {
      using source = await openImageSource(`${dir}/in.npy`);
      const r = await runTiled(net, source, { tileSize: 24, output: `${dir}/out.npy` });
      assert.strictEqual(r, undefined);
    }
    const npy = await readNpy(`${dir}/out.npy`);
    assert.deepStrictEqual(npy.shape, whole.shape);
    assertSame(npy.data, whole.data, "npy");
    {
      using source = await openImageSource(`${dir}/in.h5`, { dataset: "/img" });
      await runTiled(net, source, {
        tileSize: 24,
        batchSize: 2,
        output: `${dir}/out.h5`,
        dataset: "result/y",
      });
    }
    const h5 = await readHdf5Dataset(`${dir}/out.h5`, "result/y");
    assert.deepStrictEqual(h5.shape, whole.shape);
    assertSame(h5.data as Float32Array, whole.data, "h5");
  });
});

Deno.test("runTiled: an abort or a failure midway writes nothing", async () => {
  const net = new TinyNet(SMALL_SPEC);
  const img = image(50, 50, 6);
  await inTempDir(async (dir) => {
    const controller = new AbortController();
    await rejectsWith(
      () =>
        runTiled(net, img, {
          tileSize: 16,
          output: `${dir}/a.npy`,
          signal: controller.signal,
          onProgress: (done) => done === 5 && controller.abort("stop"),
        }),
      AbortedError,
      "runTiled()",
    );
    const bad = img.data.slice();
    bad[(40 * 50 + 7) * 6 + 2] = NaN;
    const e = await rejectsWith(
      () =>
        runTiled(net, { data: bad, shape: [50, 50, 6] }, { tileSize: 16, output: `${dir}/b.h5` }),
      InvalidDataError,
      "NaN at row 40, column 7, channel 2",
    );
    assert.deepStrictEqual((e as InvalidDataError).position, { row: 40, column: 7, channel: 2 });
    assert.deepStrictEqual([...Deno.readDirSync(dir)], []);
  });
});

Deno.test("runTiled refuses bad tiles, channels and sizes with what to do", async () => {
  const net = new TinyNet(DOWN_UP_SPEC);
  const img = image(30, 30, 3);
  await rejectsWith(
    () => runTiled(net, img, { tileSize: 16 }),
    RangeError,
    /smaller than the receptive field .* \(23 pixels\).* at least 24/,
  );
  await rejectsWith(
    () => runTiled(net, img, { tileSize: 30 }),
    RangeError,
    /not a multiple of 4.*use 28 or 32/,
  );
  await rejectsWith(() => runTiled(net, img, { batchSize: 0 }), RangeError, /batchSize/);
  await rejectsWith(
    () => runTiled(net, image(9, 9, 4), {}),
    TypeError,
    /4 channels but network down-up takes 3/,
  );
  await rejectsWith(
    () => runTiled(net, { data: new Float32Array(9), shape: [3, 3] }),
    TypeError,
    /\[h, w, c\]/,
  );
  await rejectsWith(() => runTiled(net, img, { output: `/tmp/x.png` }), TypeError, /\.npy, \.h5/);
  // An image far beyond one batch's buffers, refused before anything is read.
  const huge = {
    height: 60000,
    width: 60000,
    channels: 6,
    readRows: () => Promise.reject(new Error("must not read")),
  };
  await rejectsWith(
    () => runTiled(new TinyNet(SMALL_SPEC), huge, { tileSize: 20000 }),
    RangeError,
    /4 GiB .*smaller tileSize or batchSize/,
  );
});
