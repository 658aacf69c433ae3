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
 * A compute program: one WGSL module with one entry point, specialised by `override` constants.
 * Tile and workgroup sizes are `override` declarations in the WGSL *without* defaults, so their
 * values live only in TypeScript and are never written twice.
 */
export interface GpuProgram {
  /** Unique name; also the label of its shader module and the prefix of its pipelines' labels. */
  readonly name: string;
  /** The WGSL source. */
  readonly wgsl: string;
  /** The `@compute` entry point. */
  readonly entryPoint: string;
  /** The names of the WGSL `override` constants; every pipeline gives a value to each. */
  readonly overrides: readonly string[];
}

/** Values for a program's `override` constants, by name. */
export type OverrideValues = Readonly<Record<string, number>>;
