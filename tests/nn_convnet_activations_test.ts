/**
 * `ConvNet.activations()` (each top-level layer's output of the last forward, kept with
 * `keepActivations`) against the float64 forward of the spec's layers up to that layer, on WASM
 * and, when an adapter exists, WebGPU; and `trainStep`, which skips the first layer's input
 * gradient and writes gradients into the layers' own arrays, against `backward()` plus the same
 * Adam step.
 */

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { gpuStatus, releaseGpu } from "../gpu/device.ts";
import { Adam } from "../nn/adam.ts";
import { ConvNet } from "../nn/convnet.ts";
import { meanSquaredError } from "../nn/loss.ts";
import { referenceForward } from "../nn/_reference.ts";
import { randomF32 } from "../synth/uniform.ts";
import { relativeError } from "./_conv_reference.ts";

const status = await gpuStatus();
await releaseGpu();
const backends = status.available ? ["wasm", "webgpu"] as const : ["wasm"] as const;
if (!status.available) console.log(`ConvNet activations WebGPU cases skipped: ${status.reason}`);

type Shape4 = [number, number, number, number];

function image(shape: Shape4, seed: number) {
  return { data: randomF32(shape.reduce((a, b) => a * b, 1), seed), shape };
}

const EVERY_LAYER = "tests/fixtures/nets/every_layer.json";

for (const backend of backends) {
  Deno.test(`ConvNet.activations() on ${backend} match float64 layer by layer`, async () => {
    try {
      for (const [spec, shape] of [[EVERY_LAYER, [2, 5, 7, 3]], ["mlp", [3, 1, 1, 784]]] as const) {
        using net = await ConvNet.fromSpec(spec, { seed: 3 });
        const x = image([...shape], 7);
        using y = await net.forward(x, { backend, keepActivations: true });
        const acts = net.activations();
        deepEqual(acts.map((a) => a.layer), net.spec.layers.map((l) => l.name));
        const values = new Map([...net.parameters()].map(([k, v]) => [k, v.data]));
        for (const [i, a] of acts.entries()) {
          const ref = referenceForward(
            net.spec.layers.slice(0, i + 1),
            values,
            { data: Float64Array.from(x.data), shape: [...shape] },
            false,
          );
          const [n, h, w, c] = ref.shape;
          deepEqual([a.activations.rows, a.activations.cols], [n * h * w, c], a.layer);
          const err = relativeError(a.activations.data, ref.data);
          ok(err < 1e-4, `${spec} ${a.layer}: ${err}`);
        }
        // The last one is the output, and the copies stay put after the tensors are gone.
        deepEqual(acts[acts.length - 1].activations.data, await y.read());
      }
    } finally {
      await releaseGpu();
    }
  });

  Deno.test(`ConvNet.trainStep() on ${backend} updates as backward() and Adam do`, async () => {
    try {
      const x = image([2, 6, 5, 3], 11), target = image([2, 12, 12, 3], 12);
      using a = await ConvNet.fromSpec(EVERY_LAYER, { seed: 9 });
      using b = await ConvNet.fromSpec(EVERY_LAYER, { seed: 9 });
      const r = await a.trainStep(x, target, { backend, optimizer: new Adam([], { lr: 0.01 }) });
      // The same step by hand: forward, MSE gradient, backward, Adam.
      using y = await b.forward(x, { training: true, backend });
      const grad = new Float32Array(y.size);
      meanSquaredError({ data: await y.read(), shape: [...y.shape] }, target, { grad });
      const g = await b.backward({ data: grad, shape: [...y.shape] });
      g.input.dispose();
      const params = b.parameters();
      const updated = [...g.parameters].map(([name, d]) => ({
        value: params.get(name)!.data,
        grad: d,
      }));
      new Adam([], { lr: 0.01 }).step(updated);
      let sq = 0;
      for (const d of g.parameters.values()) for (const v of d) sq += v * v;
      ok(Math.abs(r.gradNorm - Math.sqrt(sq)) <= 1e-6 * Math.sqrt(sq), `${r.gradNorm}`);
      const after = a.parameters();
      const names = [...g.parameters.keys()];
      for (const [i, name] of names.entries()) {
        deepEqual(after.get(name)!.data, updated[i].value, name);
      }
    } finally {
      await releaseGpu();
    }
  });
}

Deno.test("ConvNet.activations() says how to get them, and a forward without keeps clears them", async () => {
  using net = await ConvNet.fromSpec("small");
  throws(() => net.activations(), /keepActivations: true/);
  const x = image([1, 3, 3, 6], 1);
  using _y = await net.forward(x, { keepActivations: true });
  equal(net.activations().length, 3);
  using _z = await net.forward(x);
  throws(() => net.activations(), /kept none/);
  const t = await net.trainStep(x, image([1, 3, 3, 6], 2), { keepActivations: true });
  ok(t.loss > 0);
  equal(net.activations()[2].activations.rows, 9);
  net.dispose();
  throws(() => net.activations(), /disposed/);
  await rejects(net.forward(x), /disposed/);
});
