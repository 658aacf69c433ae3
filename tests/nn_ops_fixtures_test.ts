/**
 * PyTorch's fixtures (tests/fixtures/conv/) for the layer ops: the float64 references of
 * tests/_layer_reference.ts reproduce them (so the placement tests, held to those references,
 * are held to PyTorch's conventions), and the ops reproduce them on WASM and, when an adapter
 * exists, WebGPU: transposed convolution k4 s2 p1 (also on a 1×1 image), training-mode batch
 * norm, exact GELU, layer norm over channels, bilinear upsampling ×2. Needs neither Python nor
 * torch.
 */

import { deepEqual } from "node:assert/strict";
import { readNpy } from "../io/npy.ts";
import { activation, activationBackward } from "../ops/activation.ts";
import { batchNorm, batchNormBackward } from "../ops/batch_norm.ts";
import { convTranspose2d, convTranspose2dBackward } from "../ops/conv_transpose2d.ts";
import { layerNorm, layerNormBackward } from "../ops/layer_norm.ts";
import { upsampleBilinear, upsampleBilinearBackward } from "../ops/upsample.ts";
import type { NormGradients } from "../ops/_layer_io.ts";
import { assertNear, disposePlaced, HAS_GPU } from "./_layer_backends.ts";
import {
  activationF64,
  batchNormF64,
  convTransposeBackwardF64,
  convTransposeF64,
  layerNormF64,
  type Shape4,
  upsampleF64,
} from "./_layer_reference.ts";

const DIR = new URL("./fixtures/conv/", import.meta.url);
const manifest = JSON.parse(await Deno.readTextFile(new URL("MANIFEST.json", DIR)));
/** float32 PyTorch against float64: a few ulps of the largest value. */
const REF_TOL = 1e-5;
const OP_TOL = 1e-4;
const BACKENDS = HAS_GPU ? ["wasm", "webgpu"] as const : ["wasm"] as const;

type Arrays = Record<string, { data: Float32Array; shape: number[] }>;

async function load(name: string): Promise<Arrays> {
  const out: Arrays = {};
  for (const key of Object.keys(manifest.cases[name].files)) {
    const a = await readNpy(new URL(`${name}/${key}.npy`, DIR).pathname);
    out[key] = { data: a.data as Float32Array, shape: a.shape };
  }
  return out;
}

Deno.test("fixtures: transposed convolution k4 s2 p1", async () => {
  try {
    for (const name of ["conv_transpose_k4_s2_p1", "conv_transpose_k4_s2_p1_1x1_image"]) {
      const f = await load(name);
      const o = { stride: 2, padding: 1 };
      const xs = f.x.shape as unknown as Shape4;
      const ws = f.w.shape as unknown as Shape4;
      const ref = convTransposeF64(f.x.data, xs, f.w.data, ws, { ...o, bias: f.b.data });
      deepEqual(ref.shape, f.y.shape);
      assertNear(`${name} reference y`, ref.y, f.y.data, REF_TOL);
      const r = convTransposeBackwardF64(f.x.data, xs, f.w.data, ws, f.dy.data, o);
      assertNear(`${name} reference dx`, r.dx, f.dx.data, REF_TOL);
      assertNear(`${name} reference dw`, r.dw, f.dw.data, REF_TOL);
      assertNear(`${name} reference db`, r.db, f.db.data, REF_TOL);
      for (const backend of BACKENDS) {
        using y = await convTranspose2d(f.x, f.w, { ...o, bias: f.b.data, backend });
        assertNear(`${name} ${backend} y`, await y.read(), f.y.data, OP_TOL);
        const g = await convTranspose2dBackward(f.x, f.w, { ...o, dy: f.dy, backend });
        assertNear(`${name} ${backend} dx`, await g.dInput.read(), f.dx.data, OP_TOL);
        assertNear(`${name} ${backend} dw`, g.dWeights, f.dw.data, OP_TOL);
        assertNear(`${name} ${backend} db`, g.dBias, f.db.data, OP_TOL);
        g.dInput.dispose();
      }
    }
  } finally {
    await disposePlaced();
  }
});

/** A norm's fixture: the float64 reference, then the forward and backward on each backend. */
async function checkNorm(
  name: "batchnorm_train" | "layernorm_channels",
  reference: typeof batchNormF64,
  run: (x: Arrays[string], o: NormCall) => Promise<{
    y: Float32Array;
    grads: (dy: Arrays[string]) => Promise<NormGradients>;
  }>,
) {
  try {
    const f = await load(name);
    const o = { gamma: f.gamma.data, beta: f.beta.data, eps: manifest.cases[name].params.eps };
    const ref = reference(f.x.data, f.x.shape[3], { ...o, dy: f.dy.data });
    assertNear("reference y", ref.y, f.y.data, REF_TOL);
    assertNear("reference dx", ref.dx!, f.dx.data, REF_TOL);
    assertNear("reference dgamma", ref.dGamma!, f.dgamma.data, REF_TOL);
    assertNear("reference dbeta", ref.dBeta!, f.dbeta.data, REF_TOL);
    for (const backend of BACKENDS) {
      const r = await run(f.x, { ...o, backend });
      assertNear(`${backend} y`, r.y, f.y.data, OP_TOL);
      const g = await r.grads(f.dy);
      assertNear(`${backend} dx`, await g.dInput.read(), f.dx.data, OP_TOL);
      assertNear(`${backend} dgamma`, g.dGamma, f.dgamma.data, OP_TOL);
      assertNear(`${backend} dbeta`, g.dBeta, f.dbeta.data, OP_TOL);
      g.dInput.dispose();
    }
  } finally {
    await disposePlaced();
  }
}

type NormCall = {
  gamma: Float32Array;
  beta: Float32Array;
  eps: number;
  backend: "wasm" | "webgpu";
};

Deno.test("fixtures: batch norm in training mode", async () => {
  await checkNorm("batchnorm_train", batchNormF64, async (x, o) => {
    const r = await batchNorm(x, o);
    const y = await r.output.read();
    r.output.dispose();
    const { mean, variance } = r;
    return { y, grads: (dy) => batchNormBackward(x, { ...o, dy, mean, variance }) };
  });
});

Deno.test("fixtures: layer norm over channels", async () => {
  await checkNorm("layernorm_channels", layerNormF64, async (x, o) => {
    using out = await layerNorm(x, o);
    return { y: await out.read(), grads: (dy) => layerNormBackward(x, { ...o, dy }) };
  });
});

Deno.test("fixtures: exact GELU", async () => {
  try {
    const f = await load("gelu");
    const ref = Array.from(f.x.data, (v) => activationF64("gelu", v));
    assertNear("reference y", ref.map((r) => r.y), f.y.data, REF_TOL);
    assertNear("reference dx", ref.map((r, i) => r.dy * f.dy.data[i]), f.dx.data, REF_TOL);
    for (const backend of BACKENDS) {
      using y = await activation(f.x, { kind: "gelu", backend });
      assertNear(`${backend} y`, await y.read(), f.y.data, OP_TOL);
      using dx = await activationBackward(f.x, { kind: "gelu", dy: f.dy, backend });
      assertNear(`${backend} dx`, await dx.read(), f.dx.data, OP_TOL);
    }
  } finally {
    await disposePlaced();
  }
});

Deno.test("fixtures: bilinear upsampling x2, align_corners=False", async () => {
  try {
    const f = await load("upsample_bilinear");
    const shape = f.x.shape as unknown as Shape4;
    const ref = upsampleF64(f.x.data, shape, 2, f.dy.data);
    assertNear("reference y", ref.y, f.y.data, REF_TOL);
    assertNear("reference dx", ref.dx!, f.dx.data, REF_TOL);
    for (const backend of BACKENDS) {
      using y = await upsampleBilinear(f.x, { scale: 2, backend });
      assertNear(`${backend} y`, await y.read(), f.y.data, OP_TOL);
      using dx = await upsampleBilinearBackward(f.dy, { scale: 2, inputShape: shape, backend });
      assertNear(`${backend} dx`, await dx.read(), f.dx.data, OP_TOL);
    }
  } finally {
    await disposePlaced();
  }
});
