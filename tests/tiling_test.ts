import assert from "node:assert";
import { largestActivation, outputExtent, tilingOf } from "../nn/tiling.ts";
import refiner from "../nn/specs/refiner.json" with { type: "json" };
import small from "../nn/specs/small.json" with { type: "json" };
import { DOWN_UP_SPEC, QUARTER_SPEC } from "./_tiny_nets.ts";
import { throwsWith } from "./_io_helpers.ts";

Deno.test("tilingOf: the built-in specs (refiner: 4 stride-2 layers, then two k4 s2 p1 doublings)", () => {
  assert.deepStrictEqual(tilingOf(small), {
    halo: 3,
    alignment: 1,
    scale: 1,
    receptiveField: 7,
  });
  const r = tilingOf(refiner);
  assert.deepStrictEqual([r.alignment, r.scale, r.halo], [16, 0.25, 128]);
  assert(r.receptiveField > 2 * 100 && r.receptiveField <= 2 * r.halo + 16);
  // PyTorch's sizes: 97 -> 49 -> 25 -> 13 -> 7 -> 14 -> 28 (wider than 97 / 4).
  assert(outputExtent(refiner, 0, 97) === 28 && outputExtent(refiner, 1, 131) === 36);
  assert(outputExtent(refiner, 0, 256) === 64);
});

Deno.test("tilingOf: every layer type, asymmetric and valid padding", () => {
  assert.deepStrictEqual(
    [tilingOf(DOWN_UP_SPEC).alignment, tilingOf(DOWN_UP_SPEC).scale],
    [4, 1],
  );
  const q = tilingOf(QUARTER_SPEC);
  assert.deepStrictEqual([q.alignment, q.scale, q.halo % 4], [4, 0.25, 0]);
  // A valid 3x3: the output at o reads [o, o + 2]: reach 2 to the right only.
  const valid = {
    name: "v",
    layers: [{ type: "conv2d", name: "a", kernel: [3, 3], stride: 1, padding: [0, 0, 0, 0] }],
  };
  assert.deepStrictEqual(tilingOf(valid), { halo: 2, alignment: 1, scale: 1, receptiveField: 3 });
  assert(outputExtent(valid, 1, 5) === 3);
  // Upsampling by 4 then a stride-2 conv: the conv's grid is every other upsampled pixel,
  // which any whole input origin keeps (alignment 1); scale 2.
  const upDown = {
    name: "ud",
    layers: [
      { type: "upsample", name: "up", scale: 4 },
      { type: "conv2d", name: "c", kernel: [3, 3], stride: 2, padding: [1, 1, 1, 1] },
    ],
  };
  const t = tilingOf(upDown);
  assert.deepStrictEqual([t.alignment, t.scale], [1, 2]);
  assert(outputExtent(upDown, 0, 5) === 10);
  assert(largestActivation(upDown, [1, 5, 5, 2]) === 20 * 20 * 2);
});

Deno.test("tilingOf: bad specs are refused naming the layer's dotted path", () => {
  throwsWith(
    () => tilingOf({ name: "x", layers: [{ type: "pool", name: "p" }] }),
    TypeError,
    /layer p: unknown type "pool"/,
  );
  const inner = { type: "conv2d", name: "c", kernel: [3, 3], stride: 3, padding: [1, 1, 1, 1] };
  throwsWith(
    () => tilingOf({ name: "x", layers: [{ type: "residual", name: "r", layers: [inner] }] }),
    RangeError,
    /layer r\.c: stride must be 1 or 2/,
  );
  const down = { ...inner, stride: 2 };
  throwsWith(
    () => tilingOf({ name: "x", layers: [{ type: "residual", name: "r", layers: [down] }] }),
    RangeError,
    /residual block r changes the resolution/,
  );
  throwsWith(() => tilingOf({ name: "x", layers: [] }), TypeError, /no layers/);
  throwsWith(
    () =>
      outputExtent({ name: "x", layers: [{ ...inner, stride: 1, padding: [0, 0, 0, 0] }] }, 0, 2),
    RangeError,
    /layer c gets 2 rows .* fewer than its kernel's 3/,
  );
});
