/**
 * A residual block: output = input + its layers applied in order.
 *
 * @module
 */

import { throwIfAborted } from "../../core/abort.ts";
import type { DeviceTensor } from "../../tensor/device_tensor.ts";
import { type Layer, layerError, type ParamSlot, type RunContext } from "./_layer.ts";
import { add, type ImageLike } from "./_ops.ts";

/** See the module doc. */
export class ResidualLayer implements Layer {
  readonly path: string;
  readonly slots: readonly ParamSlot[];
  readonly #inner: readonly Layer[];
  /** The inner layers' outputs but the last, kept for backward when training. */
  #kept: DeviceTensor[] = [];

  /**
   * @param path The block's dotted path.
   * @param inner Its layers.
   */
  constructor(path: string, inner: readonly Layer[]) {
    this.path = path;
    this.#inner = inner;
    this.slots = inner.flatMap((l) => l.slots);
  }

  outputShape(input: readonly number[]): number[] {
    let shape = [...input];
    for (const l of this.#inner) shape = l.outputShape(shape);
    if (shape.some((d, i) => d !== input[i])) {
      throw layerError(
        this.path,
        `its layers turn [${input.join(", ")}] into [${shape.join(", ")}], but a residual ` +
          `block must give its input's shape back`,
      );
    }
    return shape;
  }

  async forward(x: ImageLike, ctx: RunContext): Promise<DeviceTensor> {
    this.release();
    let h: ImageLike = x;
    try {
      for (const [i, l] of this.#inner.entries()) {
        // The last inner output is freed right after the add, so nothing may keep it.
        const next = await l.forward(h, { ...ctx, escapes: i === this.#inner.length - 1 });
        if (h !== x) this.#retire(h as DeviceTensor, ctx.training);
        h = next;
      }
      throwIfAborted(ctx.signal, ctx.operation);
      return await add(x, h, { backend: ctx.backend, signal: ctx.signal });
    } finally {
      if (h !== x) (h as DeviceTensor).dispose();
    }
  }

  async backward(dy: DeviceTensor, ctx: RunContext): Promise<DeviceTensor> {
    let d = dy;
    try {
      for (let i = this.#inner.length - 1; i >= 0; i--) {
        const next = await this.#inner[i].backward(d, ctx);
        if (d !== dy) d.dispose();
        d = next;
      }
      return await add(dy, d, { backend: ctx.backend, signal: ctx.signal });
    } finally {
      if (d !== dy) d.dispose();
      this.release();
    }
  }

  release(): void {
    for (const t of this.#kept) t.dispose();
    this.#kept = [];
    for (const l of this.#inner) l.release();
  }

  invalidate(): void {
    for (const l of this.#inner) l.invalidate();
  }

  /** An intermediate output: kept for backward when training (the next layer reads it). */
  #retire(t: DeviceTensor, training: boolean): void {
    if (training) this.#kept.push(t);
    else t.dispose();
  }
}
