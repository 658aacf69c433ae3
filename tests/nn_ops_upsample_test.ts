/**
 * upsampleBilinear() and upsampleBilinearBackward() (align_corners=False) on every placement
 * (tests/_layer_backends.ts) against the dense float64 interpolation matrix of
 * tests/_layer_reference.ts: scales 2 and 4, 1×1 images, odd sizes, channels 1, 3 and 13; f32
 * within 1e-4, f16 within 2e-2.
 */

import { deepEqual } from "node:assert/strict";
import { upsampleBilinear, upsampleBilinearBackward } from "../ops/upsample.ts";
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
import { type Shape4, upsampleF64 } from "./_layer_reference.ts";

const SHAPES: Shape4[] = [[1, 1, 1, 1], [2, 5, 3, 3], [1, 3, 7, 13], [1, 2, 1, 2]];

for (const p of PLACEMENTS) {
  Deno.test(`upsampleBilinear forward and backward, ${p.backend} ${p.form}`, async () => {
    try {
      for (const [i, shape] of SHAPES.entries()) {
        for (const scale of [2, 4] as const) {
          const xd = randomF32(shape.reduce((a, b) => a * b), 900 + i);
          const out: Shape4 = [shape[0], shape[1] * scale, shape[2] * scale, shape[3]];
          const dyd = randomF32(out.reduce((a, b) => a * b), 950 + i);
          const x = await place(p, xd, shape);
          const dy = await place(p, dyd, out);
          const ref = upsampleF64(seen(p, xd), shape, scale, seen(p, dyd));
          const what = `[${shape}] x${scale}`;
          using y = await upsampleBilinear(x, { scale, backend: p.backend });
          deepEqual(y.shape, out);
          assertNear(what, await readOn(p, y), ref.y, tolerance(p));
          using dx = await upsampleBilinearBackward(dy, {
            scale,
            inputShape: shape,
            backend: p.backend,
          });
          deepEqual(dx.shape, shape);
          assertNear(`${what} backward`, await readOn(p, dx), ref.dx!, tolerance(p));
        }
      }
    } finally {
      await disposePlaced();
    }
  });
}
