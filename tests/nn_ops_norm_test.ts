/**
 * batchNorm() / batchNormBackward() (batch statistics, biased variance) and layerNorm() /
 * layerNormBackward() (over the channels of each pixel) on every placement
 * (tests/_layer_backends.ts) against the float64 references of tests/_layer_reference.ts:
 * channels 1, 3 and 13, 1×1 images, a mean far from zero; f32 within 1e-4, f16 within 2e-2.
 */

import { batchNorm, batchNormBackward } from "../ops/batch_norm.ts";
import { layerNorm, layerNormBackward } from "../ops/layer_norm.ts";
import { randomF32 } from "../synth/uniform.ts";
import {
  assertNear,
  disposePlaced,
  place,
  PLACEMENTS,
  readOn,
  seen,
  tolerance,
} from "./_layer_backends.ts";
import { batchNormF64, layerNormF64, type Shape4 } from "./_layer_reference.ts";

/** Shapes and an offset added to the input (a mean far from zero tests the centring). */
const CASES: [Shape4, number][] = [
  [[2, 5, 3, 3], 0],
  [[1, 7, 9, 13], 0],
  [[4, 1, 1, 1], 0],
  [[3, 2, 3, 13], 50],
];

for (const p of PLACEMENTS) {
  Deno.test(`batchNorm and layerNorm, forward and backward, ${p.backend} ${p.form}`, async () => {
    try {
      for (const [i, [shape, offset]] of CASES.entries()) {
        const n = shape.reduce((a, b) => a * b);
        const C = shape[3];
        const xd = randomF32(n, 500 + i).map((v) => 3 * v + offset);
        const dyd = randomF32(n, 600 + i);
        const gamma = randomF32(C, 700 + i).map((v) => v + 0.5);
        const beta = randomF32(C, 800 + i);
        const x = await place(p, xd, shape);
        const dy = await place(p, dyd, shape);
        const [xs, dys] = [seen(p, xd), seen(p, dyd)];
        const o = { backend: p.backend, gamma, beta, eps: 1e-5 };
        const what = `[${shape}] + ${offset}`;
        const tol = tolerance(p);

        const bn = await batchNorm(x, o);
        const bref = batchNormF64(xs, C, { ...o, dy: dys });
        assertNear(`${what} batchNorm`, await readOn(p, bn.output), bref.y, tol);
        assertNear(`${what} batchNorm mean`, bn.mean, bref.mean, tol);
        assertNear(`${what} batchNorm variance`, bn.variance, bref.variance, tol);
        bn.output.dispose();
        const bg = await batchNormBackward(x, {
          ...o,
          dy,
          mean: bn.mean,
          variance: bn.variance,
        });
        assertNear(`${what} batchNorm dInput`, await readOn(p, bg.dInput), bref.dx!, tol);
        assertNear(`${what} batchNorm dGamma`, bg.dGamma, bref.dGamma!, tol);
        assertNear(`${what} batchNorm dBeta`, bg.dBeta, bref.dBeta!, tol);
        bg.dInput.dispose();

        if (C === 1) continue; // a layer norm over one channel is β everywhere, checked below
        const lref = layerNormF64(xs, C, { ...o, dy: dys });
        using ln = await layerNorm(x, o);
        assertNear(`${what} layerNorm`, await readOn(p, ln), lref.y, tol);
        const lg = await layerNormBackward(x, { ...o, dy });
        assertNear(`${what} layerNorm dInput`, await readOn(p, lg.dInput), lref.dx!, tol);
        assertNear(`${what} layerNorm dGamma`, lg.dGamma, lref.dGamma!, tol);
        assertNear(`${what} layerNorm dBeta`, lg.dBeta, lref.dBeta!, tol);
        lg.dInput.dispose();
      }
      // One channel: x̂ = 0, so the output is β and the input gradient zero.
      const x1 = await place(p, new Float32Array([1, 2, 3]), [1, 1, 3, 1]);
      const one = {
        backend: p.backend,
        gamma: new Float32Array([2]),
        beta: new Float32Array([7]),
        eps: 1e-5,
      };
      using y1 = await layerNorm(x1, one);
      assertNear("layerNorm of one channel", await readOn(p, y1), [7, 7, 7], 0);
    } finally {
      await disposePlaced();
    }
  });
}
