/**
 * Convolutional networks built from a spec (`nn/specs/README.md`): inference with batch norm
 * folded into the convolutions, training with batch statistics, backward to every parameter and
 * the input, and a training step with a loss and Adam. Activations stay on the backend that runs
 * them (WASM kernel memory or a GPU buffer) from input to output.
 *
 * @module
 */

import { throwIfAborted } from "../core/abort.ts";
import { InvalidDataError } from "../core/errors.ts";
import type { Backend, Matrix, Tensor } from "../core/types.ts";
import { assertFiniteParameters, checkInteger, firstNonFinite } from "../core/validate.ts";
import { DeviceTensor, toDevice } from "../tensor/device_tensor.ts";
import { Adam } from "./adam.ts";
import type { Layer, ParamSlot, RunContext } from "./layers/_layer.ts";
import type { ImageLike } from "./layers/_ops.ts";
import { buildLayers } from "./layers/_build.ts";
import { meanSquaredError, pixelSoftmaxCrossEntropy } from "./loss.ts";
import { loadWeights, saveWeights } from "./weights_file.ts";
import {
  BUILTIN_SPEC_NAMES,
  builtinSpec,
  type BuiltinSpecName,
  type ConvNetSpec,
  countParameters,
  type LayerSpec,
  parseSpec,
} from "./spec.ts";

/** A parameter or buffer as {@linkcode ConvNet.parameters} lists it. */
export interface ConvNetParameter {
  /** The values (a copy). */
  data: Float32Array;
  /** The shape (HWIO for weights). */
  shape: number[];
  /** True on batch norm's running statistics, which are not trained. */
  buffer?: boolean;
}

/** Options of {@linkcode ConvNet.fromSpec}. */
export interface ConvNetOptions {
  /** Seed of the initialisation (default 0): equal seeds give equal weights. */
  seed?: number;
}

/** Options of {@linkcode ConvNet.forward}. */
export interface ForwardOptions {
  /** `"auto"` (default: where the input lives, else by size), `"wasm"` or `"webgpu"`. */
  backend?: Backend;
  /** `"f32"` (default), or `"f16"` convolutions on WebGPU. */
  precision?: "f32" | "f16";
  /** Batch statistics (updating the running ones), and keep what `backward` needs. */
  training?: boolean;
  /**
   * Keep a copy of each top-level layer's output for {@linkcode ConvNet.activations} (an
   * observer such as a dimensionality tracker reads them); default false. Costs one read-back
   * per layer.
   */
  keepActivations?: boolean;
  /** Cancels between layers. */
  signal?: AbortSignal;
}

/** One top-level layer's output from the last forward pass ({@linkcode ConvNet.activations}). */
export interface LayerActivations {
  /** The layer's name in the spec (e.g. `hidden1`). */
  readonly layer: string;
  /** `rows = n·h·w` pixels (batch-major, NHWC order), `cols` = the layer's output channels. */
  readonly activations: Matrix;
}

/** Options of {@linkcode ConvNet.trainStep}. */
export interface TrainStepOptions {
  /** `"mse"` (default; target an image like the output) or `"softmax-ce"` (one label a pixel). */
  loss?: "mse" | "softmax-ce";
  /** The optimiser (default: the net's own, Adam with lr 1e-3). Make one as `new Adam([], o)`. */
  optimizer?: Adam;
  /** Where to run; default `"auto"`. */
  backend?: Backend;
  /** Keep each layer's output of this step's forward pass for `activations()`; default false. */
  keepActivations?: boolean;
  /** Cancels between layers. */
  signal?: AbortSignal;
}

/** What {@linkcode ConvNet.backward} returns. */
export interface ConvNetGradients {
  /** dL/dinput, the input's shape; dispose it. */
  input: DeviceTensor;
  /** dL/dparameter by dotted name (copies), buffers excluded. */
  parameters: Map<string, Float32Array>;
}

/**
 * A convolutional network from a spec. Parameters live on the host as float32 (initialised like
 * PyTorch's defaults from a seed); activations live where the layers run.
 *
 * @example
 * ```ts
 * import { ConvNet } from "./convnet.ts";
 * import assert from "node:assert";
 * using net = await ConvNet.fromSpec("small", { seed: 1 });
 * assert(net.parameterCount === 12742 && net.inputChannels === 6);
 * using y = await net.forward({ data: new Float32Array(2 * 5 * 7 * 6), shape: [2, 5, 7, 6] });
 * assert.deepStrictEqual(y.shape, [2, 5, 7, 6]);
 * const { loss } = await net.trainStep(
 *   { data: new Float32Array(4 * 4 * 6).fill(0.5), shape: [1, 4, 4, 6] },
 *   { data: new Float32Array(4 * 4 * 6), shape: [1, 4, 4, 6] },
 * );
 * assert(loss >= 0);
 * ```
 */
export class ConvNet implements Disposable {
  /** The validated spec. */
  readonly spec: ConvNetSpec;
  /** Trainable parameters (not counting batch norm's running statistics). */
  readonly parameterCount: number;
  /** The trainable parameters' size in MiB as float32 (bytes / 2²⁰). */
  readonly sizeMB: number;
  /** Channels of the input image. */
  readonly inputChannels: number;
  /** Channels of the output image. */
  readonly outputChannels: number;
  /** Output size / input size (0.25 for the refiner). */
  readonly scale: number;
  readonly #layers: Layer[];
  readonly #slots: ParamSlot[];
  #adam?: Adam;
  /** What the last training forward left for backward. */
  #pending?: {
    kept: DeviceTensor[];
    outputShape: number[];
    ctx: RunContext;
  };
  /** Host copies of each top-level layer's output, when the last forward kept them. */
  #activations?: LayerActivations[];
  #disposed = false;

  private constructor(spec: ConvNetSpec, seed: number) {
    this.spec = spec;
    this.#layers = buildLayers(spec.layers, seed);
    this.#slots = this.#layers.flatMap((l) => l.slots);
    this.parameterCount = countParameters(spec.layers);
    this.sizeMB = (this.parameterCount * 4) / 2 ** 20;
    this.inputChannels = spec.input.channels;
    const last = spec.layers.findLast((l) => l.type === "conv2d" || l.type === "conv_transpose2d");
    this.outputChannels = last !== undefined && "outChannels" in last
      ? last.outChannels
      : this.inputChannels;
    this.scale = spec.output?.scale ?? scaleOf(spec);
  }

  /**
   * Builds a network from a built-in spec name, a path to a `.json` spec, or a parsed spec.
   *
   * @param nameOrJson `"refiner"`, `"convnext-head"`, `"small"`, `"mlp"`, a `.json` path, or the
   *   spec object.
   * @param options `seed` of the initialisation (default 0).
   * @returns The network.
   * @throws {RangeError} When a string is neither a built-in name nor a `.json` path, or the
   *   seed is negative.
   * @throws {TypeError} When the spec is invalid (the message names the layer and field).
   * @throws {Deno.errors.NotFound} When the `.json` file does not exist.
   * @example
   * ```ts
   * import { ConvNet } from "./convnet.ts";
   * import assert from "node:assert";
   * const net = await ConvNet.fromSpec("refiner");
   * assert(net.parameterCount === 6_600_532 && net.sizeMB.toFixed(2) === "25.18");
   * assert(net.scale === 0.25);
   * net.dispose();
   * ```
   */
  static async fromSpec(
    nameOrJson: string | ConvNetSpec | object,
    options: ConvNetOptions = {},
  ): Promise<ConvNet> {
    const seed = checkInteger("seed", options.seed ?? 0, 0);
    let spec: ConvNetSpec;
    if (typeof nameOrJson === "string") {
      if ((BUILTIN_SPEC_NAMES as readonly string[]).includes(nameOrJson)) {
        spec = builtinSpec(nameOrJson as BuiltinSpecName);
      } else if (nameOrJson.toLowerCase().endsWith(".json")) {
        const text = await Deno.readTextFile(nameOrJson);
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch (e) {
          throw new InvalidDataError(`${nameOrJson} is not valid JSON: ${(e as Error).message}`);
        }
        spec = parseSpec(json);
      } else {
        throw new RangeError(
          `"${nameOrJson}" is neither a built-in spec (${BUILTIN_SPEC_NAMES.join(", ")}) nor a ` +
            `path to a .json spec`,
        );
      }
    } else {
      spec = parseSpec(structuredClone(nameOrJson));
    }
    return new ConvNet(spec, seed);
  }

  /**
   * Every parameter and buffer by dotted name (copies: change them with `setParameters`).
   *
   * @returns A map in spec order; batch norm's running statistics carry `buffer: true`.
   */
  parameters(): ReadonlyMap<string, ConvNetParameter> {
    const out = new Map<string, ConvNetParameter>();
    for (const s of this.#slots) {
      const entry: ConvNetParameter = { data: s.data.slice(), shape: [...s.shape] };
      if (s.buffer) entry.buffer = true;
      out.set(s.name, entry);
    }
    return out;
  }

  /**
   * Replaces every parameter and buffer.
   *
   * @param values By dotted name, each of the parameter's shape; all of them, no others.
   * @throws {TypeError} When a name is unknown or missing, or a shape differs (named).
   * @throws {InvalidDataError} When a value is NaN or infinite (the parameter is named).
   */
  setParameters(
    values: ReadonlyMap<string, { data: Float32Array; shape: readonly number[] }>,
  ): void {
    this.#checkAlive();
    const slots = new Map(this.#slots.map((s) => [s.name, s]));
    for (const name of values.keys()) {
      if (!slots.has(name)) {
        throw new TypeError(
          `setParameters(): "${name}" is not a parameter of "${this.spec.name}"; its ` +
            `parameters are named like "${this.#slots[0].name}"`,
        );
      }
    }
    for (const s of this.#slots) {
      const v = values.get(s.name);
      if (v === undefined) {
        throw new TypeError(`setParameters(): "${s.name}" is missing; give every parameter`);
      }
      const shape = v.shape ?? [];
      if (
        !(v.data instanceof Float32Array) || shape.length !== s.shape.length ||
        shape.some((d, i) => d !== s.shape[i]) || v.data.length !== s.data.length
      ) {
        throw new TypeError(
          `setParameters(): "${s.name}" must be a Float32Array of shape [${s.shape.join(", ")}], ` +
            `got [${shape.join(", ")}] with ${v.data?.length} values`,
        );
      }
      assertFiniteParameters(v.data, `setParameters(): "${s.name}"`);
      // Batch norm divides by √(variance + eps): a negative one turns the layer into NaN.
      const negative = s.name.endsWith("running_var") ? v.data.findIndex((x) => x < 0) : -1;
      if (negative >= 0) {
        throw new InvalidDataError(
          `setParameters(): "${s.name}" holds ${v.data[negative]} at index ${negative}: a ` +
            `running variance cannot be negative; the weights file is damaged or its ` +
            `statistics are not batch norm's`,
        );
      }
    }
    for (const s of this.#slots) s.data.set(values.get(s.name)!.data);
    for (const l of this.#layers) l.invalidate();
  }

  /**
   * Runs the network.
   *
   * @param x `[n, h, w, inputChannels]`, plain or a device tensor. When training, keep it alive
   *   until `backward` has run.
   * @param options `backend`, `precision`, `training`, `keepActivations`, `signal`.
   * @returns `[n, h·scale, w·scale, outputChannels]` where the layers ran; dispose it.
   * @throws {TypeError} When the input's shape does not fit a layer (the layer is named).
   * @throws {RangeError} When `training` is asked for with precision `"f16"`.
   * @throws {InvalidDataError} When a plain input holds NaN or infinity.
   * @throws {AbortedError} When `signal` aborts.
   */
  async forward(x: ImageLike, options: ForwardOptions = {}): Promise<DeviceTensor> {
    this.#checkAlive();
    const operation = "ConvNet.forward()";
    const training = options.training ?? false;
    if (training && options.precision === "f16") {
      throw new RangeError(
        `${operation}: training runs in f32 (its gradients need f32 activations); drop ` +
          `precision "f16" or use it for inference only`,
      );
    }
    this.#release();
    this.#activations = undefined;
    const inputShape = this.#inputShape(x, operation);
    const shapes = this.#shapes(inputShape);
    if (!(x instanceof DeviceTensor)) checkFiniteImage(x.data, inputShape, operation);
    const ctx = {
      backend: options.backend ?? "auto",
      precision: options.precision ?? "f32",
      training,
      signal: options.signal,
      operation,
      escapes: false,
    } satisfies RunContext;
    const kept: DeviceTensor[] = [];
    const observed: LayerActivations[] | undefined = options.keepActivations ? [] : undefined;
    let h: ImageLike = x;
    try {
      for (const [i, layer] of this.#layers.entries()) {
        throwIfAborted(ctx.signal, operation);
        const last = i === this.#layers.length - 1;
        const next: DeviceTensor = await layer.forward(h, { ...ctx, escapes: last });
        if (h !== x) {
          if (training) kept.push(h as DeviceTensor);
          else (h as DeviceTensor).dispose();
        }
        h = next;
        // A copy, not a view: the next layer may free or reuse this output (inference) and a
        // GPU buffer cannot be viewed; the observer gets values that stay put.
        if (observed !== undefined) observed.push(await activationsOf(this.spec.layers[i], next));
      }
    } catch (e) {
      if (h !== x) (h as DeviceTensor).dispose();
      for (const t of kept) t.dispose();
      for (const l of this.#layers) l.release();
      throw e;
    }
    const y = h as DeviceTensor;
    this.#activations = observed;
    if (training) {
      this.#pending = {
        kept,
        outputShape: shapes[shapes.length - 1],
        // Backward runs where forward ran.
        ctx: { ...ctx, backend: y.backend, operation: "ConvNet.backward()" },
      };
    }
    return y;
  }

  /**
   * Each top-level layer's output of the last forward pass, when it ran with
   * `keepActivations: true` (directly or through `trainStep`): the hook an observer such as a
   * dimensionality tracker reads. The matrices are copies; the next forward replaces them.
   *
   * @returns One entry per top-level layer, in order, named as in the spec.
   * @throws {TypeError} When the last forward did not keep its activations (or none ran).
   * @example
   * ```ts
   * import { ConvNet } from "./convnet.ts";
   * import assert from "node:assert";
   * using net = await ConvNet.fromSpec("small");
   * using _y = await net.forward(
   *   { data: new Float32Array(2 * 3 * 4 * 6), shape: [2, 3, 4, 6] },
   *   { keepActivations: true },
   * );
   * const [first] = net.activations();
   * assert(first.layer === "conv1");
   * assert(first.activations.rows === 2 * 3 * 4 && first.activations.cols === 32);
   * ```
   */
  activations(): LayerActivations[] {
    this.#checkAlive();
    if (this.#activations === undefined) {
      throw new TypeError(
        `ConvNet.activations(): the last forward pass kept none; run forward(x, ` +
          `{ keepActivations: true }) or trainStep(x, target, { keepActivations: true }) first`,
      );
    }
    return [...this.#activations];
  }

  /**
   * Back-propagates the output's gradient through the last training forward pass.
   *
   * @param dy dL/doutput, the output's shape.
   * @returns dL/dinput (a device tensor; dispose it) and every parameter's gradient by name.
   * @throws {TypeError} When no training forward came first, or `dy` has the wrong shape.
   */
  async backward(dy: ImageLike): Promise<ConvNetGradients> {
    const input = (await this.#backward(dy, true))!;
    const parameters = new Map<string, Float32Array>();
    for (const s of this.#slots) if (s.grad !== undefined) parameters.set(s.name, s.grad.slice());
    return { input, parameters };
  }

  /**
   * Backward through every layer into the slots' `grad`; the input's gradient when `needInput`
   * (a training step needs none: the first layer then skips that work).
   */
  async #backward(dy: ImageLike, needInput: boolean): Promise<DeviceTensor | undefined> {
    this.#checkAlive();
    const pending = this.#pending;
    if (pending === undefined) {
      throw new TypeError(
        `ConvNet.backward(): run forward(x, { training: true }) first; backward follows a ` +
          `training forward pass, once`,
      );
    }
    const dyShape = [...(dy?.shape ?? [])];
    if (
      dyShape.length !== 4 || dyShape.some((d, i) => d !== pending.outputShape[i])
    ) {
      throw new TypeError(
        `ConvNet.backward(): dy has shape [${dyShape.join(", ")}] but the output was ` +
          `[${pending.outputShape.join(", ")}]`,
      );
    }
    const ctx = pending.ctx;
    let d: DeviceTensor = dy instanceof DeviceTensor ? dy : await toDevice(dy.data, {
      shape: dyShape,
      backend: ctx.backend === "webgpu" ? "webgpu" : "wasm",
    });
    try {
      for (let i = this.#layers.length - 1; i >= 0; i--) {
        const layer = this.#layers[i];
        if (i === 0 && !needInput && layer.backwardParameters !== undefined) {
          await layer.backwardParameters(d, ctx);
          if (d !== dy) d.dispose();
          return undefined;
        }
        const next = await layer.backward(d, ctx);
        if (d !== dy) d.dispose();
        d = next;
      }
    } catch (e) {
      if (d !== dy) d.dispose();
      throw e;
    } finally {
      this.#release();
    }
    if (!needInput) {
      d.dispose();
      return undefined;
    }
    return d;
  }

  /**
   * One step of training: forward with batch statistics, the loss, backward, an optimiser step.
   *
   * @param batch `[n, h, w, inputChannels]`.
   * @param target For `"mse"`, an image of the output's shape; for `"softmax-ce"`, an
   *   `Int32Array` of one class index per output pixel.
   * @param options `loss`, `optimizer`, `backend`, `keepActivations`, `signal`.
   * @returns The batch loss and the gradient's L2 norm, both before the update.
   * @throws {TypeError} When the target does not match the output (the expected shape is named).
   * @throws {RangeError} When a class index is out of range.
   */
  async trainStep(
    batch: ImageLike,
    target: ImageLike | Int32Array,
    options: TrainStepOptions = {},
  ): Promise<{ loss: number; gradNorm: number }> {
    this.#checkAlive();
    const operation = "ConvNet.trainStep()";
    const kind = options.loss ?? "mse";
    if (kind !== "mse" && kind !== "softmax-ce") {
      throw new RangeError(`${operation}: loss must be "mse" or "softmax-ce", got ${kind}`);
    }
    const shapes = this.#shapes(this.#inputShape(batch, operation));
    const want = shapes[shapes.length - 1];
    checkTarget(target, want, kind, this.scale, operation);
    using y = await this.forward(batch, {
      training: true,
      backend: options.backend,
      keepActivations: options.keepActivations,
      signal: options.signal,
    });
    const output = { data: await y.read(), shape: want };
    const grad = new Float32Array(output.data.length);
    const loss = kind === "mse"
      ? meanSquaredError(output, await tensorOf(target as ImageLike, want), { grad })
      : pixelSoftmaxCrossEntropy(output, target as Int32Array, { grad });
    await this.#backward({ data: grad, shape: want }, false);
    // The slots' own gradients: no copies (backward() hands out copies; nothing here escapes).
    const trained = this.#slots.filter((s) => s.grad !== undefined);
    let sq = 0;
    for (const { grad: v } of trained) for (let i = 0; i < v!.length; i++) sq += v![i] * v![i];
    const adam = options.optimizer ?? (this.#adam ??= new Adam([], { lr: 1e-3 }));
    adam.step(trained.map((s) => ({ value: s.data, grad: s.grad! })));
    for (const l of this.#layers) l.invalidate();
    return { loss, gradNorm: Math.sqrt(sq) };
  }

  /**
   * Writes every parameter and buffer to an HDF5 file, one float32 dataset per dotted name
   * (`nn/weights_file.ts`; h5py reads it, the PyTorch twin loads it). The write is atomic.
   *
   * @param path The `.h5` file to write.
   * @throws {TypeError} When the network was disposed.
   * @example
   * ```ts
   * import { ConvNet } from "./convnet.ts";
   * import assert from "node:assert";
   * const path = await Deno.makeTempFile({ suffix: ".h5" });
   * using a = await ConvNet.fromSpec("small", { seed: 1 });
   * using b = await ConvNet.fromSpec("small", { seed: 2 });
   * await a.save(path);
   * await b.load(path);
   * assert.deepStrictEqual(b.parameters().get("conv1.conv.weight"), a.parameters().get("conv1.conv.weight"));
   * await Deno.remove(path);
   * ```
   */
  async save(path: string): Promise<void> {
    this.#checkAlive();
    await saveWeights(path, this.parameters(), {
      attrs: { spec: this.spec.name, parameters: this.parameterCount },
    });
  }

  /**
   * Reads every parameter and buffer from a weights file written by `save` (or the PyTorch
   * twin's `save_prism_h5`); nothing changes unless every name and shape fits.
   *
   * @param path The `.h5` file.
   * @throws {TypeError} When a name is unknown or missing, or a shape differs (named).
   * @throws {InvalidDataError} When the file is not a weights file or a value is not finite.
   */
  async load(path: string): Promise<void> {
    this.#checkAlive();
    const values = await loadWeights(path);
    try {
      this.setParameters(values);
    } catch (e) {
      if (e instanceof Error) e.message = `${path}: ${e.message}`;
      throw e;
    }
  }

  /** Frees what a training forward kept; the network stays usable until then. */
  dispose(): void {
    this.#release();
    for (const l of this.#layers) l.invalidate(); // frees the packed weights
    this.#activations = undefined;
    this.#disposed = true;
  }

  /** Same as {@linkcode ConvNet.dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Each layer's output shape for an input shape (checked: errors name the layer). */
  #shapes(input: number[]): number[][] {
    const fixed = this.spec.input;
    for (const [axis, i] of [["height", 1], ["width", 2]] as const) {
      const want = fixed[axis];
      if (want !== undefined && input[i] !== want) {
        throw new TypeError(
          `ConvNet: "${this.spec.name}" takes images of ${axis} ${want}, got ${input[i]} (input ` +
            `[${input.join(", ")}])`,
        );
      }
    }
    const shapes: number[][] = [];
    let shape = input;
    for (const l of this.#layers) shapes.push(shape = l.outputShape(shape));
    return shapes;
  }

  #inputShape(x: ImageLike, operation: string): number[] {
    const shape = x instanceof DeviceTensor ? [...x.shape] : x?.shape;
    if (!Array.isArray(shape) || shape.length !== 4 || shape.some((d) => !(d >= 1))) {
      throw new TypeError(
        `${operation}: the input must be an NHWC image batch [n, h, w, ${this.inputChannels}], ` +
          `got shape ${JSON.stringify(shape)}`,
      );
    }
    if (shape[3] !== this.inputChannels) {
      throw new TypeError(
        `${operation}: "${this.spec.name}" takes ${this.inputChannels} input channels, the ` +
          `input has ${shape[3]} (shape [${shape.join(", ")}])`,
      );
    }
    if (!(x instanceof DeviceTensor)) {
      const size = shape.reduce((a, b) => a * b, 1);
      if (!(x.data instanceof Float32Array) || x.data.length !== size) {
        throw new TypeError(
          `${operation}: an input of shape [${shape.join(", ")}] needs a Float32Array of ${size}`,
        );
      }
    }
    return [...shape];
  }

  #release(): void {
    const p = this.#pending;
    this.#pending = undefined;
    if (p !== undefined) { for (const t of p.kept) t.dispose(); }
    for (const l of this.#layers) l.release();
  }

  #checkAlive(): void {
    if (this.#disposed) throw new TypeError(`This ConvNet was disposed; make a new one`);
  }
}

/** The nominal output/input size ratio of a spec's layers. */
function scaleOf(spec: ConvNetSpec): number {
  let scale = 1;
  const walk = (layers: ConvNetSpec["layers"]) => {
    for (const l of layers) {
      if (l.type === "upsample") scale *= l.scale;
      else if (l.type === "conv2d") scale /= l.stride;
      else if (l.type === "conv_transpose2d") scale *= l.stride;
    }
  };
  walk(spec.layers);
  return scale;
}

function checkTarget(
  target: ImageLike | Int32Array,
  want: number[],
  kind: "mse" | "softmax-ce",
  scale: number,
  operation: string,
): void {
  const why = scale === 1
    ? ""
    : `; the network's output is ${scale}× the input's size, so the target must be too`;
  if (kind === "softmax-ce") {
    const pixels = want[0] * want[1] * want[2];
    if (!(target instanceof Int32Array) || target.length !== pixels) {
      throw new TypeError(
        `${operation}: the "softmax-ce" target must be an Int32Array of one class index per ` +
          `output pixel: ${pixels} for the output [${want.join(", ")}], got ${
            target instanceof Int32Array ? target.length : "another type"
          }${why}`,
      );
    }
    return;
  }
  const shape = target instanceof Int32Array ? undefined : [...(target?.shape ?? [])];
  if (shape === undefined || shape.length !== 4 || shape.some((d, i) => d !== want[i])) {
    throw new TypeError(
      `${operation}: the target has shape [${shape?.join(", ") ?? "an Int32Array"}] but the ` +
        `output for this batch is [${want.join(", ")}]; give a target of shape ` +
        `[${want.join(", ")}]${why}`,
    );
  }
}

/** A NaN or infinity in an input image, named by its position. */
function checkFiniteImage(data: Float32Array, shape: number[], operation: string): void {
  const bad = firstNonFinite(data, 1);
  if (bad === undefined) return;
  const [, h, w, c] = shape;
  const i = bad.row;
  const at = [
    Math.floor(i / (h * w * c)),
    Math.floor(i / (w * c)) % h,
    Math.floor(i / c) % w,
    i % c,
  ];
  throw new InvalidDataError(
    `${operation}: the input holds ${bad.value} at [n, y, x, c] = [${at.join(", ")}]; the ` +
      `network needs finite values: clean or mask them first`,
    { position: { n: at[0], y: at[1], x: at[2], c: at[3] } },
  );
}

/** A host copy of a layer's output as a pixels × channels matrix. */
async function activationsOf(spec: LayerSpec, y: DeviceTensor): Promise<LayerActivations> {
  const cols = y.shape[3];
  const data = await y.read();
  return { layer: spec.name, activations: { data, rows: data.length / cols, cols } };
}

async function tensorOf(x: ImageLike, shape: number[]): Promise<Tensor> {
  return x instanceof DeviceTensor ? { data: await x.read(), shape } : x;
}
