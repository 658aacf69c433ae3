/**
 * activation(), activationBackward(), add() and channelAffine() on every placement
 * (tests/_layer_backends.ts) against float64: ReLU and exact-erf GELU, channels 1, 3 and 13,
 * 1×1 images and odd sizes; f32 within 1e-4 relative, f16 within 2e-2. A chain of layers on a GPU
 * tensor submits once.
 */

import { equal } from "node:assert/strict";
import { getGpu } from "../gpu/device.ts";
import { activation, activationBackward } from "../ops/activation.ts";
import { add } from "../ops/add.ts";
import { channelAffine } from "../ops/channel_affine.ts";
import { convTranspose2d } from "../ops/conv_transpose2d.ts";
import { layerNorm } from "../ops/layer_norm.ts";
import { upsampleBilinear } from "../ops/upsample.ts";
import { toDevice } from "../tensor/device_tensor.ts";
import { randomF32 } from "../synth/uniform.ts";
import {
  assertNear,
  disposePlaced,
  HAS_GPU,
  place,
  PLACEMENTS,
  readOn,
  seen,
  tolerance,
} from "./_layer_backends.ts";
import { activationF64, type Shape4 } from "./_layer_reference.ts";

const SHAPES: Shape4[] = [[1, 1, 1, 1], [2, 5, 3, 3], [1, 7, 9, 13], [3, 1, 1, 5]];

/** Seeded values spread over [-4, 4], where GELU bends. */
const values = (n: number, seed: number) => randomF32(n, seed).map((v) => 8 * v - 4);

for (const p of PLACEMENTS) {
  Deno.test(`activation, add, channelAffine, ${p.backend} ${p.form}`, async () => {
    try {
      for (const [i, shape] of SHAPES.entries()) {
        const n = shape.reduce((a, b) => a * b);
        const C = shape[3];
        const xd = values(n, 100 + i);
        const dyd = values(n, 200 + i);
        const x = await place(p, xd, shape);
        const dy = await place(p, dyd, shape);
        const [xs, dys] = [seen(p, xd), seen(p, dyd)];
        const o = { backend: p.backend };
        const what = `[${shape}]`;
        for (const kind of ["relu", "gelu"] as const) {
          using y = await activation(x, { ...o, kind });
          const ref = Array.from(xs, (v) => activationF64(kind, v).y);
          assertNear(`${what} ${kind}`, await readOn(p, y), ref, tolerance(p));
          using dx = await activationBackward(x, { ...o, kind, dy });
          const dref = Array.from(xs, (v, j) => activationF64(kind, v).dy * dys[j]);
          assertNear(`${what} ${kind} backward`, await readOn(p, dx), dref, tolerance(p));
        }
        using sum = await add(x, dy, o);
        assertNear(`${what} add`, await readOn(p, sum), xs.map((v, j) => v + dys[j]), tolerance(p));
        // A plain second operand with a resident first runs where the first lives.
        using mixed = await add(x, { data: dyd, shape: [...shape] }, o);
        assertNear(
          `${what} add mixed`,
          await readOn(p, mixed),
          xs.map((v, j) => v + dyd[j]),
          tolerance(p),
        );
        const scale = values(C, 300 + i);
        const shift = values(C, 400 + i);
        for (const act of ["none", "relu", "gelu"] as const) {
          using y = await channelAffine(x, { ...o, scale, shift, activation: act });
          const ref = Array.from(xs, (v, j) => {
            const z = v * scale[j % C] + shift[j % C];
            return act === "none" ? z : activationF64(act, z).y;
          });
          assertNear(`${what} affine ${act}`, await readOn(p, y), ref, tolerance(p));
        }
      }
    } finally {
      await disposePlaced();
    }
  });
}

Deno.test({
  name: "a chain of layer ops on a GPU tensor records without a submit and reads back once",
  ignore: !HAS_GPU,
  async fn() {
    try {
      const gpu = await getGpu();
      const shape = [1, 3, 5, 4];
      const xd = values(60, 1000);
      using x = await toDevice(xd, { shape, backend: "webgpu" });
      const w = { data: randomF32(4 * 4 * 4 * 2, 1001), shape: [4, 4, 4, 2] };
      const gamma = new Float32Array([1, 2]);
      const beta = new Float32Array([0, 1]);
      gpu.stats.reset();
      using up = await convTranspose2d(x, w, { stride: 2, padding: 1, activation: "gelu" });
      using ln = await layerNorm(up, { gamma, beta, eps: 1e-6 });
      using act = await activation(ln, { kind: "relu" });
      using sum = await add(act, ln);
      using y = await upsampleBilinear(sum, { scale: 2 });
      equal(gpu.stats.submits, 0);
      const got = await y.read();
      equal(gpu.stats.submits, 1);
      equal(gpu.stats.readBacks, 1);
      // The same chain on WASM.
      using up2 = await convTranspose2d({ data: xd, shape }, w, {
        stride: 2,
        padding: 1,
        activation: "gelu",
        backend: "wasm",
      });
      using ln2 = await layerNorm(up2, { gamma, beta, eps: 1e-6 });
      using act2 = await activation(ln2, { kind: "relu" });
      using sum2 = await add(act2, ln2);
      using y2 = await upsampleBilinear(sum2, { scale: 2 });
      equal(y2.backend, "wasm");
      assertNear("GPU chain against WASM chain", got, await y2.read(), 1e-4);
    } finally {
      await disposePlaced();
    }
  },
});
