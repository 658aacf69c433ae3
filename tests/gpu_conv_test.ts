/**
 * Convolution on WebGPU (the software adapter in CI) against the float64 reference of
 * `_conv_reference.ts`: forward with bias and every activation, the input gradient (and the
 * transposed convolution k4 s2 p1), the weight and bias gradients, dense and depthwise, f32
 * within 1e-4 relative and f16 within 2e-2, f16 both on packed `u32` words and (where the
 * adapter has `shader-f16`) native, each path seen to run in `convStats()`. Skipped, with the
 * reason printed, when there is no adapter.
 */

import { deepEqual, ok } from "node:assert/strict";
import { type ConvGeometry, convGeometry, type ConvSpec } from "../core/conv_geometry.ts";
import {
  type ConvPrecision,
  convStats,
  gpuConv2d,
  gpuConv2dInputGrad,
  gpuConv2dWeightGrad,
  readConvTensor,
  uploadConvTensor,
} from "../gpu/conv.ts";
import { getGpu, gpuStatus, releaseGpu } from "../gpu/device.ts";
import {
  activateF64,
  type ConvCase,
  DENSE_CASES,
  DEPTHWISE_CASES,
  type GpuConvMode,
  gpuConvModes,
  roundF16,
  TOLERANCE,
} from "./_conv_gpu_cases.ts";
import { convBackwardF64, convForwardF64, relativeError } from "./_conv_reference.ts";
import { randomF32 } from "../synth/uniform.ts";

const status = await gpuStatus();
await releaseGpu();
const ignore = !status.available;
if (!status.available) console.log(`GPU convolution tests skipped: ${status.reason}`);
const operation = "gpu_conv test";

/**
 * The operands the float64 reference sees: for f16, rounded to f16 as the GPU stores them (the
 * bias stays f32). Against unrounded operands the error is relative to the largest output, and
 * an output that cancels to much less than its terms (a ReLU of a 1×1 image leaves three
 * values) lets f16's input rounding alone exceed 2e-2; the rounding itself is no kernel error.
 */
function referenceOperands(x: ReturnType<typeof operands>, precision: ConvPrecision) {
  if (precision === "f32") return x;
  return {
    input: roundF16(x.input),
    weights: roundF16(x.weights),
    bias: x.bias,
    dy: roundF16(x.dy),
  };
}

/** Seeded operands of a case: input, weights, bias, output gradient. */
function operands(g: ConvGeometry, seed: number) {
  const wCount = g.kh * g.kw * g.c * (g.depthwise ? 1 : g.oc);
  return {
    input: randomF32(g.n * g.h * g.w * g.c, seed),
    weights: randomF32(wCount, seed + 1),
    bias: randomF32(g.oc, seed + 2),
    dy: randomF32(g.n * g.oh * g.ow * g.oc, seed + 3),
  };
}

function options(c: ConvCase, mode: GpuConvMode | ConvPrecision) {
  const m = typeof mode === "string" ? { precision: mode } : mode;
  return { operation, stride: c.stride, padding: c.padding, groups: c.groups, ...m };
}

function weightShape(g: ConvGeometry): [number, number, number, number] {
  return [g.kh, g.kw, g.c, g.depthwise ? 1 : g.oc];
}

async function checkForward(c: ConvCase, mode: GpuConvMode, seed: number) {
  const { precision } = mode;
  const g = convGeometry(c);
  const x = operands(g, seed);
  const activations = ["none", "relu", "gelu"] as const;
  for (const activation of activations) {
    const y = await gpuConv2d(
      { data: x.input, shape: c.input },
      { data: x.weights, shape: weightShape(g) },
      { ...options(c, mode), bias: x.bias, activation },
    );
    deepEqual(y.shape, [g.n, g.oh, g.ow, g.oc], c.name);
    const got = await readConvTensor(y);
    y.storage.free();
    const ref = convForwardF64(g, referenceOperands(x, precision)).map((v) =>
      activateF64(v, activation)
    );
    const err = relativeError(got, ref);
    ok(err <= TOLERANCE[precision], `${c.name} ${activation} ${precision}: error ${err}`);
  }
}

async function checkBackward(c: ConvCase, mode: GpuConvMode, seed: number) {
  const { precision } = mode;
  const g = convGeometry(c);
  const x = operands(g, seed);
  const r = referenceOperands(x, precision);
  const ref = convBackwardF64(g, r, r.dy);
  const dyShape: [number, number, number, number] = [g.n, g.oh, g.ow, g.oc];
  const dx = await gpuConv2dInputGrad(
    { data: x.dy, shape: dyShape },
    { data: x.weights, shape: weightShape(g) },
    { ...options(c, mode), inputShape: c.input },
  );
  const grads = await gpuConv2dWeightGrad(
    { data: x.dy, shape: dyShape },
    { data: x.input, shape: c.input },
    { ...options(c, mode), kernel: c.kernel },
  );
  const results = [
    ["dInput", await readConvTensor(dx), ref.dInput],
    ["dWeights", await readConvTensor(grads.dWeights), ref.dWeights],
    ["dBias", await grads.dBias.read(), ref.dBias],
  ] as const;
  dx.storage.free();
  grads.dWeights.storage.free();
  grads.dBias.free();
  for (const [what, got, want] of results) {
    const err = relativeError(got, want);
    ok(err <= TOLERANCE[precision], `${c.name} ${what} ${precision}: error ${err}`);
  }
}

if (status.available && !status.f16) console.log("native f16 tests skipped: no shader-f16");

/** Asserts which f16 path ran since the last `convStats(gpu).reset()`. */
function checkPath(stats: { f16Native: number; f16Packed: number }, mode: GpuConvMode): void {
  const ran = [stats.f16Native > 0, stats.f16Packed > 0];
  const want = [mode.f16Storage === "native", mode.f16Storage === "packed"];
  deepEqual(ran, want, `f16 passes native/packed: ${stats.f16Native}/${stats.f16Packed}`);
}

for (const { mode, label } of gpuConvModes(status.available && status.f16)) {
  Deno.test(`gpuConv2d() forward matches float64 with bias, none/relu/gelu, ${label}`, {
    ignore,
  }, async () => {
    try {
      convStats(await getGpu()).reset();
      let seed = 10;
      for (const c of [...DENSE_CASES, ...DEPTHWISE_CASES]) {
        await checkForward(c, mode, seed++);
      }
      const gpu = await getGpu();
      checkPath(convStats(gpu), mode);
      deepEqual(gpu.pool.stats().inUseBytes, 0);
    } finally {
      await releaseGpu();
    }
  });

  Deno.test(`gpuConv2dInputGrad() and gpuConv2dWeightGrad() match float64, ${label}`, {
    ignore,
  }, async () => {
    try {
      convStats(await getGpu()).reset();
      let seed = 100;
      for (const c of [...DENSE_CASES, ...DEPTHWISE_CASES]) {
        await checkBackward(c, mode, seed++);
      }
      const gpu = await getGpu();
      checkPath(convStats(gpu), mode);
      deepEqual(gpu.pool.stats().inUseBytes, 0);
    } finally {
      await releaseGpu();
    }
  });
}

Deno.test("f16 storage defaults to native where the adapter has shader-f16", {
  ignore,
}, async () => {
  try {
    const gpu = await getGpu();
    convStats(gpu).reset();
    const y = await gpuConv2d(
      { data: new Float32Array([1, 2, 3, 4]), shape: [1, 2, 2, 1] },
      { data: new Float32Array([0.5]), shape: [1, 1, 1, 1] },
      { operation, precision: "f16" },
    );
    deepEqual(Array.from(await readConvTensor(y)), [0.5, 1, 1.5, 2]);
    y.storage.free();
    deepEqual(
      [convStats(gpu).f16Native, convStats(gpu).f16Packed],
      gpu.status.f16 ? [1, 0] : [0, 1],
    );
  } finally {
    await releaseGpu();
  }
});

Deno.test("gpuConv2dInputGrad() is the transposed convolution k4 s2 p1 (5x5 -> 10x10)", {
  ignore,
}, async () => {
  try {
    // The transposed convolution's input is the dY of the conv that maps 10x10 to 5x5.
    const g = convGeometry({
      input: [2, 10, 10, 3],
      kernel: [4, 4],
      outChannels: 6,
      stride: 2,
      padding: [1, 1, 1, 1],
    });
    deepEqual([g.oh, g.ow], [5, 5]);
    const x = operands(g, 7);
    const up = await gpuConv2dInputGrad(
      { data: x.dy, shape: [2, 5, 5, 6] },
      { data: x.weights, shape: [4, 4, 3, 6] },
      { operation, inputShape: [2, 10, 10, 3], stride: 2, padding: [1, 1, 1, 1] },
    );
    const err = relativeError(await readConvTensor(up), convBackwardF64(g, x, x.dy).dInput);
    up.storage.free();
    ok(err <= 1e-4, `error ${err}`);
  } finally {
    await releaseGpu();
  }
});

Deno.test("packed f16 storage: values are rounded once, products exact, sums f32", {
  ignore,
}, async () => {
  try {
    // Against a float64 reference of the f16-rounded operands, the f16 path is as close as f32.
    const c = DENSE_CASES[2];
    const g = convGeometry(c);
    const x = operands(g, 3);
    const input = await uploadConvTensor({ data: x.input, shape: c.input }, { precision: "f16" });
    const w = await uploadConvTensor({ data: x.weights, shape: weightShape(g) }, {
      precision: "f16",
    });
    const packed = { precision: "f16", f16Storage: "packed" } as const;
    const y = await gpuConv2d(input, w, { ...options(c, packed), bias: x.bias });
    const ref = convForwardF64(g, {
      input: roundF16(x.input),
      weights: roundF16(x.weights),
      bias: x.bias,
    });
    // The output itself is stored in f16: half an f16 ulp of the largest value, relative.
    const err = relativeError(await readConvTensor(y), ref);
    ok(err <= 2 ** -11, `error ${err}`);
    for (const t of [input, w, y]) t.storage.free();
  } finally {
    await releaseGpu();
  }
});

Deno.test("a chain of three convolutions submits once and reads back once", {
  ignore,
}, async () => {
  try {
    const gpu = await getGpu();
    const specs: ConvSpec[] = [
      { input: [2, 9, 9, 3], kernel: [3, 3], outChannels: 8, stride: 2, padding: "same" },
      { input: [2, 5, 5, 8], kernel: [3, 3], outChannels: 8, groups: 8, padding: "same" },
      { input: [2, 5, 5, 8], kernel: [1, 1], outChannels: 5 },
    ];
    const geometries = specs.map((s) => convGeometry(s));
    const weights = geometries.map((g, i) =>
      randomF32(g.kh * g.kw * g.c * (g.depthwise ? 1 : g.oc), 20 + i)
    );
    const input = randomF32(2 * 9 * 9 * 3, 19);
    gpu.stats.reset();
    let current: Parameters<typeof gpuConv2d>[0] = { data: input, shape: [2, 9, 9, 3] };
    const made = [];
    for (const [i, g] of geometries.entries()) {
      const next = await gpuConv2d(current, { data: weights[i], shape: weightShape(g) }, {
        operation,
        stride: g.stride,
        padding: specs[i].padding ?? "valid",
        groups: specs[i].groups,
        activation: "relu",
      });
      made.push(next);
      current = next;
    }
    deepEqual([gpu.stats.submits, gpu.stats.readBacks], [0, 0]);
    const got = await readConvTensor(made[2]);
    deepEqual([gpu.stats.submits, gpu.stats.readBacks], [1, 1]);
    let ref: ArrayLike<number> = input;
    for (const [i, g] of geometries.entries()) {
      ref = convForwardF64(g, { input: ref, weights: weights[i] }).map((v) => Math.max(v, 0));
    }
    ok(relativeError(got, ref) <= 1e-4);
    for (const t of made) t.storage.free();
    deepEqual(gpu.pool.stats().inUseBytes, 0);
  } finally {
    await releaseGpu();
  }
});
