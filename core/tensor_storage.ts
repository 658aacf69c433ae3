/**
 * What a backend keeps behind a device tensor (`tensor/device_tensor.ts`): float32 values in WASM kernel memory
 * (`wasm/storage.ts`) or in a GPU buffer (`gpu/storage.ts`). The tensor layer only moves and
 * frees storage; backends create it and their hosts read it in place.
 *
 * @module
 */

/** The engines a tensor can live on. */
export type DeviceKind = "wasm" | "webgpu";

/** Float32 values held by one backend. */
export interface TensorStorage {
  /** Where the values live. */
  readonly backend: DeviceKind;
  /** How many float32 values it holds. */
  readonly length: number;
  /** True once {@linkcode TensorStorage.free} has run. */
  readonly freed: boolean;
  /**
   * Copies the values into a new plain `Float32Array` (on WebGPU this submits pending work and
   * reads back once).
   */
  read(): Promise<Float32Array<ArrayBuffer>>;
  /** Releases the memory; a second call does nothing. */
  free(): void;
}
