/**
 * Seamless tiled inference: a network runs over an image of any size as tiles of `tileSize`
 * output-aligned pixels plus a halo that covers the receptive field, batched, and the tiles'
 * centres are stitched so the result equals running the whole image at once. Images larger than
 * memory stream from an {@linkcode ImageSource} and to a `.npy` or HDF5 file, a band of tile rows
 * at a time.
 *
 * Why it is exact: tile origins are multiples of the network's total stride, so every stride-2
 * layer samples the same grid as in the whole-image run; a tile reaches `halo` input pixels
 * beyond its centre, so no centre pixel sees the tile's own edge; at the image's borders the
 * tile is clipped, so the network's zero padding there is the whole run's zero padding.
 *
 * Batching: tiles of one band that have equal sizes share a batch (the interior ones all do;
 * clipped border tiles form their own small groups). Padding the border tiles up to the interior
 * size instead would feed the network zeros where the whole-image run has none past the first
 * layer (a convolution of zero padding is its bias, not zero), so the result would no longer be
 * exact.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import { InvalidDataError } from "../core/errors.ts";
import type { Backend, Tensor } from "../core/types.ts";
import { firstNonFinite } from "../core/validate.ts";
import { writeRowsAtomic } from "../io/array_writer.ts";
import type { ImageSource } from "../io/image_source.ts";
import type { ImageLike } from "../ops/conv2d.ts";
import type { DeviceTensor } from "../tensor/device_tensor.ts";
import { largestActivation, outputExtent, tilingOf, type TilingSpec } from "./tiling.ts";

export type { ImageSource } from "../io/image_source.ts";

/** Options a {@linkcode TiledNet}'s `forward` receives from {@linkcode runTiled}. */
export interface TiledForwardOptions {
  /** Where the layers run. */
  backend?: Backend;
  /** `"f32"`, or `"f16"` on WebGPU. */
  precision?: "f32" | "f16";
  /** Cancels the work. */
  signal?: AbortSignal;
}

/**
 * What {@linkcode runTiled} needs of a network: `Pick<ConvNet, "spec" | "inputChannels" |
 * "outputChannels" | "scale" | "forward">`.
 */
export interface TiledNet {
  /** The network's spec (its layers give the halo, alignment and output size). */
  readonly spec: TilingSpec;
  /** Channels of an input pixel. */
  readonly inputChannels: number;
  /** Channels of an output pixel. */
  readonly outputChannels: number;
  /** Output size / input size. */
  readonly scale: number;
  /** Runs a batch `[n, h, w, inputChannels]`; the result is the caller's to dispose. */
  forward(x: ImageLike, options?: TiledForwardOptions): Promise<DeviceTensor>;
}

/** Options of {@linkcode runTiled}. */
export interface RunTiledOptions extends TiledForwardOptions {
  /** Output-aligned input pixels per tile side, without the halo; default 256. */
  tileSize?: number;
  /** Tiles per forward pass; default 1. */
  batchSize?: number;
  /** Called after every batch with the tiles done and the tiles in all. */
  onProgress?: (done: number, total: number) => void;
  /** A `.npy`, `.h5` or `.hdf5` path: the output streams there and `runTiled` returns nothing. */
  output?: string;
  /** The dataset of an HDF5 `output`; default `"output"`. */
  dataset?: string;
}

/** The largest layer output one batch may need: 4 GiB of float32, WASM's kernel memory. */
const MAX_ACTIVATION = 2 ** 30 - 1;

/** One tile along one axis: the output pixels it delivers and the input pixels it reads. */
interface Span {
  out0: number;
  out1: number;
  in0: number;
  in1: number;
}

/**
 * Runs `net` over an image of any size, tile by tile, with the same result as one forward pass
 * over the whole image (within float32 rounding).
 *
 * @param net The network (a `ConvNet`, or anything with its `spec`, channel counts, `scale`
 *   and `forward`).
 * @param image `{ data, shape: [h, w, c] }` in memory, or an {@linkcode ImageSource} read a band
 *   of rows at a time.
 * @param options `tileSize` (default 256, a multiple of the network's alignment and at least its
 *   receptive field), `batchSize` (default 1), `backend`, `precision`, `onProgress`, `output`
 *   (+ `dataset`), `signal`.
 * @returns The output `[h', w', outputChannels]` (`h' = h·scale` for size-keeping padding), or
 *   `undefined` when it was written to `output`.
 * @throws {TypeError} When the image is not `[h, w, c]`, its channels differ from the network's,
 *   or an option has the wrong type (named).
 * @throws {RangeError} When `tileSize` is smaller than the receptive field or not a multiple of
 *   the alignment, `batchSize` is not a whole number ≥ 1, or one batch of tiles does not fit the
 *   backend's limits (the limit is named; use smaller tiles or batches).
 * @throws {InvalidDataError} When the image holds NaN or infinity (the pixel is named).
 * @throws {AbortedError} When `signal` aborts; an `output` file is then not written at all.
 * @example
 * ```ts
 * import { runTiled } from "./tiled.ts";
 * import { conv2d } from "../ops/conv2d.ts";
 * import assert from "node:assert";
 * // A 3x3 box filter as a one-layer network.
 * const weights = { data: new Float32Array(9).fill(1), shape: [3, 3, 1, 1] };
 * const net = {
 *   spec: { name: "box", layers: [
 *     { type: "conv2d", name: "box", kernel: [3, 3], stride: 1, padding: [1, 1, 1, 1] },
 *   ] },
 *   inputChannels: 1,
 *   outputChannels: 1,
 *   scale: 1,
 *   forward: (x: { data: Float32Array; shape: number[] }) =>
 *     conv2d(x, weights, { padding: [1, 1, 1, 1] }),
 * };
 * const image = { data: new Float32Array(7 * 9).fill(1), shape: [7, 9, 1] };
 * const whole = await (await net.forward({ ...image, shape: [1, 7, 9, 1] })).read();
 * const tiled = await runTiled(net, image, { tileSize: 4, batchSize: 2 });
 * assert.deepStrictEqual(tiled?.shape, [7, 9, 1]);
 * assert.deepStrictEqual([...tiled!.data], [...whole]);
 * ```
 */
export async function runTiled(
  net: TiledNet,
  image: Tensor | ImageSource,
  options: RunTiledOptions = {},
): Promise<Tensor | undefined> {
  const op = "runTiled()";
  checkNet(net, op);
  const source = sourceOf(image, op);
  if (source.channels !== net.inputChannels) {
    throw new TypeError(
      `${op}: the image has ${source.channels} channels but network ${net.spec.name} takes ` +
        `${net.inputChannels}; pass an image [h, w, ${net.inputChannels}]`,
    );
  }
  const plan = planOf(net, source, options, op);
  const total = plan.rows.length * plan.cols.length;
  let done = 0;
  const [outH, outW, outC] = plan.outShape;
  const rowValues = outW * outC;
  // Fills `out`, the output rows [out0, out1) of one band.
  const band = (row: Span, out: Float32Array) =>
    runBand(net, source, { plan, row, options, op, out }, (n) => {
      done += n;
      options.onProgress?.(done, total);
    });
  if (options.output !== undefined) {
    await writeRowsAtomic(
      options.output,
      { shape: plan.outShape, dataset: options.dataset ?? "output" },
      async (write) => {
        for (const row of plan.rows) {
          const out = new Float32Array((row.out1 - row.out0) * rowValues);
          await band(row, out);
          await write(out);
        }
      },
    );
    return undefined;
  }
  const data = allocate(outH * rowValues, plan.outShape, op);
  // In memory, each band is stitched straight into its rows of the result (no band copy).
  for (const row of plan.rows) {
    await band(row, data.subarray(row.out0 * rowValues, row.out1 * rowValues));
  }
  return { data, shape: [outH, outW, outC] };
}

/** What runs: the tile grid and the output's shape. */
interface Plan {
  rows: Span[];
  cols: Span[];
  outShape: [number, number, number];
  scale: number;
}

function planOf(net: TiledNet, source: ImageSource, options: RunTiledOptions, op: string): Plan {
  const tiling = tilingOf(net.spec);
  if (Math.abs(tiling.scale - net.scale) > 1e-12) {
    throw new TypeError(
      `${op}: network ${net.spec.name} says scale ${net.scale} but its layers give ` +
        `${tiling.scale}`,
    );
  }
  const tileSize = options.tileSize ?? 256;
  if (!Number.isInteger(tileSize) || tileSize < 1) {
    throw new RangeError(`${op}: tileSize must be a whole number ≥ 1, got ${tileSize}`);
  }
  const { alignment: a, receptiveField } = tiling;
  if (tileSize % a !== 0) {
    const lower = Math.max(a, Math.floor(tileSize / a) * a);
    throw new RangeError(
      `${op}: tileSize ${tileSize} is not a multiple of ${a}, the total stride of network ` +
        `${net.spec.name}: tile origins must be multiples of it for the tiles to match the ` +
        `whole-image run; use ${lower} or ${lower + a}`,
    );
  }
  if (tileSize < receptiveField) {
    throw new RangeError(
      `${op}: tileSize ${tileSize} is smaller than the receptive field of network ` +
        `${net.spec.name} (${receptiveField} pixels): most of every tile would be halo; use a ` +
        `tileSize of at least ${Math.ceil(receptiveField / a) * a}`,
    );
  }
  const batchSize = options.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`${op}: batchSize must be a whole number ≥ 1, got ${batchSize}`);
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== "function") {
    throw new TypeError(`${op}: onProgress must be a function (done, total) => void`);
  }
  if (options.output !== undefined && typeof options.output !== "string") {
    throw new TypeError(`${op}: output must be a .npy or .h5 path`);
  }
  const s = tiling.scale;
  const outH = outputExtent(net.spec, 0, source.height);
  const outW = outputExtent(net.spec, 1, source.width);
  const common = { tileSize, s, halo: tiling.halo, spec: net.spec, op };
  const rows = spansOf({ ...common, axis: 0, extent: source.height, out: outH });
  const cols = spansOf({ ...common, axis: 1, extent: source.width, out: outW });
  // The largest batch: full-size tiles (every span is at most the first interior one).
  const th = Math.max(...rows.map((r) => r.in1 - r.in0));
  const tw = Math.max(...cols.map((c) => c.in1 - c.in0));
  const n = Math.min(batchSize, cols.length);
  const most = largestActivation(net.spec, [n, th, tw, source.channels]);
  if (most > MAX_ACTIVATION) {
    throw new RangeError(
      `${op}: a batch of ${n} tiles of ${th}x${tw} pixels (tileSize ${tileSize} + halo ` +
        `${tiling.halo}) needs a layer output of ${most} values (${gib(most)} GiB), beyond the ` +
        `4 GiB a WASM or GPU buffer may hold; use a smaller tileSize or batchSize`,
    );
  }
  return { rows, cols, outShape: [outH, outW, net.outputChannels], scale: s };
}

/**
 * The tiles along one axis: output pieces of `tileSize · s`, inputs with their halo, clipped at
 * the image. Each tile's output must reach past its piece: a tile that ends at the image's edge
 * gives exactly the whole run's last outputs (its start is aligned), others give more.
 */
function spansOf(axis: {
  axis: 0 | 1;
  extent: number;
  out: number;
  tileSize: number;
  s: number;
  halo: number;
  spec: TilingSpec;
  op: string;
}): Span[] {
  const { extent, out, tileSize, s, halo } = axis;
  const step = tileSize * s;
  const spans: Span[] = [];
  for (let j = 0; j * step < out; j++) {
    const out0 = j * step;
    const out1 = Math.min(out0 + step, out);
    const in0 = Math.max(0, j * tileSize - halo);
    const in1 = Math.min(extent, Math.ceil(out1 / s) + halo);
    const got = outputExtent(axis.spec, axis.axis, in1 - in0);
    const need = out1 - in0 * s;
    if (got < need || (in1 === extent && out1 === out && got !== need)) {
      // Only a spec whose layers break shift-equivariance (none of the supported ones) lands here.
      throw new RangeError(
        `${axis.op}: network ${axis.spec.name} cannot be tiled exactly: a tile of input ` +
          `[${in0}, ${in1}) gives ${got} outputs, the whole run needs ${need} from it; run ` +
          `the image whole`,
      );
    }
    spans.push({ out0, out1, in0, in1 });
  }
  return spans;
}

/** Runs one band of tiles (a tile row) into `out`, its output rows `[out1 − out0, w', c']`. */
async function runBand(
  net: TiledNet,
  source: ImageSource,
  job: { plan: Plan; row: Span; options: RunTiledOptions; op: string; out: Float32Array },
  progress: (tiles: number) => void,
): Promise<void> {
  const { plan, row, options, op, out } = job;
  const [, outW, outC] = plan.outShape;
  const c = source.channels;
  const w = source.width;
  throwIfAborted(options.signal, op);
  const th = row.in1 - row.in0;
  const input = await source.readRows(row.in0, th);
  if (!(input instanceof Float32Array) || input.length !== th * w * c) {
    throw new TypeError(
      `${op}: the image source returned ${input?.length} values for ${th} rows; expected ` +
        `${th * w * c} (rows x ${w} x ${c}) as a Float32Array`,
    );
  }
  checkFinite(input, { row0: row.in0, w, c, op });
  // Tiles of equal width share batches; the order within a band does not matter.
  const groups = new Map<number, Span[]>();
  for (const col of plan.cols) {
    const width = col.in1 - col.in0;
    groups.set(width, [...(groups.get(width) ?? []), col]);
  }
  const batchSize = options.batchSize ?? 1;
  for (const [tw, cols] of groups) {
    for (let b = 0; b < cols.length; b += batchSize) {
      throwIfAborted(options.signal, op);
      const batch = cols.slice(b, b + batchSize);
      const x = new Float32Array(batch.length * th * tw * c);
      batch.forEach((col, t) => {
        for (let r = 0; r < th; r++) {
          const from = (r * w + col.in0) * c;
          x.set(input.subarray(from, from + tw * c), ((t * th) + r) * tw * c);
        }
      });
      const y = await forwardBatch(net, { data: x, shape: [batch.length, th, tw, c] }, job);
      const [, oh, ow] = y.shape;
      batch.forEach((col, t) => {
        const dy = row.out0 - row.in0 * plan.scale;
        const dx = col.out0 - col.in0 * plan.scale;
        for (let r = 0; r < row.out1 - row.out0; r++) {
          const from = ((t * oh + r + dy) * ow + dx) * outC;
          out.set(
            y.data.subarray(from, from + (col.out1 - col.out0) * outC),
            (r * outW + col.out0) * outC,
          );
        }
      });
      progress(batch.length);
    }
  }
}

/** One forward pass, its shape checked, read back and disposed. */
async function forwardBatch(
  net: TiledNet,
  x: Tensor,
  job: { plan: Plan; row: Span; options: RunTiledOptions; op: string },
): Promise<Tensor> {
  const { options, op, plan } = job;
  const [n, th, tw] = x.shape;
  let y: DeviceTensor;
  try {
    y = await net.forward(x, {
      ...(options.backend === undefined ? {} : { backend: options.backend }),
      ...(options.precision === undefined ? {} : { precision: options.precision }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new RangeError(
      `${op}: a batch of ${n} tiles of ${th}x${tw} pixels failed: ${error.message}; use a ` +
        `smaller tileSize or batchSize`,
      { cause: error },
    );
  }
  try {
    const want = [
      n,
      outputExtent(net.spec, 0, th),
      outputExtent(net.spec, 1, tw),
      plan.outShape[2],
    ];
    if (want.some((d, i) => y.shape[i] !== d)) {
      throw new TypeError(
        `${op}: network ${net.spec.name} returned [${y.shape.join(", ")}] for tiles ` +
          `[${x.shape.join(", ")}]; its spec gives [${want.join(", ")}]`,
      );
    }
    return { data: await y.read(), shape: y.shape };
  } finally {
    y.dispose();
  }
}

function checkNet(net: TiledNet, op: string): void {
  if (
    net === null || typeof net !== "object" || typeof net.forward !== "function" ||
    net.spec === null || typeof net.spec !== "object"
  ) {
    throw new TypeError(`${op}: net must be a ConvNet (spec, channel counts, scale, forward)`);
  }
  for (const key of ["inputChannels", "outputChannels"] as const) {
    if (!Number.isInteger(net[key]) || net[key] < 1) {
      throw new TypeError(`${op}: net.${key} must be a whole number ≥ 1, got ${net[key]}`);
    }
  }
}

/** An in-memory `[h, w, c]` image as a source, or a source checked. */
function sourceOf(image: Tensor | ImageSource, op: string): ImageSource {
  if (image !== null && typeof image === "object" && "readRows" in image) {
    const { height, width, channels } = image;
    if (![height, width, channels].every((d) => Number.isInteger(d) && d >= 1)) {
      throw new TypeError(
        `${op}: an image source needs whole height, width and channels ≥ 1, got ` +
          `${height} x ${width} x ${channels}`,
      );
    }
    return image;
  }
  const shape = (image as Tensor | null)?.shape;
  if (!Array.isArray(shape) || shape.length !== 3 || !(image.data instanceof Float32Array)) {
    throw new TypeError(
      `${op}: image must be { data: Float32Array, shape: [h, w, c] } or an ImageSource, got ` +
        `shape ${JSON.stringify(shape)}`,
    );
  }
  const [height, width, channels] = shape;
  if (!shape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new TypeError(`${op}: the image [${shape.join(", ")}] has an empty or bad axis`);
  }
  if (image.data.length !== height * width * channels) {
    throw new TypeError(
      `${op}: an image [${shape.join(", ")}] needs ${height * width * channels} values, got ` +
        `${image.data.length}`,
    );
  }
  const data = image.data;
  const rowLength = width * channels;
  return {
    height,
    width,
    channels,
    readRows: (start, count) =>
      Promise.resolve(data.subarray(start * rowLength, (start + count) * rowLength)),
  };
}

function checkFinite(band: Float32Array, at: { row0: number; w: number; c: number; op: string }) {
  const bad = firstNonFinite(band, at.w * at.c);
  if (bad === undefined) return;
  const row = at.row0 + bad.row;
  const col = Math.floor(bad.col / at.c);
  const channel = bad.col % at.c;
  throw new InvalidDataError(
    `${at.op}: the image holds ${bad.value} at row ${row}, column ${col}, channel ${channel}; ` +
      `the network needs finite values: clean or mask the image first`,
    { position: { row, column: col, channel } },
  );
}

function allocate(values: number, shape: readonly number[], op: string): Float32Array {
  try {
    return new Float32Array(values);
  } catch (error) {
    throw new RangeError(
      `${op}: the output [${shape.join(", ")}] (${gib(values)} GiB) does not fit in memory; ` +
        `pass output: "out.npy" (or .h5) to stream it to a file`,
      { cause: error },
    );
  }
}

function gib(values: number): string {
  return (values * 4 / 2 ** 30).toFixed(2);
}
