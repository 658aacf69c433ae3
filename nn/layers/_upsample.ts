/**
 * Bilinear upsampling by 2 or 4 (PyTorch's `align_corners=False`); no parameters.
 *
 * @module
 */

import { throwIfAborted } from "../../core/abort.ts";
import type { DeviceTensor } from "../../tensor/device_tensor.ts";
import type { UpsampleLayerSpec } from "../spec.ts";
import { type Layer, layerError, type RunContext } from "./_layer.ts";
import { type ImageLike, upsampleBilinear, upsampleBilinearBackward } from "./_ops.ts";

/** See the module doc. */
export class UpsampleLayer implements Layer {
  readonly path: string;
  readonly slots = [];
  readonly #scale: 2 | 4;
  #inputShape?: readonly number[];

  /**
   * @param spec The layer's spec.
   * @param path Its dotted path.
   */
  constructor(spec: UpsampleLayerSpec, path: string) {
    this.path = path;
    this.#scale = spec.scale;
  }

  outputShape(input: readonly number[]): number[] {
    const [n, h, w, c] = input;
    return [n, h * this.#scale, w * this.#scale, c];
  }

  async forward(x: ImageLike, ctx: RunContext): Promise<DeviceTensor> {
    throwIfAborted(ctx.signal, ctx.operation);
    this.#inputShape = ctx.training ? [...x.shape] : undefined;
    return await upsampleBilinear(x, {
      scale: this.#scale,
      backend: ctx.backend,
      signal: ctx.signal,
    });
  }

  async backward(dy: DeviceTensor, ctx: RunContext): Promise<DeviceTensor> {
    const inputShape = this.#inputShape;
    if (inputShape === undefined) {
      throw layerError(this.path, `backward() needs a forward pass with { training: true } first`);
    }
    this.#inputShape = undefined;
    return await upsampleBilinearBackward(dy, {
      scale: this.#scale,
      inputShape,
      backend: ctx.backend,
      signal: ctx.signal,
    });
  }

  release(): void {
    this.#inputShape = undefined;
  }

  invalidate(): void {}
}
