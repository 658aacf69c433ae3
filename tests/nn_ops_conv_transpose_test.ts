/**
 * convTranspose2d() and convTranspose2dBackward() (ops/conv_transpose2d.ts) on every placement
 * (tests/_layer_backends.ts) against the float64 scatter reference of tests/_layer_reference.ts
 * (itself checked against PyTorch in nn_ops_fixtures_test.ts): odd sizes, 1×1 images, 7×7
 * kernels on 5×5, channels 1, 3 and 13, stride 2 on odd sizes; f32 within 1e-4, f16 2e-2.
 */

import { deepEqual } from "node:assert/strict";
import { convTranspose2d, convTranspose2dBackward } from "../ops/conv_transpose2d.ts";
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
import {
  activationF64,
  convTransposeBackwardF64,
  convTransposeF64,
  type Shape4,
} from "./_layer_reference.ts";

interface Case {
  name: string;
  input: Shape4;
  kernel: number;
  out: number;
  stride: 1 | 2;
  padding: number;
}

const CASES: Case[] = [
  {
    name: "k4 s2 p1, 3 -> 13 on 5x7, batch 2",
    input: [2, 5, 7, 3],
    kernel: 4,
    out: 13,
    stride: 2,
    padding: 1,
  },
  {
    name: "k4 s2 p1 on a 1x1 image",
    input: [1, 1, 1, 1],
    kernel: 4,
    out: 1,
    stride: 2,
    padding: 1,
  },
  {
    name: "k7 s1 p3 on 5x5, 13 -> 3",
    input: [1, 5, 5, 13],
    kernel: 7,
    out: 3,
    stride: 1,
    padding: 3,
  },
  {
    name: "k3 s2 p1 on 4x3 (odd output 7x5)",
    input: [1, 4, 3, 3],
    kernel: 3,
    out: 2,
    stride: 2,
    padding: 1,
  },
  {
    name: "k3 s2 p0 on 3x5, 1 channel",
    input: [1, 3, 5, 1],
    kernel: 3,
    out: 1,
    stride: 2,
    padding: 0,
  },
  { name: "k1 s1 p0, batch 3", input: [3, 2, 3, 5], kernel: 1, out: 4, stride: 1, padding: 0 },
];

for (const p of PLACEMENTS) {
  Deno.test(`convTranspose2d() forward and backward, ${p.backend} ${p.form}`, async () => {
    try {
      for (const [i, c] of CASES.entries()) {
        const wShape: Shape4 = [c.kernel, c.kernel, c.input[3], c.out];
        const xData = randomF32(c.input.reduce((a, b) => a * b), 40 + i);
        const w = { data: randomF32(wShape.reduce((a, b) => a * b), 50 + i), shape: [...wShape] };
        const bias = randomF32(c.out, 60 + i);
        const x = await place(p, xData, c.input);
        const o = { stride: c.stride, padding: c.padding, backend: p.backend };
        const precision = p.form === "f16" ? "f16" as const : "f32" as const;
        const ref = convTransposeF64(seen(p, xData), c.input, seen(p, w.data), wShape, {
          ...o,
          bias,
        });
        for (const act of ["none", "relu", "gelu"] as const) {
          using y = await convTranspose2d(x, w, { ...o, bias, activation: act, precision });
          deepEqual(y.shape, ref.shape, `${c.name}: output shape`);
          const want = act === "none" ? ref.y : ref.y.map((v) => activationF64(act, v).y);
          assertNear(`${c.name} ${act}`, await readOn(p, y), want, tolerance(p));
        }
        if (p.form === "f16") continue; // gradients run in f32
        const dyData = randomF32(ref.y.length, 70 + i);
        const dy = await place(p, dyData, ref.shape);
        const g = await convTranspose2dBackward(x, w, { ...o, dy });
        const r = convTransposeBackwardF64(xData, c.input, w.data, wShape, dyData, o);
        assertNear(`${c.name} dInput`, await readOn(p, g.dInput), r.dx, 1e-4);
        assertNear(`${c.name} dWeights`, g.dWeights, r.dw, 1e-4);
        assertNear(`${c.name} dBias`, g.dBias, r.db, 1e-4);
        g.dInput.dispose();
      }
    } finally {
      await disposePlaced();
    }
  });
}
