import { deepStrictEqual, ok as assert } from "node:assert";
import { loadKernels } from "../wasm/loader.ts";
import { Mlp } from "../nn/mlp.ts";
import { SyntheticClassification } from "../synth/classification.ts";

const kernels = await loadKernels();

function train(seed: number, steps: number): { losses: number[]; weights: Float32Array } {
  const task = new SyntheticClassification({ seed, samples: 1024 });
  const net = new Mlp(kernels, { seed });
  const x = new Float32Array(64 * 784), y = new Int32Array(64);
  try {
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) {
      task.batch(s, { x, labels: y });
      losses.push(net.trainStep(x, y).loss);
    }
    return { losses, weights: net.layers[1].weights.view().slice() };
  } finally {
    net.dispose();
  }
}

Deno.test("Mlp 784-256-128-10 loss falls clearly over 200 steps on the synthetic task", () => {
  const { losses } = train(0, 200);
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const first = mean(losses.slice(0, 10)), last = mean(losses.slice(-10));
  assert(first > 1.5, `first losses ${first} should be near ln 10`);
  assert(last < 0.5 * first, `loss fell only from ${first} to ${last}`);
});

Deno.test("Mlp training is bit-identical for a seed and differs across seeds", () => {
  const a = train(3, 20), b = train(3, 20), c = train(4, 20);
  deepStrictEqual(a.losses, b.losses);
  deepStrictEqual(a.weights, b.weights);
  assert(a.losses[19] !== c.losses[19]);
});

Deno.test("Mlp.activations() exposes hidden1, hidden2 and logits of the last step", () => {
  const net = new Mlp(kernels, { batch: 64 });
  try {
    const task = new SyntheticClassification({ samples: 64 });
    const x = new Float32Array(64 * 784), y = new Int32Array(64);
    task.batch(0, { x, labels: y });
    net.trainStep(x, y);
    const acts = net.activations();
    deepStrictEqual(
      acts.map((a) => [a.layer, a.activations.rows, a.activations.cols]),
      [["hidden1", 64, 256], ["hidden2", 64, 128], ["logits", 64, 10]],
    );
    assert(acts[0].activations.data.every((v) => v >= 0)); // after ReLU
  } finally {
    net.dispose();
  }
});
