/**
 * The one GPU program runner: records program runs into the context's pending command encoder.
 * Nothing is submitted here; the next read (`GpuContext.readBack`/`readRanges`, a tensor's
 * `read()`, a host's final read-back) or an explicit `GpuContext.flush()` submits everything
 * recorded so far at once.
 *
 * @module
 */

import type { GpuContext } from "./context.ts";
import type { GpuProgram, OverrideValues } from "./types.ts";

/** One run of a program: its specialisation, the problem's shapes and a buffer per binding. */
export interface ProgramRun<Shapes = unknown> {
  /** The program description. */
  readonly program: GpuProgram<Shapes>;
  /** A value for each of the program's `override` constants. */
  readonly overrides: OverrideValues;
  /** The sizes the program's `params` and `dispatch` are computed from. */
  readonly shapes: Shapes;
  /**
   * The buffer (with offset and size) of every storage binding, by binding name. The uniform
   * binding is filled by the runner from `program.params(shapes)`.
   */
  readonly buffers: Readonly<Record<string, GPUBufferBinding>>;
}

/** Options of {@linkcode record}. */
export interface RecordOptions {
  /** Labels the compute pass and bind groups; default the first program's name. */
  label?: string;
}

/**
 * Records `runs`, in order, into one compute pass of `gpu`'s pending encoder (WebGPU orders the
 * dispatches of a pass, so a run may read what an earlier one wrote). Each run's uniform values
 * go to a fresh pooled buffer that is released after the submit. Runs whose dispatch is empty
 * are skipped. Call it inside `gpu.scoped()` so errors throw.
 *
 * @param gpu The context whose encoder collects the work.
 * @param runs The program runs.
 * @param options `label`.
 * @returns When the runs are recorded (pipelines compile on first use); nothing is submitted.
 * @throws {TypeError} When a run lacks a buffer for a storage binding or names an unknown one.
 * @throws {RangeError} When a dispatch does not fit the device's limits.
 * @throws {KernelError} When a program's WGSL does not compile.
 * @example
 * ```ts
 * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
 * import { COLUMN_SUMS_PROGRAM, columnSumsOverrides } from "./programs/column_sums.ts";
 * import { record } from "./run.ts";
 * import assert from "node:assert";
 * if ((await gpuStatus()).available) {
 *   const gpu = await getGpu();
 *   const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
 *   const x = gpu.pool.acquire(12, usage, "x");
 *   const partials = gpu.pool.acquire(4, usage, "partials");
 *   gpu.device.queue.writeBuffer(x, 0, new Float32Array([1, 2, 3]));
 *   gpu.stats.reset();
 *   await record(gpu, [{
 *     program: COLUMN_SUMS_PROGRAM,
 *     overrides: columnSumsOverrides(1),
 *     shapes: { rows: 3, cols: 1 },
 *     buffers: { matrix: { buffer: x, size: 12 }, partials: { buffer: partials, size: 4 } },
 *   }]);
 *   const counts = () => [gpu.stats.submits, gpu.stats.readBacks];
 *   assert.deepStrictEqual(counts(), [0, 0]);
 *   const sum = new Float32Array(await gpu.readBack(partials, { bytes: 4 }))[0];
 *   assert(sum === 6);
 *   assert.deepStrictEqual(counts(), [1, 1]);
 *   gpu.pool.release(x);
 *   gpu.pool.release(partials);
 * }
 * await releaseGpu();
 * ```
 */
export async function record(
  gpu: GpuContext,
  // deno-lint-ignore no-explicit-any
  runs: readonly ProgramRun<any>[],
  options: RecordOptions = {},
): Promise<void> {
  const label = `prism ${options.label ?? runs[0]?.program.name ?? "run"}`;
  const planned = runs.map((run) => ({
    run,
    dispatch: run.program.dispatch(run.shapes, gpu.limits),
  })).filter((p) => p.dispatch.workgroups > 0);
  for (const { run } of planned) checkBuffers(run);
  const pipelines = await Promise.all(
    planned.map(({ run }) => gpu.pipelines.get(run.program, run.overrides)),
  );
  if (planned.length === 0) return;
  const pass = gpu.encoder().beginComputePass({ label: `${label} pass` });
  try {
    planned.forEach(({ run, dispatch }, i) => {
      const entries = run.program.bindings.map((binding, index) => ({
        binding: index,
        resource: binding.type === "uniform"
          ? uniform(gpu, run.program.params(run.shapes), `${label} params`)
          : run.buffers[binding.name],
      }));
      pass.setPipeline(pipelines[i]);
      pass.setBindGroup(
        0,
        gpu.device.createBindGroup({
          label: `${label} ${run.program.name} bind group`,
          layout: pipelines[i].getBindGroupLayout(0),
          entries,
        }),
      );
      pass.dispatchWorkgroups(dispatch.x, dispatch.y);
    });
  } finally {
    pass.end();
  }
}

/** A pooled uniform buffer holding `values`, released once the pending work is submitted. */
function uniform(gpu: GpuContext, values: Uint32Array<ArrayBuffer>, label: string) {
  const buffer = gpu.pool.acquire(
    Math.max(16, values.byteLength),
    GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    label,
  );
  gpu.device.queue.writeBuffer(buffer, 0, values);
  gpu.releaseAfterSubmit(buffer);
  return { buffer, size: Math.max(16, values.byteLength) };
}

function checkBuffers(run: ProgramRun): void {
  const storage = run.program.bindings.filter((b) => b.type === "storage").map((b) => b.name);
  for (const name of storage) {
    if (run.buffers[name]?.buffer === undefined) {
      throw new TypeError(
        `Run of ${run.program.name} has no buffer for binding "${name}"; give one for each of ` +
          storage.join(", "),
      );
    }
  }
  for (const name of Object.keys(run.buffers)) {
    if (!storage.includes(name)) {
      throw new TypeError(
        `Program ${run.program.name} has no storage binding "${name}"; it binds ` +
          storage.join(", "),
      );
    }
  }
}
