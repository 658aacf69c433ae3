/**
 * singularValues() with the Gram product on WebGPU (lavapipe in CI: correctness only).
 * Skipped with a printed reason when no adapter exists.
 */
import assert from "node:assert";
import { singularValues } from "../ops/spectrum.ts";
import { gpuStatus, releaseGpu } from "../gpu/device.ts";
import { hasNumpy } from "./_io_helpers.ts";
import {
  errorRelativeToFirst,
  lowRank,
  numpySingularValues,
  randomMatrix,
} from "./_spectrum_helpers.ts";

const status = await gpuStatus();
if (!status.available) console.log(`WebGPU spectrum tests skipped: ${status.reason}`);
if (!hasNumpy) console.log("WebGPU spectrum tests skipped: python3 with numpy is unavailable");

Deno.test({
  name:
    "singularValues({ backend: 'webgpu' }) matches numpy within 1e-5 of s1 (tall, wide, rank 5, 1 x n)",
  ignore: !status.available || !hasNumpy,
  fn: async () => {
    try {
      for (
        const m of [
          randomMatrix(257, 31, 1),
          randomMatrix(13, 257, 2),
          randomMatrix(1, 50, 4),
          randomMatrix(50, 1, 6),
          lowRank(512, 768, 5, 7),
        ]
      ) {
        const ref = await numpySingularValues(m);
        const s = await singularValues(m, { backend: "webgpu" });
        const err = errorRelativeToFirst(s, ref);
        assert(err < 1e-5, `${m.rows} x ${m.cols}: max |s - ref| / s1 = ${err}`);
      }
      const zero = await singularValues(
        { data: new Float32Array(33 * 9), rows: 33, cols: 9 },
        { backend: "webgpu" },
      );
      assert.deepStrictEqual(Array.from(zero), new Array(9).fill(0));
    } finally {
      await releaseGpu();
    }
  },
});
