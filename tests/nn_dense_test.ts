import { ok as assert, throws } from "node:assert";
import { loadKernels } from "../wasm/loader.ts";
import { Dense } from "../nn/dense.ts";
import { WasmStorage } from "../wasm/storage.ts";
import { uniform } from "../synth/uniform.ts";

const kernels = await loadKernels();

const rand = uniform(99, { lo: -0.5, hi: 0.5 });

/** float64 forward: relu?(X·W + b). */
function reference(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
  rows: number,
  inputs: number,
  outputs: number,
  relu: boolean,
): Float64Array {
  const y = new Float64Array(rows * outputs);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < outputs; j++) {
      let s = b[j];
      for (let i = 0; i < inputs; i++) s += x[r * inputs + i] * w[i * outputs + j];
      y[r * outputs + j] = relu ? Math.max(0, s) : s;
    }
  }
  return y;
}

Deno.test("Dense.forward() matches float64 reference on 17x257 -> 13 with and without ReLU", () => {
  for (const relu of [false, true]) {
    const layer = new Dense(kernels, { inputs: 257, outputs: 13, batch: 17, relu, seed: 3 });
    try {
      layer.input.view().set(Float32Array.from({ length: 17 * 257 }, rand));
      layer.bias.view().set(Float32Array.from({ length: 13 }, rand));
      const y = layer.forward().view();
      const want = reference(
        layer.input.view(),
        layer.weights.view(),
        layer.bias.view(),
        17,
        257,
        13,
        relu,
      );
      for (let i = 0; i < want.length; i++) {
        assert(Math.abs(y[i] - want[i]) < 1e-4, `y[${i}] = ${y[i]}, want ${want[i]}`);
      }
      if (relu) assert(y.some((v) => v === 0) && y.every((v) => v >= 0));
    } finally {
      layer.dispose();
    }
  }
});

Deno.test("Dense.backward() matches float64 finite differences on a 5x4 -> 3 ReLU layer", () => {
  const [batch, inputs, outputs] = [5, 4, 3];
  const layer = new Dense(kernels, { inputs, outputs, batch, relu: true, seed: 7 });
  const dY = new WasmStorage(kernels, batch * outputs);
  try {
    const x = Float64Array.from({ length: batch * inputs }, rand);
    const w = Float64Array.from(layer.weights.view());
    const b = Float64Array.from({ length: outputs }, () => 0.1 * rand());
    const r = Float64Array.from({ length: batch * outputs }, rand);
    layer.input.view().set(x);
    layer.bias.view().set(b);
    layer.forward();
    dY.view().set(r);
    layer.backward(dY);
    // L = Σ R ⊙ relu(XW + b), evaluated in float64.
    const loss = (xx: Float64Array, ww: Float64Array, bb: Float64Array) =>
      reference(xx, ww, bb, batch, inputs, outputs, true).reduce((s, v, i) => s + v * r[i], 0);
    const h = 1e-6;
    const numeric = (v: Float64Array, i: number) => {
      const keep = v[i];
      v[i] = keep + h;
      const up = loss(x, w, b);
      v[i] = keep - h;
      const down = loss(x, w, b);
      v[i] = keep;
      return (up - down) / (2 * h);
    };
    const compare = (name: string, got: Float32Array, v: Float64Array) => {
      for (let i = 0; i < v.length; i++) {
        const want = numeric(v, i);
        assert(Math.abs(got[i] - want) < 1e-4, `${name}[${i}] = ${got[i]}, numeric ${want}`);
      }
    };
    compare("dW", layer.gradWeights.view(), w);
    compare("db", layer.gradBias.view(), b);
    compare("dX", layer.gradInput!.view(), x);
  } finally {
    dY.free();
    layer.dispose();
  }
});

Deno.test("Dense rejects bad sizes and a mis-sized gradient", () => {
  throws(() => new Dense(kernels, { inputs: 0, outputs: 2, batch: 1 }), RangeError);
  throws(() => new Dense(kernels, { inputs: 1.5, outputs: 2, batch: 1 }), TypeError);
  const layer = new Dense(kernels, { inputs: 2, outputs: 2, batch: 1 });
  const wrong = new WasmStorage(kernels, 3);
  try {
    throws(() => layer.backward(wrong), TypeError);
  } finally {
    wrong.free();
    layer.dispose();
  }
});
