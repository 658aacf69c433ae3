import { deepStrictEqual, ok as assert, rejects } from "node:assert";
import { ConvNet } from "../nn/convnet.ts";
import { Mlp, mlpSpec } from "../nn/mlp.ts";
import { builtinSpec } from "../nn/spec.ts";
import { SyntheticClassification } from "../synth/classification.ts";

async function train(
  seed: number,
  steps: number,
): Promise<{ losses: number[]; weights: Float32Array }> {
  const task = new SyntheticClassification({ seed, samples: 1024 });
  using net = await Mlp.create({ seed });
  const x = new Float32Array(64 * 784), y = new Int32Array(64);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    task.batch(s, { x, labels: y });
    losses.push((await net.trainStep(x, y)).loss);
  }
  return { losses, weights: net.parameters().get("hidden2.conv.weight")!.data };
}

Deno.test("Mlp 784-256-128-10 loss falls clearly over 200 steps on the synthetic task", async () => {
  const { losses } = await train(0, 200);
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const first = mean(losses.slice(0, 10)), last = mean(losses.slice(-10));
  assert(first > 1.5, `first losses ${first} should be near ln 10`);
  assert(last < 0.5 * first, `loss fell only from ${first} to ${last}`);
});

Deno.test("Mlp training is bit-identical for a seed and differs across seeds", async () => {
  const a = await train(3, 20), b = await train(3, 20), c = await train(4, 20);
  deepStrictEqual(a.losses, b.losses);
  deepStrictEqual(a.weights, b.weights);
  assert(a.losses[19] !== c.losses[19]);
});

Deno.test("Mlp.reset() replays the same bits as a new network", async () => {
  const task = new SyntheticClassification({ samples: 128 });
  const x = new Float32Array(64 * 784), y = new Int32Array(64);
  using net = await Mlp.create({ seed: 5 });
  const run = async () => {
    const losses: number[] = [];
    for (let s = 0; s < 5; s++) {
      task.batch(s, { x, labels: y });
      losses.push((await net.trainStep(x, y)).loss);
    }
    return losses;
  };
  const first = await run();
  await net.reset(5);
  deepStrictEqual(await run(), first);
});

Deno.test("Mlp.activations() exposes hidden1, hidden2 and logits of the last step", async () => {
  using net = await Mlp.create({ batch: 64 });
  const task = new SyntheticClassification({ samples: 64 });
  const x = new Float32Array(64 * 784), y = new Int32Array(64);
  task.batch(0, { x, labels: y });
  await net.trainStep(x, y);
  const acts = net.activations();
  deepStrictEqual(
    acts.map((a) => [a.layer, a.activations.rows, a.activations.cols]),
    [["hidden1", 64, 256], ["hidden2", 64, 128], ["logits", 64, 10]],
  );
  assert(acts[0].activations.data.every((v) => v >= 0)); // after ReLU
});

Deno.test("Mlp activations and logits match a float64 reference of the same weights", async () => {
  const sizes = [13, 7, 5, 3], batch = 4;
  using net = await Mlp.create({ sizes, batch, seed: 2 });
  const params = net.parameters();
  const x = Float32Array.from({ length: batch * 13 }, (_, i) => Math.sin(i * 0.7));
  const labels = new Int32Array([0, 1, 2, 1]);
  await net.trainStep(x, labels);
  // Reference forward in float64 with the weights the step started from.
  let h: Float64Array = Float64Array.from(x);
  const names = ["hidden1", "hidden2", "logits"];
  const acts = net.activations();
  for (let l = 0; l < 3; l++) {
    const w = params.get(`${names[l]}.conv.weight`)!.data;
    const b = params.get(`${names[l]}.conv.bias`)!.data;
    const [i, o] = [sizes[l], sizes[l + 1]];
    const out = new Float64Array(batch * o);
    for (let r = 0; r < batch; r++) {
      for (let j = 0; j < o; j++) {
        let s = b[j];
        for (let k = 0; k < i; k++) s += h[r * i + k] * w[k * o + j];
        out[r * o + j] = l < 2 ? Math.max(0, s) : s;
      }
    }
    const got = acts[l].activations.data;
    for (let e = 0; e < out.length; e++) {
      const tol = 1e-4 * Math.max(1, Math.abs(out[e]));
      assert(Math.abs(got[e] - out[e]) <= tol, `${names[l]}[${e}] ${got[e]} vs ${out[e]}`);
    }
    h = out;
  }
});

Deno.test("Mlp builds the built-in mlp spec's layers and rejects bad input", async () => {
  const spec = mlpSpec([784, 256, 128, 10]);
  deepStrictEqual(spec.layers, builtinSpec("mlp").layers);
  using net = await ConvNet.fromSpec(spec);
  deepStrictEqual(net.parameterCount, 235_146);
  using mlp = await Mlp.create({ sizes: [4, 3, 2], batch: 2 });
  await rejects(mlp.trainStep(new Float32Array(7), new Int32Array(2)), /batch \* inputs/);
  await rejects(mlp.trainStep(new Float32Array(8), new Int32Array(3)), /Int32Array of batch = 2/);
  await rejects(mlp.trainStep(new Float32Array(8), new Int32Array([0, 2])), RangeError);
  await rejects(mlp.trainStep(new Float32Array(8).fill(NaN), new Int32Array(2)), /NaN/);
  await rejects(Mlp.create({ sizes: [4] }), RangeError);
  await rejects(Mlp.create({ sizes: [4, 0] }), RangeError);
  await rejects(Mlp.create({ batch: 1.5 }), TypeError);
  await rejects(Mlp.create({ lr: 0 }), RangeError);
  // deno-lint-ignore no-explicit-any
  await rejects(Mlp.create({ backend: "cuda" as any }), RangeError);
  const fresh = await Mlp.create({ sizes: [2, 2] });
  try {
    let threw = false;
    try {
      fresh.activations();
    } catch (e) {
      threw = /keepActivations/.test((e as Error).message);
    }
    assert(threw, "activations() before any step must say how to get them");
  } finally {
    fresh.dispose();
  }
});
