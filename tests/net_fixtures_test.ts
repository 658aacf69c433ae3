/**
 * prism's ConvNet against PyTorch, whole networks: the fixtures of `tests/fixtures/nets/`
 * (`make_fixtures.py`: float64 results of PyTorch from the committed float32 weights and input)
 * for a net with every layer type (`every_layer.json`), `small` and `convnext-head`. On WASM and
 * on WebGPU (skipped, with the reason printed, when there is no adapter), in f32 within 1e-4
 * relative (largest error over the reference's largest magnitude, per tensor):
 *
 * - the weights file written by PyTorch's `save_prism_h5` loads (`ConvNet.load`), and
 *   `ConvNet.save` writes the same names and values back (with the spec's name);
 * - inference (`training: false`: batch norm from running statistics) gives PyTorch's eval output;
 * - a training forward gives PyTorch's train-mode output and MSE loss; `backward` of the loss's
 *   gradient gives PyTorch's gradient of the input and of every parameter; and the batch-norm
 *   running statistics move as PyTorch moves them (momentum, unbiased batch variance).
 */

import assert from "node:assert";
import type { Backend } from "../core/types.ts";
import { gpuStatus, releaseGpu } from "../gpu/device.ts";
import { readHdf5Tree } from "../io/hdf5.ts";
import { ConvNet } from "../nn/convnet.ts";
import { loadWeights, WEIGHTS_FORMAT, WEIGHTS_VERSION } from "../nn/weights_file.ts";
import { inTempDir } from "./_io_helpers.ts";
import { relativeError } from "./_conv_reference.ts";
import {
  fixturePath,
  fixtureSpec,
  type NetFixture,
  netManifest,
  readFixtureNpy,
  readTrainFixture,
  trainNames,
} from "./_net_fixtures.ts";

/** f32 against a float64 reference, as every layer test. */
const TOL = 1e-4;

const gpu = await gpuStatus();
await releaseGpu();
if (!gpu.available) console.log(`ConvNet fixture tests on WebGPU skipped: ${gpu.reason}`);

function largest(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function assertClose(what: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  const err = relativeError(got, want);
  assert(err <= TOL, `${what}: relative error ${err.toExponential(2)} > ${TOL}`);
}

/** The fixture's net with the fixture's weights, loaded from the PyTorch twin's file. */
async function loadedNet(name: string, fixture: NetFixture): Promise<ConvNet> {
  const net = await ConvNet.fromSpec(fixtureSpec(fixture), { seed: 1 });
  assert.strictEqual(net.parameterCount, fixture.parameters, `${name} parameter count`);
  await net.load(fixturePath(fixture.files.weights.file));
  return net;
}

/** Every fixture net: eval, then a training forward and backward, on one backend. */
async function checkNets(t: Deno.TestContext, backend: Exclude<Backend, "auto">): Promise<void> {
  for (const [name, fixture] of Object.entries(netManifest.nets)) {
    await t.step(`${name} on ${backend}`, async (s) => {
      const input = await readFixtureNpy(fixture.files.input);
      using net = await loadedNet(name, fixture);

      await s.step("inference equals PyTorch's eval output", async () => {
        const want = await readFixtureNpy(fixture.files.eval);
        using y = await net.forward(input, { backend, training: false });
        assert.strictEqual(y.backend, backend);
        assert.deepStrictEqual([...y.shape], want.shape, "output shape");
        assertClose(`${name} eval output`, await y.read(), want.data);
      });

      await s.step("training forward, loss, backward and running statistics", async () => {
        const f = await readTrainFixture(fixture);
        const target = f.get("target")!;
        using y = await net.forward(input, { backend, training: true });
        assert.deepStrictEqual([...y.shape], f.get("output")!.shape, "training output shape");
        const out = await y.read();
        assertClose(`${name} training output`, out, f.get("output")!.data);
        // MSE over every element; dy = 2 (y - target) / count.
        let loss = 0;
        const dy = new Float32Array(out.length);
        for (let i = 0; i < out.length; i++) {
          const d = out[i] - target.data[i];
          loss += d * d;
          dy[i] = 2 * d / out.length;
        }
        assertClose(`${name} loss`, [loss / out.length], f.get("loss")!.data);
        const g = await net.backward({ data: dy, shape: [...y.shape] });
        try {
          assertClose(`${name} input gradient`, await g.input.read(), f.get("input_grad")!.data);
        } finally {
          g.input.dispose();
        }
        const gradNames = trainNames(fixture, "grad");
        assert.deepStrictEqual([...g.parameters.keys()].sort(), gradNames.sort());
        for (const p of gradNames) {
          const want = f.get(`grad/${p}`)!.data;
          // A bias before batch norm has gradient 0 (PyTorch's float64 gives ~1e-17 of rounding):
          // no relative error exists, so it must be ~0 on the scale of the net's gradients.
          if (want.every((v) => Math.abs(v) < 1e-12)) {
            const got = g.parameters.get(p)!;
            const scale = Math.max(...gradNames.map((q) => largest(f.get(`grad/${q}`)!.data)));
            assert(largest(got) <= TOL * scale, `${name} gradient of ${p} is not ~0`);
            continue;
          }
          assertClose(`${name} gradient of ${p}`, g.parameters.get(p)!, want);
        }
        const params = net.parameters();
        for (const r of trainNames(fixture, "running")) {
          assert.strictEqual(params.get(r)?.buffer, true, `${r} is a buffer`);
          assertClose(
            `${name} ${r} after one training step`,
            params.get(r)!.data,
            f.get(`running/${r}`)!.data,
          );
        }
      });
    });
  }
}

Deno.test("ConvNet.save() writes back the PyTorch twin's weights file, names and values", async () => {
  await inTempDir(async (dir) => {
    for (const [name, fixture] of Object.entries(netManifest.nets)) {
      using net = await loadedNet(name, fixture);
      await net.save(`${dir}/${name}.h5`);
      const want = await loadWeights(fixturePath(fixture.files.weights.file));
      const got = await loadWeights(`${dir}/${name}.h5`);
      assert.deepStrictEqual([...got.keys()].sort(), [...want.keys()].sort(), name);
      for (const [p, w] of want) assert.deepStrictEqual(got.get(p), w, `${name} ${p}`);
      const { attrs } = await readHdf5Tree(`${dir}/${name}.h5`);
      assert.deepStrictEqual(
        [attrs.format, attrs.version, attrs.spec],
        [WEIGHTS_FORMAT, WEIGHTS_VERSION, net.spec.name],
      );
    }
  });
});

Deno.test("ConvNet on WASM gives PyTorch's outputs, loss and gradients (fixtures)", async (t) => {
  await checkNets(t, "wasm");
});

Deno.test({
  name: "ConvNet on WebGPU gives PyTorch's outputs, loss and gradients (fixtures)",
  ignore: !gpu.available,
  async fn(t) {
    try {
      await checkNets(t, "webgpu");
    } finally {
      await releaseGpu();
    }
  },
});
