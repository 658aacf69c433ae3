/**
 * GPU convolution split to fit the device's limits: with the binding size (or the workgroups
 * per dimension) lowered by the test hook, every pass is split into sub-batches or row bands
 * and gives what the unsplit call gives: forward and input gradient bit for bit (each value is
 * summed in the same order), weight and bias gradients within 1e-5 relative (their partial sums
 * are grouped differently), all within tolerance of the float64 reference. Skipped, with the
 * reason printed, when there is no adapter.
 */

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { type ConvGeometry, convGeometry } from "../core/conv_geometry.ts";
import {
  capConvLimitsForTesting,
  type ConvPrecision,
  convStats,
  gpuConv2d,
  gpuConv2dInputGrad,
  gpuConv2dWeightGrad,
  readConvTensor,
} from "../gpu/conv.ts";
import { getGpu, gpuStatus, releaseGpu } from "../gpu/device.ts";
import { randomF32 } from "../synth/uniform.ts";
import { type ConvCase, gpuConvModes, roundF16, TOLERANCE } from "./_conv_gpu_cases.ts";
import { convBackwardF64, convForwardF64, relativeError } from "./_conv_reference.ts";

const status = await gpuStatus();
await releaseGpu();
const ignore = !status.available;
if (!status.available) console.log(`GPU convolution split tests skipped: ${status.reason}`);
const operation = "gpu_conv_split test";

const spec = (
  name: string,
  input: [number, number, number, number],
  kernel: number,
  outChannels: number,
  more: Partial<ConvCase> = {},
): ConvCase => ({ name, input, kernel: [kernel, kernel], outChannels, ...more });

/** Cases whose pieces meet every edge: stride 2 on odd sizes, wide halos, padding-only bands. */
const CASES: readonly ConvCase[] = [
  spec("3x3 same, batch 3, c 3 -> 5", [3, 11, 9, 3], 3, 5, { padding: "same" }),
  spec("stride 2 on 29x23, 3x3 same, c 3 -> 13", [2, 29, 23, 3], 3, 13, {
    stride: 2,
    padding: "same",
  }),
  spec("7x7 on 41x15 same, c 1 -> 3", [1, 41, 15, 1], 7, 3, { padding: "same" }),
  spec("k4 s2 p1, c 8 -> 4", [1, 40, 24, 8], 4, 4, { stride: 2, padding: [1, 1, 1, 1] }),
  spec("bands in the padding [4, 6, 0, 1], c 2 -> 3", [1, 10, 15, 2], 3, 3, {
    padding: [4, 6, 0, 1],
  }),
  spec("1x1 stride 2 (rows no tap reaches), c 5 -> 3", [1, 9, 9, 5], 1, 3, { stride: 2 }),
  spec("vector loads, c 16 -> 8", [2, 25, 13, 16], 3, 8, { padding: "same" }),
  spec("depthwise 5x5 stride 2, c 3", [2, 17, 9, 3], 5, 3, {
    stride: 2,
    padding: "same",
    groups: 3,
  }),
];

/**
 * Binding caps for a case in `precision`: one that holds an image but not the batch (when
 * n > 1), and one that holds a band of one row with its halo on both sides and little more;
 * both hold the weights and two rows of weight-gradient partials (f32), plus alignment.
 */
function capsOf(g: ConvGeometry, precision: ConvPrecision): number[] {
  const bytes = precision === "f16" ? 2 : 4;
  const image = Math.max(g.h * g.w * g.c, g.oh * g.ow * g.oc) * bytes;
  const cols = g.depthwise ? (g.kh * g.kw + 1) * g.c : (g.kh * g.kw * g.c + 1) * g.oc;
  const fixed = Math.max(2 * cols * 4, g.kh * g.kw * g.c * (g.depthwise ? 1 : g.oc) * bytes);
  const halo = (g.kh + 1) * g.w * g.c * bytes;
  const reach = (Math.ceil(g.kh / g.stride) + 2) * g.ow * g.oc * bytes;
  const caps = [...(g.n > 1 ? [image] : []), Math.max(halo, reach)];
  // Only caps that split something: below the whole batch of either activation.
  return caps.map((c) => Math.max(c, fixed) + 64).filter((c) => c < image * g.n);
}

interface Results {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
  db: Float32Array;
}

/** Forward (relu, bias), input gradient and weight gradients of a case, read back. */
async function runCase(
  c: ConvCase,
  o: { precision: ConvPrecision; f16Storage?: "native" | "packed"; seed: number },
): Promise<Results> {
  const g = convGeometry(c);
  const wShape: [number, number, number, number] = [g.kh, g.kw, g.c, g.depthwise ? 1 : g.oc];
  const x = { data: randomF32(g.n * g.h * g.w * g.c, o.seed), shape: c.input };
  const w = { data: randomF32(wShape.reduce((a, b) => a * b), o.seed + 1), shape: wShape };
  const dy = {
    data: randomF32(g.n * g.oh * g.ow * g.oc, o.seed + 2),
    shape: [g.n, g.oh, g.ow, g.oc] as [number, number, number, number],
  };
  const common = {
    operation,
    stride: c.stride,
    padding: c.padding,
    groups: c.groups,
    precision: o.precision,
    f16Storage: o.f16Storage,
  };
  const bias = randomF32(g.oc, o.seed + 3);
  const y = await gpuConv2d(x, w, { ...common, bias, activation: "relu" });
  const dx = await gpuConv2dInputGrad(dy, w, { ...common, inputShape: c.input });
  const grads = await gpuConv2dWeightGrad(dy, x, { ...common, kernel: c.kernel });
  const out = {
    y: await readConvTensor(y),
    dx: await readConvTensor(dx),
    dw: await readConvTensor(grads.dWeights),
    db: await grads.dBias.read(),
  };
  for (const s of [y.storage, dx.storage, grads.dWeights.storage, grads.dBias]) s.free();
  return out;
}

/** The float64 reference of a case (operands rounded to f16 for an f16 run). */
function reference(c: ConvCase, precision: ConvPrecision, seed: number): Results {
  const g = convGeometry(c);
  const round = (a: Float32Array) => precision === "f16" ? roundF16(a) : a;
  const input = round(randomF32(g.n * g.h * g.w * g.c, seed));
  const weights = round(randomF32(g.kh * g.kw * g.c * (g.depthwise ? 1 : g.oc), seed + 1));
  const dy = round(randomF32(g.n * g.oh * g.ow * g.oc, seed + 2));
  const bias = randomF32(g.oc, seed + 3);
  const y = convForwardF64(g, { input, weights, bias }).map((v) => Math.max(v, 0));
  const b = convBackwardF64(g, { input, weights }, dy);
  return {
    y: Float32Array.from(y),
    dx: Float32Array.from(b.dInput),
    dw: Float32Array.from(b.dWeights),
    db: Float32Array.from(b.dBias),
  };
}

for (const { mode, label } of gpuConvModes(status.available && status.f16)) {
  Deno.test(`split by sub-batch and by row bands equals unsplit, ${label}`, {
    ignore,
  }, async () => {
    try {
      const gpu = await getGpu();
      let seed = 40;
      for (const c of CASES) {
        const g = convGeometry(c);
        const o = { ...mode, seed: seed += 4 };
        capConvLimitsForTesting(undefined);
        convStats(gpu).reset();
        const whole = await runCase(c, o);
        equal(convStats(gpu).pieces, 3, `${c.name}: unsplit is one piece per pass`);
        const ref = reference(c, mode.precision, o.seed);
        const caps = capsOf(g, mode.precision);
        ok(caps.length > 0, `${c.name}: no cap splits it`);
        for (const bindingBytes of caps) {
          capConvLimitsForTesting({ bindingBytes });
          convStats(gpu).reset();
          const split = await runCase(c, o);
          const what = `${c.name} ${label} cap ${bindingBytes}`;
          ok(convStats(gpu).pieces > 3, `${what}: not split (${convStats(gpu).pieces} pieces)`);
          deepEqual(split.y, whole.y, `${what}: forward differs`);
          deepEqual(split.dx, whole.dx, `${what}: input gradient differs`);
          ok(relativeError(split.dw, whole.dw) <= 1e-5, `${what}: dW`);
          ok(relativeError(split.db, whole.db) <= 1e-5, `${what}: dBias`);
          for (const k of ["y", "dx", "dw", "db"] as const) {
            const err = relativeError(split[k], ref[k]);
            ok(err <= TOLERANCE[mode.precision], `${what}: ${k} error ${err}`);
          }
        }
      }
      capConvLimitsForTesting(undefined);
      gpu.flush();
      equal(gpu.pool.stats().inUseBytes, 0);
    } finally {
      capConvLimitsForTesting(undefined);
      await releaseGpu();
    }
  });
}

Deno.test("a dispatch over the workgroup limit is split too, and the result is the same", {
  ignore,
}, async () => {
  try {
    const gpu = await getGpu();
    const c = spec("3x3 same, c 3 -> 5", [2, 17, 13, 3], 3, 5, { padding: "same" });
    const whole = await runCase(c, { precision: "f32", seed: 3 });
    // 2 x 2 workgroups per dispatch: at most 4 tiles of 32 output pixels.
    capConvLimitsForTesting({ workgroupsPerDimension: 2 });
    convStats(gpu).reset();
    const split = await runCase(c, { precision: "f32", seed: 3 });
    ok(convStats(gpu).pieces > 3);
    deepEqual(split.y, whole.y);
    deepEqual(split.dx, whole.dx);
    ok(relativeError(split.dw, whole.dw) <= 1e-5);
  } finally {
    capConvLimitsForTesting(undefined);
    await releaseGpu();
  }
});

Deno.test("a row too large for one binding is a clear error naming the limit and the size", {
  ignore,
}, async () => {
  try {
    const gpu = await getGpu();
    capConvLimitsForTesting({ bindingBytes: 1024 });
    const zeros = (...shape: [number, number, number, number]) => ({
      data: new Float32Array(shape.reduce((a, b) => a * b)),
      shape,
    });
    // One output row reads 3 input rows of 100 x 3 values: 3600 bytes.
    await rejects(
      () => gpuConv2d(zeros(1, 5, 100, 3), zeros(3, 3, 3, 1), { operation }),
      /gpu_conv_split test: even one output row of one image is too large for this device: the input binding needs \d+ bytes, more than its maxStorageBufferBindingSize of 1024/,
    );
    await rejects(
      () => gpuConv2d(zeros(1, 5, 100, 3), zeros(1, 1, 3, 300), { operation }),
      /the weights need 3600 bytes, more than this device's maxStorageBufferBindingSize of 1024 bytes, and they cannot be split/,
    );
    gpu.flush();
    equal(gpu.pool.stats().inUseBytes, 0);
  } finally {
    capConvLimitsForTesting(undefined);
    await releaseGpu();
  }
});

Deno.test("a tensor beyond the device's own binding size is split without a cap", {
  ignore,
}, async (t) => {
  try {
    const gpu = await getGpu();
    const binding = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
    if (binding >= gpu.limits.maxBufferSize || binding > 256 * 2 ** 20) {
      console.log(`skipped: a binding of ${binding} bytes is too large to pass here`);
      return;
    }
    // A depthwise 3x3 convolution (the cheapest pass per value) of 4 channels over just more
    // pixels than one binding holds: split into row bands with a halo of one row.
    const side = Math.ceil(Math.sqrt(binding / 16 + 1));
    const x = randomF32(side * side * 4, 5);
    const w = randomF32(36, 6);
    convStats(gpu).reset();
    const y = await gpuConv2d({ data: x, shape: [1, side, side, 4] }, {
      data: w,
      shape: [3, 3, 4, 1],
    }, { operation, groups: 4, padding: "same" });
    const got = await readConvTensor(y);
    y.storage.free();
    ok(convStats(gpu).pieces > 1, `${side}x${side}x4 was not split`);
    // Rows around every band boundary and the image's edges, against float64.
    let worst = 0;
    for (let r = 0; r < side; r++) {
      for (let col = 0; col < side; col++) {
        for (let ch = 0; ch < 4; ch++) {
          let sum = 0;
          for (let ky = 0; ky < 3; ky++) {
            for (let kx = 0; kx < 3; kx++) {
              const iy = r + ky - 1;
              const ix = col + kx - 1;
              if (iy < 0 || ix < 0 || iy >= side || ix >= side) continue;
              sum += x[(iy * side + ix) * 4 + ch] * w[(ky * 3 + kx) * 4 + ch];
            }
          }
          worst = Math.max(worst, Math.abs(got[(r * side + col) * 4 + ch] - sum));
        }
      }
    }
    await t.step(`${side}x${side}x4 in ${convStats(gpu).pieces} pieces`, () => {
      ok(worst <= 1e-5, `error ${worst}`);
    });
    gpu.flush();
    equal(gpu.pool.stats().inUseBytes, 0);
  } finally {
    await releaseGpu();
  }
});
