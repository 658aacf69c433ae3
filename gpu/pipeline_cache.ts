/**
 * Compiles each program once per set of `override` values and hands the pipeline out again.
 *
 * @module
 */

import { KernelError } from "../core/errors.ts";
import type { GpuShader, OverrideValues } from "./types.ts";

/** How the cache has been used. */
export interface PipelineCacheStats {
  /** Calls answered from the cache. */
  readonly hits: number;
  /** Calls that compiled a pipeline (failed compilations included). */
  readonly misses: number;
  /** Pipelines held (compiled or compiling). */
  readonly pipelines: number;
}

/**
 * Compute pipelines by program name and override values. A shader module is created once per
 * program; a pipeline once per specialisation. Failed compilations are not cached.
 *
 * @example
 * ```ts
 * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
 * import assert from "node:assert";
 * const program = {
 *   name: "example_fill",
 *   entryPoint: "main",
 *   overrides: ["WG"],
 *   wgsl: `override WG: u32;
 *     @group(0) @binding(0) var<storage, read_write> out: array<u32>;
 *     @compute @workgroup_size(WG) fn main(@builtin(global_invocation_id) id: vec3u) {
 *       out[id.x] = id.x;
 *     }`,
 * };
 * if ((await gpuStatus()).available) {
 *   const { pipelines } = await getGpu();
 *   const first = await pipelines.get(program, { WG: 64 });
 *   assert(first === await pipelines.get(program, { WG: 64 }));
 *   assert(pipelines.stats().hits === 1);
 * }
 * await releaseGpu();
 * ```
 */
export class PipelineCache {
  /** The device the pipelines are compiled for. */
  readonly device: GPUDevice;
  #modules = new Map<string, { wgsl: string; module: GPUShaderModule }>();
  #pipelines = new Map<string, Promise<GPUComputePipeline>>();
  #hits = 0;
  #misses = 0;

  /**
   * @param device The device to compile for.
   */
  constructor(device: GPUDevice) {
    this.device = device;
  }

  /**
   * The pipeline of `program` specialised with `overrides`, compiled on first use.
   *
   * @param program The program or shader (name, WGSL, entry point, override names).
   * @param overrides A value for every name in `program.overrides` and nothing else.
   * @returns The compute pipeline, labelled `name{A=1,B=2}`, with an automatic layout.
   * @throws {TypeError} When an override is missing, unknown or not a finite number, or another
   *   program with the same name but different WGSL was compiled before.
   * @throws {KernelError} When the WGSL does not compile or the pipeline is invalid; the message
   *   holds the compiler's diagnostics.
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import assert from "node:assert";
   * const program = {
   *   name: "example_noop",
   *   entryPoint: "main",
   *   overrides: ["WG"],
   *   wgsl: "override WG: u32; @compute @workgroup_size(WG) fn main() {}",
   * };
   * if ((await gpuStatus()).available) {
   *   const pipeline = await (await getGpu()).pipelines.get(program, { WG: 32 });
   *   assert(pipeline.label === "example_noop{WG=32}");
   * }
   * await releaseGpu();
   * ```
   */
  get(program: GpuShader, overrides: OverrideValues): Promise<GPUComputePipeline> {
    const key = cacheKey(program, overrides);
    const cached = this.#pipelines.get(key);
    if (cached !== undefined) {
      this.#hits++;
      return cached;
    }
    this.#misses++;
    const compiling = this.#compile(program, overrides, key);
    this.#pipelines.set(key, compiling);
    compiling.catch(() => {
      if (this.#pipelines.get(key) === compiling) this.#pipelines.delete(key);
    });
    return compiling;
  }

  /**
   * How often the cache was hit and missed, and how many pipelines it holds.
   *
   * @returns The counters.
   * @example
   * ```ts
   * import { getGpu, gpuStatus, releaseGpu } from "./device.ts";
   * import assert from "node:assert";
   * if ((await gpuStatus()).available) {
   *   assert((await getGpu()).pipelines.stats().pipelines >= 0);
   * }
   * await releaseGpu();
   * ```
   */
  stats(): PipelineCacheStats {
    return { hits: this.#hits, misses: this.#misses, pipelines: this.#pipelines.size };
  }

  async #compile(
    program: GpuShader,
    overrides: OverrideValues,
    key: string,
  ): Promise<GPUComputePipeline> {
    const module = await this.#module(program);
    try {
      return await this.device.createComputePipelineAsync({
        label: key,
        layout: "auto",
        compute: { module, entryPoint: program.entryPoint, constants: { ...overrides } },
      });
    } catch (e) {
      throw new KernelError(key, `pipeline creation failed: ${(e as Error).message}`, { cause: e });
    }
  }

  async #module(program: GpuShader): Promise<GPUShaderModule> {
    const known = this.#modules.get(program.name);
    if (known !== undefined) {
      if (known.wgsl === program.wgsl) return known.module;
      throw new TypeError(
        `Two programs are named ${program.name} with different WGSL; give each a unique name`,
      );
    }
    this.device.pushErrorScope("validation");
    const module = this.device.createShaderModule({ label: program.name, code: program.wgsl });
    const error = await this.device.popErrorScope();
    if (error !== null) {
      throw new KernelError(program.name, `WGSL does not compile: ${error.message.trim()}`);
    }
    // Checked after the await, so two concurrent first calls keep one module.
    const raced = this.#modules.get(program.name);
    if (raced !== undefined) return raced.module;
    this.#modules.set(program.name, { wgsl: program.wgsl, module });
    return module;
  }
}

/** `name{A=1,B=2}`, with the overrides checked against the program's declared names. */
function cacheKey(program: GpuShader, overrides: OverrideValues): string {
  if (program === null || typeof program !== "object" || typeof program.name !== "string") {
    throw new TypeError("program must be a GpuProgram { name, wgsl, entryPoint, overrides }");
  }
  const names = Object.keys(overrides ?? {}).sort();
  const declared = [...program.overrides].sort();
  for (const name of names) {
    if (!declared.includes(name)) {
      throw new TypeError(
        `Program ${program.name} has no override constant ${name}; it declares ` +
          `${declared.join(", ") || "none"}`,
      );
    }
    if (!Number.isFinite(overrides[name])) {
      throw new TypeError(
        `Override ${name} of program ${program.name} must be a finite number, got ` +
          String(overrides[name]),
      );
    }
  }
  const missing = declared.filter((name) => !names.includes(name));
  if (missing.length > 0) {
    throw new TypeError(
      `Program ${program.name} needs a value for override ${missing.join(", ")}`,
    );
  }
  return `${program.name}{${names.map((n) => `${n}=${overrides[n]}`).join(",")}}`;
}
