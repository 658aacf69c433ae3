/**
 * The WASM convolution host (wasm/conv.ts) beyond the numbers: the worker split equals one
 * thread, kernel memory is returned (also when a call fails), and bad input is refused with
 * errors that name what is wrong.
 */

import assert from "node:assert";
import { convGeometry } from "../core/conv_geometry.ts";
import { AbortedError, InvalidDataError } from "../core/errors.ts";
import {
  CONV_PARALLEL_FROM,
  ConvWeights,
  wasmConvBackwardInput,
  wasmConvBackwardWeights,
  wasmConvForward,
} from "../wasm/conv.ts";
import { loadKernels } from "../wasm/loader.ts";
import { WorkerPool } from "../wasm/pool.ts";
import { convBackwardF64, relativeError } from "./_conv_reference.ts";
import { operands } from "./_conv_cases.ts";

const kernels = await loadKernels();
const operation = "conv2d()";

Deno.test("convolutions split across 3 workers equal one thread (weight gradients to f64 rounding)", async () => {
  const one = new WorkerPool({ size: 1 });
  const three = new WorkerPool({ size: 3 });
  try {
    // Stride 2 on odd sizes (dense) and stride 1 (depthwise), batch 3: the split cuts at
    // batch and output-row boundaries.
    const cases = [
      { input: [3, 49, 51, 16], stride: 2, groups: 1 },
      { input: [3, 97, 101, 16], stride: 1, groups: 16 },
    ] as const;
    for (const { input, stride, groups } of cases) {
      const g = convGeometry({
        input,
        kernel: [3, 3],
        outChannels: 16,
        stride,
        padding: "same",
        groups,
      });
      const work = g.n * g.oh * g.ow * 9 * g.c * (groups === 1 ? g.oc : 1);
      assert(work >= CONV_PARALLEL_FROM, `${work} multiply-adds do not split`);
      const x = operands(g, 60);
      const run = async (pool: WorkerPool) => {
        const y = await wasmConvForward(g, x, { activation: "gelu", operation, pool });
        const dx = await wasmConvBackwardInput(g, { dy: x.dy, weights: x.weights }, {
          operation,
          pool,
        });
        const grads = await wasmConvBackwardWeights(g, x, { operation, pool });
        const out = {
          y: await y.read(),
          dx: await dx.read(),
          dw: await grads.dWeights.read(),
          db: await grads.dBias.read(),
        };
        y.free();
        dx.free();
        grads[Symbol.dispose]();
        return out;
      };
      const single = await run(one);
      const split = await run(three);
      assert.deepStrictEqual(split.y, single.y);
      assert.deepStrictEqual(split.dx, single.dx);
      // Per-worker float64 partial sums are added in another order: equal to f32 rounding.
      assert(relativeError(split.dw, single.dw) < 1e-6);
      assert(relativeError(split.db, single.db) < 1e-6);
      const ref = convBackwardF64(g, x, x.dy);
      assert(relativeError(split.dw, ref.dWeights) < 1e-4);
      assert(relativeError(split.dx, ref.dInput) < 1e-4);
    }
  } finally {
    one.close();
    three.close();
  }
});

Deno.test("convolutions leak no kernel memory, also when they fail", async () => {
  const g = convGeometry({ input: [2, 9, 7, 5], kernel: [3, 3], outChannels: 4, padding: "same" });
  const x = operands(g, 70);
  (await wasmConvForward(g, x, { operation })).free(); // warm up
  const before = kernels.memory().inUseBytes;
  const y = await wasmConvForward(g, x, { operation, activation: "relu" });
  const held = kernels.memory().inUseBytes - before;
  assert(held >= y.length * 4 && held < y.length * 4 + 64, `${held} bytes held after the call`);
  y.free();
  const packed = await ConvWeights.pack(g, x.weights);
  packed.free();
  const grads = await wasmConvBackwardWeights(g, x, { operation });
  grads[Symbol.dispose]();
  (await wasmConvBackwardInput(g, { dy: x.dy, weights: x.weights }, { operation })).free();
  assert.strictEqual(kernels.memory().inUseBytes, before);
  const bad = Float32Array.from(x.input);
  bad[17] = NaN;
  await assert.rejects(wasmConvForward(g, { ...x, input: bad }, { operation }), InvalidDataError);
  await assert.rejects(
    wasmConvBackwardWeights(g, { ...x, input: bad }, { operation }),
    InvalidDataError,
  );
  assert.strictEqual(kernels.memory().inUseBytes, before);
});

Deno.test("convolutions refuse bad input with errors that name it", async () => {
  const g = convGeometry({ input: [1, 5, 5, 3], kernel: [3, 3], outChannels: 2 });
  const x = operands(g, 80);
  const rejects = (p: Promise<unknown>, type: ErrorConstructor, pattern: RegExp) =>
    assert.rejects(p, (e) => e instanceof type && pattern.test((e as Error).message));
  await rejects(
    wasmConvForward(g, { ...x, input: x.input.subarray(1) }, { operation }),
    TypeError,
    /^conv2d\(\): input has 74 values but .*\[1, 5, 5, 3\] = 75/,
  );
  await rejects(
    wasmConvForward(g, { ...x, weights: x.weights.subarray(2) }, { operation }),
    TypeError,
    /weights has 52 values/,
  );
  await rejects(
    wasmConvForward(g, { ...x, bias: new Float32Array(3) }, { operation }),
    TypeError,
    /bias has 3 values but .*\[2\]/,
  );
  await rejects(
    wasmConvBackwardWeights(g, { input: x.input, dy: new Float32Array(5) }, { operation }),
    TypeError,
    /dy has 5 values/,
  );
  const nanWeights = Float32Array.from(x.weights);
  nanWeights[3] = Infinity;
  await assert.rejects(ConvWeights.pack(g, nanWeights), InvalidDataError);
  await assert.rejects(
    wasmConvForward(g, { ...x, weights: nanWeights }, { operation }),
    InvalidDataError,
  );
  const nanBias = Float32Array.from(x.bias.subarray(0, 2));
  nanBias[1] = NaN;
  await assert.rejects(
    wasmConvForward(g, { ...x, bias: nanBias }, { operation }),
    InvalidDataError,
  );
  await rejects(
    wasmConvForward(g, x, { operation, activation: "tanh" as "relu" }),
    TypeError,
    /activation must be "none", "relu" or "gelu"/,
  );
  const huge = convGeometry({ input: [4, 20000, 20000, 4], kernel: [1, 1], outChannels: 4 });
  await rejects(
    wasmConvForward(huge, { input: new Float32Array(4), weights: new Float32Array(16) }, {
      operation,
    }),
    RangeError,
    /input would hold 6400000000 float32 values, beyond the 4 GiB limit/,
  );
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    wasmConvForward(g, x, { operation, signal: controller.signal }),
    (e) => e instanceof AbortedError && e.message.startsWith("conv2d()"),
  );
});
