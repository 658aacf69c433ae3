/**
 * The `small` net of `nn/specs/small.json` (6→32→32→6, 3×3, same padding, bias, ReLU between)
 * with seeded weights, for the convolution benchmarks: `conv_wasm_bench.ts` and
 * `conv_report.ts` time the same layers.
 *
 * @module
 */

import spec from "../nn/specs/small.json" with { type: "json" };
import {
  conv2d,
  conv2dBackward,
  prepareConv2dWeights,
  type PreparedConv2dWeights,
} from "../ops/conv2d.ts";
import { DeviceTensor } from "../tensor/device_tensor.ts";
import { WasmStorage } from "../wasm/storage.ts";
import { randomF32 } from "../synth/uniform.ts";

/** One layer: HWIO weights, bias and activation. */
export interface SmallLayer {
  /** Input and output channels. */
  c: number;
  oc: number;
  /** `[3, 3, c, oc]`, uniform in ±0.2 (seed 10 + layer). */
  weights: { data: Float32Array; shape: number[] };
  /** `oc` values, uniform in ±0.1 (seed 20 + layer). */
  bias: Float32Array;
  activation: "relu" | "none";
}

/** The spec's layers with seeded weights (the same on every call). */
export function smallNetLayers(): SmallLayer[] {
  return spec.layers.map((l, i) => {
    const [c, oc] = [l.inChannels, l.outChannels];
    return {
      c,
      oc,
      weights: { data: randomF32(9 * c * oc, 10 + i, { lo: -0.2, hi: 0.2 }), shape: [3, 3, c, oc] },
      bias: randomF32(oc, 20 + i, { lo: -0.1, hi: 0.1 }),
      activation: l.activation === "relu" ? "relu" : "none",
    };
  });
}

/** A layer with its weights prepared once (`prepareConv2dWeights`), as a network holds them. */
export interface PreparedLayer extends SmallLayer {
  prepared: PreparedConv2dWeights;
}

/** The layers with prepared weights; dispose each `prepared` when done. */
export async function prepareSmallNet(
  layers: SmallLayer[],
  backend: "wasm" | "webgpu",
): Promise<PreparedLayer[]> {
  return await Promise.all(
    layers.map(async (l) => ({
      ...l,
      prepared: await prepareConv2dWeights(l.weights, { backend }),
    })),
  );
}

/**
 * The forward pass through the public `conv2d()`, layer by layer on one backend (prepared
 * weights where the layer has them); the intermediates are disposed, the output is the
 * caller's.
 */
export async function smallNetForward(
  x: DeviceTensor,
  layers: (SmallLayer | PreparedLayer)[],
  backend: "wasm" | "webgpu",
): Promise<DeviceTensor> {
  let h = x;
  for (const l of layers) {
    const y = await conv2d(h, "prepared" in l ? l.prepared : l.weights, {
      bias: l.bias,
      padding: "same",
      activation: l.activation,
      backend,
    });
    if (h !== x) h.dispose();
    h = y;
  }
  return h;
}

/**
 * One training step's convolution work on WASM, as `conv2d` + `conv2dBackward` chain it: the
 * forward keeping every layer's output, the MSE gradient `2 (y − target) / size`, then per layer
 * from the last: ReLU's derivative applied to the incoming gradient (where the layer's output is
 * 0), and `conv2dBackward` (input, weights and bias gradients; the first layer's input gradient
 * too, as the step asks). No optimiser step (PyTorch's Adam over the net's 11 k
 * parameters is negligible beside the convolutions). Returns the input gradient's sum of
 * squares, read so every lazy part has run.
 */
export async function smallNetTrainStep(
  x: DeviceTensor,
  target: Float32Array,
  layers: PreparedLayer[],
): Promise<number> {
  const outputs: DeviceTensor[] = [];
  let h = x;
  try {
    for (const l of layers) {
      h = await conv2d(h, l.prepared, { bias: l.bias, padding: "same", activation: l.activation });
      outputs.push(h);
    }
    const last = outputs[outputs.length - 1];
    const y = viewOf(last);
    let grad = new DeviceTensor(
      WasmStorage.from((last.storage as WasmStorage).kernels, y),
      last.shape,
    );
    const g = viewOf(grad);
    const scale = 2 / g.length;
    for (let i = 0; i < g.length; i++) g[i] = scale * (y[i] - target[i]);
    for (let i = layers.length - 1; i >= 0; i--) {
      const l = layers[i];
      if (l.activation === "relu") {
        const out = viewOf(outputs[i]);
        const d = viewOf(grad);
        for (let j = 0; j < d.length; j++) if (!(out[j] > 0)) d[j] = 0;
      }
      const input = i === 0 ? x : outputs[i - 1];
      const grads = await conv2dBackward(input, l.prepared, { dy: grad, padding: "same" });
      grad.dispose();
      grad = grads.dInput;
    }
    const d = viewOf(grad);
    let sum = 0;
    for (let i = 0; i < d.length; i++) sum += d[i] * d[i];
    grad.dispose();
    return sum;
  } finally {
    for (const o of outputs) o.dispose();
  }
}

/** The kernel-memory values of a WASM device tensor, in place. */
function viewOf(t: DeviceTensor): Float32Array {
  const s = t.storage;
  if (!(s instanceof WasmStorage)) throw new TypeError("smallNetTrainStep runs on WASM tensors");
  return s.view();
}
