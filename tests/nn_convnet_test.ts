/**
 * `ConvNet` (nn/convnet.ts): sizes of the built-in nets, forward against the float64 reference
 * (nn/_reference.ts) within 1e-4 relative on WASM and, when an adapter exists, WebGPU, backward
 * against float64 finite differences, training lowering the loss, and bad input named.
 */

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { AbortedError, InvalidDataError } from "../core/errors.ts";
import { gpuStatus, releaseGpu } from "../gpu/device.ts";
import { Adam } from "../nn/adam.ts";
import { ConvNet } from "../nn/convnet.ts";
import { checkGradients } from "../nn/gradient_check.ts";
import { referenceForward } from "../nn/_reference.ts";
import { randomF32 } from "../synth/uniform.ts";
import { toDevice } from "../tensor/device_tensor.ts";
import { loadKernels } from "../wasm/loader.ts";
import { relativeError } from "./_conv_reference.ts";
import { convSpec, netSpec } from "./_nn_specs.ts";

const status = await gpuStatus();
await releaseGpu();
const backends = status.available ? ["wasm", "webgpu"] as const : ["wasm"] as const;
if (!status.available) console.log(`ConvNet WebGPU cases skipped: ${status.reason}`);

type Shape4 = [number, number, number, number];

function image(shape: Shape4, seed: number) {
  return { data: randomF32(shape.reduce((a, b) => a * b, 1), seed), shape };
}

/** The network's output against the float64 forward pass of its spec and values. */
async function forwardError(
  net: ConvNet,
  shape: Shape4,
  seed: number,
  backend: "wasm" | "webgpu",
): Promise<number> {
  const x = image(shape, seed);
  using y = await net.forward(x, { backend });
  equal(y.backend, backend);
  const values = new Map([...net.parameters()].map(([k, v]) => [k, v.data]));
  const ref = referenceForward(
    net.spec.layers,
    values,
    { data: Float64Array.from(x.data), shape },
    false,
  );
  deepEqual([...y.shape], ref.shape);
  return relativeError(await y.read(), ref.data);
}

Deno.test("ConvNet.fromSpec() gives each built-in net's size", async () => {
  using refiner = await ConvNet.fromSpec("refiner");
  equal(refiner.parameterCount, 6_600_532);
  equal(refiner.sizeMB.toFixed(2), "25.18");
  equal(refiner.scale, 0.25);
  equal(refiner.inputChannels, 4);
  equal(refiner.outputChannels, 4);
  const params = refiner.parameters();
  equal(params.get("block1_down.conv.weight")?.shape.join(), "3,3,64,128");
  equal(params.get("decoder1.conv.weight")?.shape.join(), "4,4,64,32");
  ok(params.get("head1.norm.running_var")?.buffer);
  equal(params.get("head1.norm.weight")?.buffer, undefined);
  const sizes = { "convnext-head": [73_412, 0.28], small: [12_742, 0.05], mlp: [235_146, 0.9] };
  for (const [name, [count, mb]] of Object.entries(sizes)) {
    using net = await ConvNet.fromSpec(name);
    equal(net.parameterCount, count, name);
    equal(net.sizeMB.toFixed(2), mb.toFixed(2), name);
  }
  equal(
    (await ConvNet.fromSpec("convnext-head")).parameters().get("block2.depthwise.conv.weight")
      ?.shape
      .join(),
    "7,7,64,1",
  );
});

Deno.test("ConvNet.fromSpec() initialises like PyTorch, deterministically from the seed", async () => {
  const a = (await ConvNet.fromSpec("small", { seed: 3 })).parameters();
  const b = (await ConvNet.fromSpec("small", { seed: 3 })).parameters();
  const c = (await ConvNet.fromSpec("small", { seed: 4 })).parameters();
  deepEqual(a.get("conv2.conv.weight")!.data, b.get("conv2.conv.weight")!.data);
  ok(a.get("conv2.conv.weight")!.data[0] !== c.get("conv2.conv.weight")!.data[0]);
  // U(±1/√fan_in), fan_in = 32·3·3 for conv2's weight and bias.
  const bound = 1 / Math.sqrt(32 * 9);
  for (const name of ["conv2.conv.weight", "conv2.conv.bias"]) {
    const v = a.get(name)!.data;
    ok(v.every((x) => Math.abs(x) <= bound), name);
    ok(Math.max(...v.map(Math.abs)) > 0.9 * bound, name);
  }
});

Deno.test("ConvNet.fromSpec() reads a .json path and refuses unknown names", async () => {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    const spec = (await ConvNet.fromSpec("small")).spec;
    await Deno.writeTextFile(path, JSON.stringify(spec));
    using net = await ConvNet.fromSpec(path);
    equal(net.parameterCount, 12_742);
    await Deno.writeTextFile(path, "{ not json");
    await rejects(ConvNet.fromSpec(path), InvalidDataError);
  } finally {
    await Deno.remove(path);
  }
  await rejects(ConvNet.fromSpec("resnet"), /neither a built-in spec .* nor a path/);
  await rejects(ConvNet.fromSpec({ format: "prism-convnet" }), /"version" must be 1/);
});

for (const backend of backends) {
  Deno.test(`ConvNet.forward() on ${backend} matches float64 within 1e-4`, async () => {
    try {
      using small = await ConvNet.fromSpec("small", { seed: 1 });
      for (
        const [i, shape] of ([[2, 5, 7, 6], [1, 1, 1, 6], [1, 13, 3, 6]] as Shape4[]).entries()
      ) {
        const err = await forwardError(small, shape, 10 + i, backend);
        ok(err < 1e-4, `small ${shape}: ${err}`);
      }
      using mlp = await ConvNet.fromSpec("mlp", { seed: 2 });
      const err = await forwardError(mlp, [3, 1, 1, 784], 20, backend);
      ok(err < 1e-4, `mlp: ${err}`);
    } finally {
      await releaseGpu();
    }
  });

  Deno.test(`ConvNet.forward() on ${backend}: every layer type, batch norm folded`, async () => {
    try {
      using net = await ConvNet.fromSpec("tests/fixtures/nets/every_layer.json", { seed: 4 });
      // A training pass moves the running statistics away from (0, 1), so folding them matters.
      using _ = await net.forward(image([2, 9, 11, 3], 50), { training: true, backend });
      for (const [i, shape] of ([[1, 8, 8, 3], [2, 5, 7, 3], [1, 1, 1, 3]] as Shape4[]).entries()) {
        const err = await forwardError(net, shape, 60 + i, backend);
        ok(err < 1e-4, `every_layer ${shape}: ${err}`);
      }
      using refiner = await ConvNet.fromSpec("refiner", { seed: 6 });
      const err = await forwardError(refiner, [1, 32, 24, 4], 65, backend);
      ok(err < 1e-4, `refiner: ${err}`);
      using head = await ConvNet.fromSpec("convnext-head", { seed: 5 });
      for (const [i, shape] of ([[1, 9, 6, 4], [1, 1, 1, 4]] as Shape4[]).entries()) {
        const err = await forwardError(head, shape, 70 + i, backend);
        ok(err < 1e-4, `convnext-head ${shape}: ${err}`);
      }
    } finally {
      await releaseGpu();
    }
  });

  Deno.test(`ConvNet.backward() on ${backend} matches float64 finite differences`, async () => {
    try {
      using small = await ConvNet.fromSpec("small", { seed: 5 });
      const r = await checkGradients(small, { input: image([2, 3, 4, 6], 30), backend });
      ok(r.maxRelativeError < 1e-3, `${JSON.stringify([...r.parameters])} input ${r.input}`);
      equal(r.parameters.size, 6);
    } finally {
      await releaseGpu();
    }
  });

  Deno.test(`ConvNet.trainStep() on ${backend} lowers the loss of a toy problem`, async () => {
    try {
      using net = await ConvNet.fromSpec("small", { seed: 7 });
      const x = image([2, 6, 6, 6], 40);
      // The target is a fixed smooth function of the input: learnable by the net.
      const target = {
        data: x.data.map((v, i) => 0.5 * v + (i % 6 === 0 ? 0.3 : 0)),
        shape: x.shape,
      };
      const optimizer = new Adam([], { lr: 3e-3 });
      const losses: number[] = [];
      for (let step = 0; step < 8; step++) {
        const { loss, gradNorm } = await net.trainStep(x, target, { optimizer, backend });
        ok(gradNorm > 0 && Number.isFinite(gradNorm));
        losses.push(loss);
      }
      ok(losses[7] < 0.7 * losses[0], `losses ${losses.map((l) => l.toFixed(4))}`);
      // Softmax cross-entropy over the channels of each pixel.
      const labels = Int32Array.from({ length: 2 * 36 }, (_, i) => i % 6);
      const first = await net.trainStep(x, labels, { loss: "softmax-ce", backend });
      let last = first;
      for (let step = 0; step < 6; step++) {
        last = await net.trainStep(x, labels, { loss: "softmax-ce", backend });
      }
      ok(last.loss < first.loss, `${first.loss} -> ${last.loss}`);
      // The refiner trains on its 1/4-size target (on WASM: lavapipe would take seconds).
      if (backend !== "wasm") return;
      using refiner = await ConvNet.fromSpec("refiner", { seed: 9 });
      const r = await refiner.trainStep(image([2, 32, 32, 4], 41), image([2, 8, 8, 4], 42), {
        backend,
      });
      ok(Number.isFinite(r.loss) && r.gradNorm > 0);
    } finally {
      await releaseGpu();
    }
  });
}

Deno.test({
  name: "ConvNet.forward() in f16 on WebGPU matches float64 within 2e-2",
  ignore: !status.available,
  async fn() {
    try {
      using net = await ConvNet.fromSpec("small", { seed: 8 });
      const x = image([1, 6, 5, 6], 80);
      using y = await net.forward(x, { backend: "webgpu", precision: "f16" });
      const values = new Map([...net.parameters()].map(([k, v]) => [k, v.data]));
      const ref = referenceForward(net.spec.layers, values, {
        data: Float64Array.from(x.data),
        shape: [1, 6, 5, 6],
      }, false);
      const err = relativeError(await y.read(), ref.data);
      ok(err < 2e-2, `f16: ${err}`);
      await rejects(net.forward(x, { backend: "wasm", precision: "f16" }), /f16/);
    } finally {
      await releaseGpu();
    }
  },
});

Deno.test("ConvNet names what is wrong", async () => {
  using small = await ConvNet.fromSpec("small");
  await rejects(
    small.forward(image([1, 4, 4, 5], 1)),
    /"small" takes 6 input channels, the input has 5/,
  );
  await rejects(small.forward({ data: new Float32Array(4), shape: [4] }), /NHWC/);
  const bad = image([1, 2, 2, 6], 2);
  bad.data[7] = NaN;
  await rejects(small.forward(bad), /input holds NaN at \[n, y, x, c\] = \[0, 0, 1, 1\]/);
  await rejects(small.backward(image([1, 2, 2, 6], 3)), /run forward\(x, \{ training: true \}\)/);
  await rejects(
    small.forward(image([1, 2, 2, 6], 3), { training: true, precision: "f16" }),
    /training runs in f32/,
  );
  const controller = new AbortController();
  controller.abort();
  await rejects(small.forward(image([1, 2, 2, 6], 3), { signal: controller.signal }), AbortedError);
  {
    // NaN inside a device tensor: the WASM kernels refuse it.
    const nan = image([1, 2, 2, 6], 4);
    nan.data[3] = NaN;
    using t = await toDevice(nan.data, { shape: nan.shape });
    await rejects(small.forward(t), InvalidDataError);
  }
  await rejects(
    small.trainStep(image([1, 4, 4, 6], 1), image([1, 4, 5, 6], 1)),
    /target has shape \[1, 4, 5, 6\] but the output for this batch is \[1, 4, 4, 6\]/,
  );
  await rejects(
    small.trainStep(image([1, 4, 4, 6], 1), new Int32Array(15), { loss: "softmax-ce" }),
    /one class index per output pixel: 16/,
  );
  // The reference network's own train mode crashes on a full-size target for its 1/4 output.
  using refiner = await ConvNet.fromSpec("refiner");
  await rejects(
    refiner.trainStep(image([1, 32, 32, 4], 1), image([1, 32, 32, 4], 2)),
    /give a target of shape \[1, 8, 8, 4\]; the network's output is 0.25× the input's size/,
  );
  using mlp = await ConvNet.fromSpec("mlp");
  await rejects(mlp.forward(image([1, 2, 2, 784], 1)), /"mlp" takes images of height 1, got 2/);
  // A kernel that does not fit names the layer.
  const tiny = netSpec(1, [
    convSpec("wide", 1, 1, { kernel: [5, 5], padding: [0, 0, 0, 0], bias: false }),
  ]);
  using valid = await ConvNet.fromSpec(tiny);
  await rejects(valid.forward(image([1, 3, 3, 1], 1)), /layer "wide": the 5×5 kernel does not fit/);
  // setParameters checks names and shapes.
  const p = new Map(small.parameters());
  p.delete("conv3.conv.bias");
  throws(() => small.setParameters(p), /"conv3.conv.bias" is missing/);
  p.set("conv3.conv.bias", { data: new Float32Array(5), shape: [5] });
  throws(() => small.setParameters(p), /"conv3.conv.bias" must be a Float32Array of shape \[6\]/);
  p.set("conv3.conv.bias", { data: new Float32Array(6), shape: [6] });
  p.set("conv4.conv.bias", { data: new Float32Array(6), shape: [6] });
  throws(() => small.setParameters(p), /"conv4.conv.bias" is not a parameter of "small"/);
  p.delete("conv4.conv.bias");
  p.set("conv1.conv.weight", {
    data: new Float32Array(6 * 32 * 9).fill(NaN),
    shape: [3, 3, 6, 32],
  });
  throws(() => small.setParameters(p), InvalidDataError);
});

Deno.test("ConvNet.setParameters() changes what forward computes", async () => {
  using net = await ConvNet.fromSpec("small");
  const p = new Map(net.parameters());
  for (const v of p.values()) v.data.fill(0);
  p.get("conv3.conv.bias")!.data.set([1, 2, 3, 4, 5, 6]);
  net.setParameters(p);
  using y = await net.forward(image([1, 2, 3, 6], 1));
  deepEqual([...(await y.read()).slice(0, 6)], [1, 2, 3, 4, 5, 6]);
});

Deno.test("ConvNet frees every intermediate it makes in kernel memory", async () => {
  const kernels = await loadKernels();
  const before = kernels.memory().inUseBytes;
  {
    using net = await ConvNet.fromSpec("tests/fixtures/nets/every_layer.json");
    const x = image([2, 9, 9, 3], 90);
    const target = image([2, 20, 20, 3], 91);
    for (let i = 0; i < 2; i++) {
      {
        using _ = await net.forward(x, { backend: "wasm" });
      }
      {
        using y = await net.forward(x, { training: true, backend: "wasm" });
        const g = await net.backward({ data: new Float32Array(y.size), shape: [...y.shape] });
        g.input.dispose();
      }
      await net.trainStep(x, target, { backend: "wasm" });
      // A training forward without backward: what it kept goes at the next forward or dispose.
      using _ = await net.forward(x, { training: true, backend: "wasm" });
    }
  }
  equal(kernels.memory().inUseBytes, before, "ConvNet leaks kernel memory");
});

Deno.test("ConvNet.setParameters() refuses a negative running variance and NaN, naming the parameter", async () => {
  using net = await ConvNet.fromSpec("refiner", { seed: 3 }); // batch norm in every block
  const name = "head1.norm.running_var";
  const values = new Map(
    [...net.parameters()].map(([k, p]) => [k, { data: p.data.slice(), shape: p.shape }]),
  );
  values.get(name)!.data[2] = -5;
  throws(
    () => net.setParameters(values),
    (e: Error) =>
      e instanceof InvalidDataError && e.message.includes(`"${name}" holds -5 at index 2`) &&
      e.message.includes("running variance cannot be negative"),
  );
  values.get(name)!.data[2] = NaN;
  throws(
    () => net.setParameters(values),
    (e: Error) =>
      e instanceof InvalidDataError && e.message.includes(`"${name}" hold NaN at index 2`),
  );
});
