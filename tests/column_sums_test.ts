import { equal, ok, rejects } from "node:assert/strict";
import { columnSums } from "../ops/column_sums.ts";
import { gpuStatus, releaseGpu } from "../gpu/device.ts";
import { BackendUnavailableError } from "../core/errors.ts";
import { columnSums64 } from "./_helpers.ts";

const status = await gpuStatus();
await releaseGpu();
if (!status.available) console.log(`WebGPU cases skipped: ${status.reason}`);
const backends = status.available ? ["wasm", "webgpu"] as const : ["wasm"] as const;

for (const backend of backends) {
  Deno.test(`columnSums() on ${backend} matches float64 on odd sizes and a 1000 offset`, async () => {
    try {
      for (const [rows, cols] of [[0, 3], [1, 1], [7, 13], [257, 2], [1009, 5]]) {
        const data = new Float32Array(rows * cols).map((_, i) => 1000 + Math.sin(i));
        const { sums, means, backend: used } = await columnSums({ data, rows, cols }, { backend });
        equal(used, backend);
        const want = columnSums64(data, cols).sums;
        for (let c = 0; c < cols; c++) {
          ok(Math.abs(sums[c] - want[c]) <= 1e-6 * Math.abs(want[c]), `${rows}x${cols} col ${c}`);
          if (rows > 0) ok(Math.abs(means[c] - want[c] / rows) <= 1e-6 * 1000);
        }
      }
    } finally {
      await releaseGpu();
    }
  });
}

Deno.test("columnSums() rejects malformed input and an unknown backend", async () => {
  await rejects(columnSums({ data: new Float32Array(5), rows: 2, cols: 3 }), TypeError);
  // deno-lint-ignore no-explicit-any
  await rejects(columnSums({ data: [1, 2] as any, rows: 1, cols: 2 }), TypeError);
  await rejects(
    // deno-lint-ignore no-explicit-any
    columnSums({ data: new Float32Array(2), rows: 1, cols: 2 }, { backend: "gpu" as any }),
    RangeError,
  );
  if (!status.available) {
    await rejects(
      columnSums({ data: new Float32Array(2), rows: 1, cols: 2 }, { backend: "webgpu" }),
      BackendUnavailableError,
    );
  }
  await releaseGpu();
});
