/**
 * The shapes the WebGPU backend reports and consumes: what `gpuStatus()` found, and what a GPU
 * program declares to the pipeline cache.
 *
 * @module
 */

/** The adapter WebGPU handed out, as `GPUAdapterInfo` describes it. */
export interface GpuAdapterSummary {
  /** Vendor name or PCI id, as the driver reports it (may be empty). */
  readonly vendor: string;
  /** GPU family, as the driver reports it (may be empty). */
  readonly architecture: string;
  /** Device name or PCI id (may be empty). */
  readonly device: string;
  /** Human-readable adapter name, e.g. `"llvmpipe (LLVM 15.0.6, 256 bits)"`. */
  readonly description: string;
  /** True for a CPU-emulated adapter (llvmpipe, lavapipe, SwiftShader…): a fallback, not a GPU. */
  readonly isSoftware: boolean;
  /** Which rule recognised the adapter as software; absent when `isSoftware` is false. */
  readonly softwareReason?: string;
}

/** WebGPU is usable: the adapter, the device's features and its limits. */
export interface GpuAvailable {
  /** Discriminant. */
  readonly available: true;
  /** The adapter the device came from. */
  readonly adapter: GpuAdapterSummary;
  /** Every feature the device was created with. */
  readonly features: string[];
  /** The device has `shader-f16` (f16 storage and arithmetic in WGSL). */
  readonly f16: boolean;
  /** The device has `timestamp-query` (kernel-only GPU timing). */
  readonly timestampQuery: boolean;
  /** Every numeric limit of the device (the adapter's own limits, not the WebGPU defaults). */
  readonly limits: Record<string, number>;
}

/** WebGPU is not usable; `reason` says what was looked for and not found. */
export interface GpuUnavailable {
  /** Discriminant. */
  readonly available: false;
  /** What was looked for: `navigator.gpu`, an adapter, a device, or `PRISM_WEBGPU=off`. */
  readonly reason: string;
}

/** What `gpuStatus()` reports. */
export type GpuStatus = GpuAvailable | GpuUnavailable;

/**
 * What the pipeline cache needs of a program: one WGSL module with one entry point, specialised
 * by `override` constants. Tile and workgroup sizes are `override` declarations in the WGSL
 * *without* defaults, so their values live only in TypeScript and are never written twice.
 */
export interface GpuShader {
  /** Unique name; also the label of its shader module and the prefix of its pipelines' labels. */
  readonly name: string;
  /** The WGSL source. */
  readonly wgsl: string;
  /** The `@compute` entry point. */
  readonly entryPoint: string;
  /** The names of the WGSL `override` constants; every pipeline gives a value to each. */
  readonly overrides: readonly string[];
}

/** One `@group(0) @binding(i)` of a program; `i` is its position in `GpuProgram.bindings`. */
export interface GpuBinding {
  /** The WGSL variable's name; a run gives the buffer under this name. */
  readonly name: string;
  /** `var<storage, …>` or `var<uniform>`. */
  readonly type: "storage" | "uniform";
  /** For storage bindings: `read` or `read_write`. */
  readonly access?: "read" | "read_write";
}

/** A dispatch: the workgroups the shader needs, laid out as `dispatchWorkgroups(x, y)`. */
export interface GpuDispatch {
  /** The workgroups that carry work (the shader returns early from the others). */
  readonly workgroups: number;
  /** Workgroups along x. */
  readonly x: number;
  /** Workgroups along y. */
  readonly y: number;
}

/** The device limits a program's dispatch depends on. */
export type DispatchLimits = Pick<GPUSupportedLimits, "maxComputeWorkgroupsPerDimension">;

/**
 * A compute program as a pure description: its shader, its bindings in order, its uniform
 * values and its dispatch size from the problem's shapes. It never touches a device; the runner
 * (`gpu/run.ts`) records it and the hosts (`gpu/*.ts`) plan, upload and merge.
 */
export interface GpuProgram<Shapes = unknown> extends GpuShader {
  /** Bindings 0, 1, … of group 0. At most one is a uniform; its values come from `params`. */
  readonly bindings: readonly GpuBinding[];
  /**
   * The values of the uniform binding (`u32`s, padded to 16 bytes) for `shapes`.
   *
   * @param shapes The problem's sizes for one run.
   */
  params(shapes: Shapes): Uint32Array<ArrayBuffer>;
  /**
   * The dispatch for `shapes` within `limits`.
   *
   * @param shapes The problem's sizes for one run.
   * @param limits The device's limits.
   */
  dispatch(shapes: Shapes, limits: DispatchLimits): GpuDispatch;
}

/** Values for a program's `override` constants, by name. */
export type OverrideValues = Readonly<Record<string, number>>;
