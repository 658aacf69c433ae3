/**
 * The geometry of seamless tiling for a convolutional network spec: how many input pixels each
 * side a tile needs (the halo), which origins keep every stride-2 layer's sampling grid equal to
 * the whole-image run (the alignment), the output scale, and the output extent of an image.
 *
 * Receptive fields are found exactly, by mapping an output pixel's interval back through the
 * layers (asymmetric padding and odd kernels included), not by a rule of thumb.
 *
 * @module
 */

/**
 * The fields of one layer that tiling reads (a `LayerSpec` of `nn/spec.ts` has them; see
 * `nn/specs/README.md`).
 */
export interface TilingLayerSpec {
  /** `"conv2d"`, `"conv_transpose2d"`, `"residual"` or `"upsample"`. */
  readonly type: string;
  /** The layer's name, for messages. */
  readonly name: string;
  /** `[kh, kw]` of a convolution. */
  readonly kernel?: readonly number[];
  /** 1 or 2 (both axes) of a convolution. */
  readonly stride?: number;
  /** `[top, bottom, left, right]` of a convolution (symmetric for a transposed one). */
  readonly padding?: readonly number[];
  /** 2 or 4, of an upsampling layer. */
  readonly scale?: number;
  /** The inner layers of a residual block. */
  readonly layers?: readonly TilingLayerSpec[];
}

/** The fields of a spec that tiling reads (a `ConvNetSpec` of `nn/spec.ts` has them). */
export interface TilingSpec {
  /** The spec's name, for messages. */
  readonly name: string;
  /** The layers in order. */
  readonly layers: readonly TilingLayerSpec[];
}

/** What {@linkcode tilingOf} returns. */
export interface Tiling {
  /** Input pixels each side of a tile that cover the receptive field; a multiple of alignment. */
  readonly halo: number;
  /** Tile origins (in input pixels) must be multiples of this: the network's total stride. */
  readonly alignment: number;
  /** Output size / input size, e.g. 0.25 for the refiner. */
  readonly scale: number;
  /** The widest receptive field of one output pixel, in input pixels. */
  readonly receptiveField: number;
}

/** An image axis: 0 for rows (height), 1 for columns (width). */
export type ImageAxis = 0 | 1;

/**
 * The tiling geometry of a network spec.
 *
 * @param spec The network spec (`{ name, layers }`; a `ConvNetSpec`).
 * @returns `halo`, `alignment`, `scale` and `receptiveField` (all in input pixels but `scale`).
 * @throws {TypeError} When a layer has an unknown type or lacks a field tiling needs (named by
 *   its dotted path).
 * @throws {RangeError} When a stride, kernel, padding or upsampling scale is out of range, or a
 *   residual block changes the resolution.
 * @example
 * ```ts
 * import { tilingOf } from "./tiling.ts";
 * import assert from "node:assert";
 * const conv = (name: string, stride: number) => ({
 *   type: "conv2d", name, kernel: [3, 3], stride, padding: [1, 1, 1, 1],
 * });
 * // Two stride-2 3x3 convolutions: origins on multiples of 4; reach 1 + 2 = 3, rounded up to 4.
 * const t = tilingOf({ name: "down", layers: [conv("a", 2), conv("b", 2)] });
 * assert.deepStrictEqual(t, { halo: 4, alignment: 4, scale: 0.25, receptiveField: 7 });
 * ```
 */
export function tilingOf(spec: TilingSpec): Tiling {
  const layers = layersOf(spec);
  // Scales are exact ratios num/den of powers of two (strides 2, upsampling 2 or 4).
  const { alignment, scale } = gridOf(layers, { num: 1, den: 1 }, "");
  const s = scale.den / scale.num;
  const period = alignment * s; // output pixels per alignment step: the map repeats with it
  let reach = 0;
  let field = 0;
  for (const axis of [0, 1] as const) {
    // Far from 0 so that no interval below goes negative (the maps have no borders anyway).
    const base = period * 1024;
    for (let o = base; o < base + period; o++) {
      const [lo, hi] = backInterval(layers, [o, o], axis);
      reach = Math.max(reach, o / s - lo, hi + 1 - (o + 1) / s);
      field = Math.max(field, hi - lo + 1);
    }
  }
  const halo = Math.ceil(Math.max(0, reach) / alignment) * alignment;
  return { halo, alignment, scale: s, receptiveField: field };
}

/**
 * The output extent of an input extent along one axis, as the whole-image run gives it
 * (PyTorch's sizes: `⌊(n + pads − k) / s⌋ + 1`, `(n − 1)·s − 2p + k`, `n·scale`).
 *
 * @param spec The network spec.
 * @param axis 0 for rows (height), 1 for columns (width).
 * @param extent The input extent, ≥ 1.
 * @returns The output extent.
 * @throws {RangeError} When some layer gets fewer pixels than its kernel needs (named), or a
 *   residual block's inner layers change the extent.
 * @example
 * ```ts
 * import { outputExtent } from "./tiling.ts";
 * import assert from "node:assert";
 * const spec = {
 *   name: "down",
 *   layers: [{ type: "conv2d", name: "a", kernel: [7, 7], stride: 2, padding: [3, 3, 3, 3] }],
 * };
 * assert(outputExtent(spec, 0, 97) === 49);
 * ```
 */
export function outputExtent(spec: TilingSpec, axis: ImageAxis, extent: number): number {
  if (!Number.isInteger(extent) || extent < 1) {
    throw new RangeError(`an image extent must be a whole number ≥ 1, got ${extent}`);
  }
  return extentThrough(layersOf(spec), axis, extent, "");
}

/**
 * The largest activation of a batch in values: the most any layer's output (or the input) of
 * `[n, h, w, channels]` holds, for size checks before the work starts.
 *
 * @param spec The network spec; convolution layers need `outChannels`.
 * @param input `[n, h, w, c]` of the batch.
 * @returns The largest value count.
 * @example
 * ```ts
 * import { largestActivation } from "./tiling.ts";
 * import assert from "node:assert";
 * const spec = { name: "one", layers: [{
 *   type: "conv2d", name: "a", kernel: [1, 1], stride: 1, padding: [0, 0, 0, 0], outChannels: 8,
 * }] };
 * assert(largestActivation(spec, [2, 5, 5, 3]) === 2 * 5 * 5 * 8);
 * ```
 */
export function largestActivation(
  spec: TilingSpec,
  input: readonly [number, number, number, number],
): number {
  const [n, h, w, c] = input;
  let most = n * h * w * c;
  const walk = (layers: readonly TilingLayerSpec[], dims: [number, number, number]) => {
    let [lh, lw, lc] = dims;
    for (const layer of layers) {
      if (layer.type === "residual") walk(layer.layers ?? [], [lh, lw, lc]);
      lh = extentThrough([layer], 0, lh, "");
      lw = extentThrough([layer], 1, lw, "");
      const oc = (layer as { outChannels?: unknown }).outChannels;
      if (typeof oc === "number") lc = oc;
      most = Math.max(most, n * lh * lw * lc);
    }
  };
  walk(layersOf(spec), [h, w, c]);
  return most;
}

interface Ratio {
  num: number;
  den: number;
}

function layersOf(spec: TilingSpec): readonly TilingLayerSpec[] {
  if (spec === null || typeof spec !== "object" || !Array.isArray(spec.layers)) {
    throw new TypeError("tilingOf(): spec must be a network spec { name, layers: [...] }");
  }
  if (spec.layers.length === 0) {
    throw new TypeError(`tilingOf(): spec ${spec.name} has no layers`);
  }
  return spec.layers;
}

/**
 * Walks the layers with the input pixels per feature pixel `d` (a ratio) and returns the
 * alignment every layer needs (its input origin a whole multiple of its stride) and the final
 * ratio.
 */
function gridOf(
  layers: readonly TilingLayerSpec[],
  start: Ratio,
  prefix: string,
): { alignment: number; scale: Ratio } {
  let d = start;
  let alignment = originAlignment(d, 1);
  for (const layer of layers) {
    const path = pathOf(prefix, layer);
    switch (layer.type) {
      case "conv2d": {
        const { stride } = convFields(layer, path);
        alignment = lcm(alignment, originAlignment(d, stride));
        d = reduce({ num: d.num * stride, den: d.den });
        break;
      }
      case "conv_transpose2d": {
        const { stride } = convFields(layer, path);
        alignment = lcm(alignment, originAlignment(d, 1));
        d = reduce({ num: d.num, den: d.den * stride });
        break;
      }
      case "upsample": {
        alignment = lcm(alignment, originAlignment(d, 1));
        d = reduce({ num: d.num, den: d.den * upsampleScale(layer, path) });
        break;
      }
      case "residual": {
        const inner = gridOf(residualLayers(layer, path), d, path);
        if (inner.scale.num !== d.num || inner.scale.den !== d.den) {
          throw new RangeError(
            `tilingOf(): residual block ${path} changes the resolution; its layers must keep ` +
              `the input's size so the sum is defined`,
          );
        }
        alignment = lcm(alignment, inner.alignment);
        break;
      }
      default:
        throw unknownType(layer, path);
    }
  }
  // The output's own origin must be a whole pixel too.
  return { alignment: lcm(alignment, originAlignment(d, 1)), scale: d };
}

/** The least input step `a` with `a / d` a whole multiple of `stride`. */
function originAlignment(d: Ratio, stride: number): number {
  const need = stride * d.num;
  return need / gcd(need, d.den);
}

/** The input interval (inclusive) that an output interval depends on, along one axis. */
function backInterval(
  layers: readonly TilingLayerSpec[],
  interval: [number, number],
  axis: ImageAxis,
): [number, number] {
  let [a, b] = interval;
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    switch (layer.type) {
      case "conv2d": {
        const { k, s, before } = axisFields(layer, axis);
        [a, b] = [s * a - before, s * b - before + k - 1];
        break;
      }
      case "conv_transpose2d": {
        // Output o = s·i − p + j, j in [0, k): the inputs i with some j landing on o.
        const { k, s, before } = axisFields(layer, axis);
        [a, b] = [Math.ceil((a + before - k + 1) / s), Math.floor((b + before) / s)];
        break;
      }
      case "upsample": {
        // align_corners=False: source (o + 0.5)/f − 0.5 reads its floor and the next pixel.
        const f = layer.scale as number;
        [a, b] = [Math.floor((a + 0.5) / f - 0.5), Math.floor((b + 0.5) / f - 0.5) + 1];
        break;
      }
      case "residual": {
        const [lo, hi] = backInterval(layer.layers ?? [], [a, b], axis);
        [a, b] = [Math.min(a, lo), Math.max(b, hi)];
        break;
      }
    }
  }
  return [a, b];
}

function extentThrough(
  layers: readonly TilingLayerSpec[],
  axis: ImageAxis,
  extent: number,
  prefix: string,
): number {
  let n = extent;
  for (const layer of layers) {
    const path = pathOf(prefix, layer);
    switch (layer.type) {
      case "conv2d": {
        const { k, s, before, after } = axisFields(layer, axis, path);
        const padded = n + before + after;
        if (padded < k) {
          throw new RangeError(
            `layer ${path} gets ${n} ${axis === 0 ? "rows" : "columns"} (${padded} padded), ` +
              `fewer than its kernel's ${k}; the image is too small for this network`,
          );
        }
        n = Math.floor((padded - k) / s) + 1;
        break;
      }
      case "conv_transpose2d": {
        const { k, s, before } = axisFields(layer, axis, path);
        n = (n - 1) * s - 2 * before + k;
        break;
      }
      case "upsample":
        n *= upsampleScale(layer, path);
        break;
      case "residual": {
        const inner = extentThrough(residualLayers(layer, path), axis, n, path);
        if (inner !== n) {
          throw new RangeError(
            `residual block ${path}: its layers turn ${n} ${axis === 0 ? "rows" : "columns"} ` +
              `into ${inner}, so the sum is undefined; use an extent divisible by the block's ` +
              `stride`,
          );
        }
        break;
      }
      default:
        throw unknownType(layer, path);
    }
  }
  return n;
}

function convFields(layer: TilingLayerSpec, path: string): { stride: number } {
  const stride = layer.stride;
  if (stride !== 1 && stride !== 2) {
    throw new RangeError(`layer ${path}: stride must be 1 or 2, got ${String(stride)}`);
  }
  const kernel = layer.kernel;
  if (
    !Array.isArray(kernel) || kernel.length !== 2 ||
    !kernel.every((k) => Number.isInteger(k) && k >= 1)
  ) {
    throw new TypeError(`layer ${path}: kernel must be [kh, kw] of whole numbers ≥ 1`);
  }
  const padding = layer.padding;
  if (
    !Array.isArray(padding) || padding.length !== 4 ||
    !padding.every((p) => Number.isInteger(p) && p >= 0)
  ) {
    throw new TypeError(
      `layer ${path}: padding must be [top, bottom, left, right] of whole numbers ≥ 0`,
    );
  }
  if (layer.type === "conv_transpose2d" && new Set(padding).size !== 1) {
    throw new RangeError(`layer ${path}: a transposed convolution's padding must be symmetric`);
  }
  return { stride };
}

/** Kernel, stride and padding of a convolution along one axis (fields checked by gridOf). */
function axisFields(
  layer: TilingLayerSpec,
  axis: ImageAxis,
  path = layer.name,
): { k: number; s: number; before: number; after: number } {
  const { stride } = convFields(layer, path);
  const kernel = layer.kernel as readonly number[];
  const padding = layer.padding as readonly number[];
  return { k: kernel[axis], s: stride, before: padding[2 * axis], after: padding[2 * axis + 1] };
}

function upsampleScale(layer: TilingLayerSpec, path: string): number {
  if (layer.scale !== 2 && layer.scale !== 4) {
    throw new RangeError(`layer ${path}: upsampling scale must be 2 or 4, got ${layer.scale}`);
  }
  return layer.scale;
}

function residualLayers(layer: TilingLayerSpec, path: string): readonly TilingLayerSpec[] {
  if (!Array.isArray(layer.layers)) {
    throw new TypeError(`layer ${path}: a residual block needs layers: [...]`);
  }
  return layer.layers;
}

function unknownType(layer: TilingLayerSpec, path: string): TypeError {
  return new TypeError(
    `layer ${path}: unknown type ${JSON.stringify(layer?.type)}; tiling knows conv2d, ` +
      `conv_transpose2d, residual and upsample`,
  );
}

function pathOf(prefix: string, layer: TilingLayerSpec): string {
  const name = typeof layer?.name === "string" ? layer.name : "?";
  return prefix === "" ? name : `${prefix}.${name}`;
}

function reduce(r: Ratio): Ratio {
  const g = gcd(r.num, r.den);
  return { num: r.num / g, den: r.den / g };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function lcm(a: number, b: number): number {
  return a / gcd(a, b) * b;
}
