import assert from "node:assert";
import { rxLocal } from "../ops/rx_local.ts";
import { InvalidDataError } from "../core/errors.ts";
import type { Cube } from "../core/types.ts";
import { Rng } from "../synth/rng.ts";
import { readNpy, writeNpy } from "../io/npy.ts";
import { hasNumpy, inTempDir, python, rejectsWith } from "./_io_helpers.ts";

function randomCube(height: number, width: number, bands: number, seed: number): Cube {
  const rng = new Rng(seed);
  const data = new Float32Array(height * width * bands).map(() => 1000 + rng.normal());
  return { data, height, width, bands };
}

/** Brute force in numpy: every pixel's clipped annulus, mean, cov (ddof 1), solve. */
async function numpyLocal(cube: Cube, inner: number, outer: number, eps: number) {
  let out!: Float64Array;
  await inTempDir(async (dir) => {
    await writeNpy(`${dir}/c.npy`, {
      data: cube.data,
      shape: [cube.height, cube.width, cube.bands],
    });
    await python(
      `import numpy as np, sys
X = np.load(sys.argv[1]).astype(np.float64); H, W, C = X.shape
i, o, eps = int(sys.argv[3]) // 2, int(sys.argv[4]) // 2, float(sys.argv[5])
S = np.zeros((H, W))
for y in range(H):
    for x in range(W):
        m = np.zeros((H, W), bool)
        m[max(0, y-o):y+o+1, max(0, x-o):x+o+1] = True
        m[max(0, y-i):y+i+1, max(0, x-i):x+i+1] = False
        B = X[m]; mu = B.mean(0); d = X[y, x] - mu
        cov = np.cov(B, rowvar=False, ddof=1).reshape(C, C) + eps * np.eye(C)
        S[y, x] = d @ np.linalg.solve(cov, d)
np.save(sys.argv[2], S.ravel())`,
      `${dir}/c.npy`,
      `${dir}/s.npy`,
      String(inner),
      String(outer),
      String(eps),
    );
    out = (await readNpy(`${dir}/s.npy`)).data as Float64Array;
  });
  return out;
}

for (const [h, w, c, inner, outer] of [[11, 13, 4, 1, 5], [9, 7, 3, 3, 7], [5, 17, 2, 1, 3]]) {
  Deno.test({
    name:
      `rxLocal matches a brute-force float64 reference on ${h}x${w}x${c} with (${inner}, ${outer})`,
    ignore: !hasNumpy,
    async fn() {
      const cube = randomCube(h, w, c, h * w + c);
      const got = await rxLocal(cube, { inner, outer, eps: 1e-3 });
      const ref = await numpyLocal(cube, inner, outer, 1e-3);
      for (let i = 0; i < ref.length; i++) {
        assert(
          Math.abs(got[i] - ref[i]) <= 1e-4 * Math.abs(ref[i]) + 1e-6,
          `${i}: ${got[i]} vs ${ref[i]}`,
        );
      }
    },
  });
}

Deno.test("rxLocal validates windows, eps, pixel count and NaN", async () => {
  const cube = randomCube(4, 4, 2, 1);
  await rejectsWith(() => rxLocal(cube, { inner: 2, outer: 5 }), RangeError, "odd");
  await rejectsWith(() => rxLocal(cube, { inner: 5, outer: 3 }), RangeError, "inner < outer");
  await rejectsWith(() => rxLocal(cube, { inner: 1, outer: 3, eps: -1 }), RangeError, "eps");
  await rejectsWith(
    () =>
      rxLocal({ data: new Float32Array(2), height: 1, width: 1, bands: 2 }, { inner: 1, outer: 3 }),
    RangeError,
    "2 pixels",
  );
  const bad = { ...cube, data: cube.data.slice() };
  bad.data[5 * 2 + 1] = NaN;
  await rejectsWith(() => rxLocal(bad, { inner: 1, outer: 3 }), InvalidDataError, "pixel 5");
  const ac = new AbortController();
  ac.abort();
  await rejectsWith(() => rxLocal(cube, { inner: 1, outer: 3, signal: ac.signal }), Error, "abort");
});
