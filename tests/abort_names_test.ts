import assert from "node:assert";
import { AbortedError, BackendUnavailableError } from "../core/errors.ts";
import { covariance } from "../ops/covariance.ts";
import { CovarianceAccumulator } from "../ops/covariance_accumulator.ts";
import { gram } from "../ops/gram.ts";
import { RxDetector } from "../ops/rx.ts";
import { rxLocal } from "../ops/rx_local.ts";
import { singularValues, spectrumOf } from "../ops/spectrum.ts";
import { datasetRows, synthDataset } from "../synth/datasets.ts";
import { randomMatrix } from "../synth/uniform.ts";

const m = randomMatrix(40, 4, { seed: 3 });
const cube = { data: m.data, height: 5, width: 8, bands: 4 };

function aborted(): AbortSignal {
  const controller = new AbortController();
  controller.abort("stop");
  return controller.signal;
}

/** Asserts `run` rejects with an AbortedError whose message starts with `name`. */
async function rejectsNaming(run: () => Promise<unknown>, name: string): Promise<void> {
  await assert.rejects(run, (e: unknown) => {
    assert(e instanceof AbortedError, `expected AbortedError, got ${e}`);
    assert.strictEqual(e.message, `${name} was aborted`);
    assert.strictEqual(e.cause, "stop");
    return true;
  });
}

Deno.test("an aborted call names the operation the user called, also from nested calls", async () => {
  const signal = aborted();
  const wasm = { backend: "wasm", signal } as const;
  await rejectsNaming(() => gram(m, wasm), "gram()");
  await rejectsNaming(() => covariance(m, wasm), "covariance()");
  await rejectsNaming(
    () => new CovarianceAccumulator(4, wasm).add(m, { signal }),
    "CovarianceAccumulator.add()",
  );
  await rejectsNaming(() => new RxDetector().fit(m, wasm), "RxDetector.fit()");
  await rejectsNaming(() => singularValues(m, wasm), "singularValues()");
  await rejectsNaming(() => spectrumOf(m, wasm), "spectrumOf()");
  await rejectsNaming(() => rxLocal(cube, { inner: 1, outer: 3, signal }), "rxLocal()");
  const chunks = (async function* () {
    yield m;
  })();
  await rejectsNaming(() => covariance(chunks, wasm), "covariance()");
  const shape = { height: 4, width: 4, bands: 3, samples: 2 };
  await rejectsNaming(() => synthDataset(shape, { signal }).next(), "synthDataset()");
  await rejectsNaming(() => datasetRows(shape, { signal }).next(), "datasetRows()");
});

Deno.test("rxLocal() takes backend: auto and wasm run on the CPU, webgpu says to use them", async () => {
  const window = { inner: 1, outer: 3 };
  const want = await rxLocal(cube, window);
  for (const backend of ["auto", "wasm"] as const) {
    assert.deepStrictEqual(await rxLocal(cube, { ...window, backend }), want);
  }
  await assert.rejects(
    () => rxLocal(cube, { ...window, backend: "webgpu" }),
    (e: unknown) =>
      e instanceof BackendUnavailableError && e.backend === "webgpu" &&
      e.message.includes("rxLocal() has no WebGPU implementation") && e.message.includes('"wasm"'),
  );
  await assert.rejects(() => rxLocal(cube, { ...window, backend: "gpu" as never }), RangeError);
});
