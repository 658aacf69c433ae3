/**
 * Bad input to the GPU convolution hosts: every mismatch names what is wrong, limits name the
 * device limit (the split paths' limits: gpu_conv_split_test.ts), an aborted signal names the
 * operation, and nothing is left allocated. Skipped, with the reason printed, when there is no
 * adapter.
 */

import { deepEqual, rejects } from "node:assert/strict";
import { AbortedError } from "../core/errors.ts";
import {
  gpuConv2d,
  gpuConv2dInputGrad,
  gpuConv2dWeightGrad,
  uploadConvTensor,
} from "../gpu/conv.ts";
import { getGpu, gpuStatus, releaseGpu } from "../gpu/device.ts";

const status = await gpuStatus();
await releaseGpu();
const ignore = !status.available;
if (!status.available) console.log(`GPU convolution error tests skipped: ${status.reason}`);
const operation = "conv2d()";

const tensor = (shape: [number, number, number, number]) => ({
  data: new Float32Array(shape[0] * shape[1] * shape[2] * shape[3]),
  shape,
});

Deno.test("GPU convolution hosts reject mismatched shapes, naming which", {
  ignore,
}, async () => {
  try {
    const x = tensor([1, 5, 5, 3]);
    await rejects(
      () => gpuConv2d(x, tensor([3, 3, 4, 8]), { operation }),
      /conv2d\(\): the weights have 4 input channels but the input has 3/,
    );
    await rejects(
      () => gpuConv2d({ data: new Float32Array(5), shape: [1, 2, 2, 1] }, x, { operation }),
      /conv2d\(\) input holds 5 values, but its shape \[1, 2, 2, 1\] needs 4/,
    );
    await rejects(
      () => gpuConv2d(x, tensor([3, 3, 3, 2]), { operation, bias: new Float32Array(3) }),
      /bias must be a Float32Array of 2 values/,
    );
    await rejects(
      () => gpuConv2d(x, tensor([3, 3, 3, 2]), { operation, groups: 3 }),
      /depthwise weights must be \[kh, kw, 3, 1\]/,
    );
    await rejects(
      () =>
        gpuConv2dInputGrad(tensor([1, 4, 4, 2]), tensor([3, 3, 3, 2]), {
          operation,
          inputShape: [1, 5, 5, 3],
        }),
      /conv2d\(\) dy has shape \[1, 4, 4, 2\] but the convolution needs \[1, 3, 3, 2\]/,
    );
    await rejects(
      () => gpuConv2dWeightGrad(tensor([1, 3, 3, 2]), x, { operation, kernel: [2, 2] }),
      /dy has shape \[1, 3, 3, 2\] but the convolution needs \[1, 4, 4, 2\]/,
    );
    await rejects(() => gpuConv2d(x, tensor([7, 7, 3, 2]), { operation }), RangeError);
    await rejects(() => gpuConv2d(x, tensor([3, 3, 3, 2]), { operation, stride: 3 }), RangeError);
    await rejects(
      () => gpuConv2d(x, tensor([3, 3, 3, 2]), { operation, activation: "tanh" as "relu" }),
      /activation must be "none", "relu" or "gelu"/,
    );
    deepEqual((await getGpu()).pool.stats().inUseBytes, 0);
  } finally {
    await releaseGpu();
  }
});

Deno.test("GPU convolution hosts reject f16 input to an f32 call and freed storage", {
  ignore,
}, async () => {
  try {
    const half = await uploadConvTensor(tensor([1, 5, 5, 3]), { precision: "f16" });
    await rejects(
      () => gpuConv2d(half, tensor([3, 3, 3, 2]), { operation }),
      /is f16 but the call runs in f32/,
    );
    half.storage.free();
    await rejects(
      () => gpuConv2d(half, tensor([3, 3, 3, 2]), { operation, precision: "f16" }),
      /storage was freed/,
    );
    const gpu = await getGpu();
    gpu.flush(); // the upload's f32 staging waits for the submit of its conversion
    deepEqual(gpu.pool.stats().inUseBytes, 0);
  } finally {
    await releaseGpu();
  }
});

Deno.test("GPU convolution names the buffer limit an output exceeds, and aborts by name", {
  ignore,
}, async () => {
  try {
    const gpu = await getGpu();
    // A 1x1 input padded into an output larger than one buffer: beyond one binding the call is
    // split (gpu_conv_split_test.ts), but the output itself must be one buffer.
    const pad = Math.ceil(Math.sqrt(gpu.limits.maxBufferSize / 8));
    await rejects(
      () =>
        gpuConv2d(tensor([1, 1, 1, 1]), tensor([1, 1, 1, 2]), {
          operation,
          padding: [0, pad, 0, pad],
        }),
      /conv2d\(\): the output needs \d+ bytes, more than this device's maxBufferSize of \d+ bytes/,
    );
    const controller = new AbortController();
    controller.abort();
    await rejects(
      () =>
        gpuConv2d(tensor([1, 3, 3, 1]), tensor([1, 1, 1, 1]), {
          operation,
          signal: controller.signal,
        }),
      (e: unknown) => e instanceof AbortedError && e.message.startsWith("conv2d()"),
    );
    deepEqual(gpu.pool.stats().inUseBytes, 0);
  } finally {
    await releaseGpu();
  }
});
