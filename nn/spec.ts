/**
 * Network specs (`prism-convnet`, version 1): the JSON that describes a convolutional network
 * completely (`nn/specs/README.md`). {@linkcode parseSpec} validates one; {@linkcode builtinSpec}
 * returns the built-in ones.
 *
 * @module
 */

// JSON imports travel with a published module (JSR), where reading files beside it would not.
import refinerJson from "./specs/refiner.json" with { type: "json" };
import convnextHeadJson from "./specs/convnext-head.json" with { type: "json" };
import smallJson from "./specs/small.json" with { type: "json" };
import mlpJson from "./specs/mlp.json" with { type: "json" };

/** An activation after a layer's convolution and norm. */
export type ActivationKind = "none" | "relu" | "gelu";

/** A layer's optional normalisation, applied after the convolution's bias. */
export type NormSpec =
  | { type: "batch"; eps: number; momentum: number }
  | { type: "layer"; eps: number };

/** A `conv2d` or `conv_transpose2d` layer; every field is required. */
export interface ConvLayerSpec {
  /** `"conv2d"`, or `"conv_transpose2d"` (PyTorch's ConvTranspose2d). */
  type: "conv2d" | "conv_transpose2d";
  /** Unique among its siblings, no dots. */
  name: string;
  /** Input channels. */
  inChannels: number;
  /** Output channels (equal to `inChannels` when depthwise). */
  outChannels: number;
  /** `[kh, kw]`. */
  kernel: [number, number];
  /** 1 or 2 on both axes. */
  stride: 1 | 2;
  /** `[top, bottom, left, right]`; symmetric for a transposed convolution. */
  padding: [number, number, number, number];
  /** 1 (dense) or `inChannels` (depthwise; `conv2d` only). */
  groups: number;
  /** Whether the convolution adds a bias. */
  bias: boolean;
  /** `null`, batch norm or layer norm. */
  norm: NormSpec | null;
  /** The activation last. */
  activation: ActivationKind;
}

/** A residual block: input + its layers applied in order. */
export interface ResidualLayerSpec {
  /** `"residual"`. */
  type: "residual";
  /** Unique among its siblings, no dots. */
  name: string;
  /** The inner layers; their output must have the input's shape. */
  layers: LayerSpec[];
}

/** Bilinear upsampling (PyTorch's `align_corners=False`). */
export interface UpsampleLayerSpec {
  /** `"upsample"`. */
  type: "upsample";
  /** Unique among its siblings, no dots. */
  name: string;
  /** 2 or 4. */
  scale: 2 | 4;
  /** `"bilinear"`. */
  mode: "bilinear";
  /** `false` (the only convention supported). */
  alignCorners: false;
}

/** One layer of a spec. */
export type LayerSpec = ConvLayerSpec | ResidualLayerSpec | UpsampleLayerSpec;

/** A whole network (`nn/specs/README.md`). */
export interface ConvNetSpec {
  /** Always `"prism-convnet"`. */
  format: "prism-convnet";
  /** Always 1. */
  version: 1;
  /** The spec's name. */
  name: string;
  /** Free text. */
  description?: string;
  /** Input channels, and a fixed size when the net needs one. */
  input: { channels: number; height?: number; width?: number };
  /** Output channels and size ratio, checked against the layers. */
  output?: { channels: number; scale: number };
  /** The expected parameter count, checked against the layers. */
  parameters?: number;
  /** The layers in order. */
  layers: LayerSpec[];
}

/** The names {@linkcode builtinSpec} knows. */
export type BuiltinSpecName = "refiner" | "convnext-head" | "small" | "mlp";

const BUILTIN: Record<BuiltinSpecName, unknown> = {
  refiner: refinerJson,
  "convnext-head": convnextHeadJson,
  small: smallJson,
  mlp: mlpJson,
};

/** The built-in spec names, in the README's order. */
export const BUILTIN_SPEC_NAMES: readonly BuiltinSpecName[] = Object.freeze(
  Object.keys(BUILTIN) as BuiltinSpecName[],
);

/**
 * A built-in spec, validated (a fresh copy each call).
 *
 * @param name `"refiner"`, `"convnext-head"`, `"small"` or `"mlp"`.
 * @returns The spec.
 * @throws {RangeError} When the name is not a built-in one (the message lists them).
 * @example
 * ```ts
 * import { builtinSpec } from "./spec.ts";
 * import assert from "node:assert";
 * const spec = builtinSpec("small");
 * assert(spec.layers.length === 3 && spec.parameters === 12742);
 * ```
 */
export function builtinSpec(name: BuiltinSpecName): ConvNetSpec {
  if (!Object.hasOwn(BUILTIN, name)) {
    throw new RangeError(
      `There is no built-in spec "${name}"; the built-in ones are ${
        BUILTIN_SPEC_NAMES.join(", ")
      }, or pass a path to a .json spec`,
    );
  }
  return parseSpec(structuredClone(BUILTIN[name]));
}

/**
 * Validates a parsed JSON spec: every field `nn/specs/README.md` requires, the channel chain
 * between layers, `output` and `parameters` when given.
 *
 * @param json The parsed JSON.
 * @returns The same value, typed (not copied).
 * @throws {TypeError} When a field is missing or has the wrong type, or a layer type is unknown;
 *   the message names the layer's dotted path and the field.
 * @throws {RangeError} When a value is out of range (stride, groups, padding, names, channels
 *   between layers, `output`, `parameters`); the message names the layer and the field.
 * @example
 * ```ts
 * import { parseSpec } from "./spec.ts";
 * import assert from "node:assert";
 * const conv = {
 *   type: "conv2d", name: "c", inChannels: 1, outChannels: 2, kernel: [3, 3], stride: 1,
 *   padding: [1, 1, 1, 1], groups: 1, bias: true, norm: null, activation: "relu",
 * };
 * const spec = parseSpec({
 *   format: "prism-convnet", version: 1, name: "t", input: { channels: 1 }, parameters: 20,
 *   layers: [conv],
 * });
 * assert(spec.layers[0].name === "c");
 * assert.throws(
 *   () => parseSpec({ ...spec, layers: [{ ...conv, stride: 3 }] }),
 *   /layer "c": "stride" must be 1 or 2/,
 * );
 * ```
 */
export function parseSpec(json: unknown): ConvNetSpec {
  const top = record(json, "spec", "the spec");
  const where = `spec${typeof top.name === "string" ? ` "${top.name}"` : ""}`;
  allowOnly(top, where, [
    "format",
    "version",
    "name",
    "description",
    "input",
    "output",
    "parameters",
    "layers",
  ]);
  if (top.format !== "prism-convnet") {
    throw new TypeError(`${where}: "format" must be "prism-convnet", got ${show(top.format)}`);
  }
  if (top.version !== 1) {
    throw new RangeError(
      `${where}: "version" must be 1 (the only version this prism reads), got ${show(top.version)}`,
    );
  }
  nonEmptyString(top.name, where, "name");
  if (top.description !== undefined && typeof top.description !== "string") {
    throw new TypeError(`${where}: "description" must be a string, got ${show(top.description)}`);
  }
  const input = record(top.input, where, `"input"`);
  allowOnly(input, `${where} input`, ["channels", "height", "width"]);
  const inChannels = positiveInt(input.channels, where, "input.channels");
  for (const axis of ["height", "width"] as const) {
    if (input[axis] !== undefined) positiveInt(input[axis], where, `input.${axis}`);
  }
  if (!Array.isArray(top.layers) || top.layers.length === 0) {
    throw new TypeError(`${where}: "layers" must be a non-empty array of layers`);
  }
  const out = checkLayers(top.layers, "", inChannels, where);
  if (top.output !== undefined) {
    const output = record(top.output, where, `"output"`);
    allowOnly(output, `${where} output`, ["channels", "scale"]);
    const channels = positiveInt(output.channels, where, "output.channels");
    if (typeof output.scale !== "number" || !(output.scale > 0)) {
      throw new TypeError(`${where}: "output.scale" must be a positive number`);
    }
    if (channels !== out.channels) {
      throw new RangeError(
        `${where}: "output.channels" is ${channels} but the last layer gives ${out.channels}`,
      );
    }
    if (Math.abs(output.scale - out.scale) > 1e-12 * out.scale) {
      throw new RangeError(
        `${where}: "output.scale" is ${output.scale} but the layers' strides and upsampling ` +
          `give ${out.scale}`,
      );
    }
  }
  const spec = top as unknown as ConvNetSpec;
  if (top.parameters !== undefined) {
    const want = nonNegativeInt(top.parameters, where, "parameters");
    const got = countParameters(spec.layers);
    if (got !== want) {
      throw new RangeError(
        `${where}: "parameters" says ${want} but the layers hold ${got}; fix the layers or ` +
          `the count`,
      );
    }
  }
  return spec;
}

/**
 * The trainable parameters of layers (weights, biases, norm weights and biases; not the batch
 * norm's running statistics).
 *
 * @param layers The layers.
 * @returns The count.
 * @example
 * ```ts
 * import { builtinSpec, countParameters } from "./spec.ts";
 * import assert from "node:assert";
 * assert(countParameters(builtinSpec("refiner").layers) === 6_600_532);
 * ```
 */
export function countParameters(layers: readonly LayerSpec[]): number {
  let total = 0;
  for (const l of layers) {
    if (l.type === "residual") total += countParameters(l.layers);
    else if (l.type !== "upsample") {
      const perOut = l.groups === 1 ? l.inChannels : 1;
      total += l.kernel[0] * l.kernel[1] * perOut * l.outChannels;
      if (l.bias) total += l.outChannels;
      if (l.norm !== null) total += 2 * l.outChannels;
    }
  }
  return total;
}

/** What a run of layers gives: its output channels and the size ratio. */
interface ChainResult {
  channels: number;
  scale: number;
}

const CONV_FIELDS = [
  "type",
  "name",
  "inChannels",
  "outChannels",
  "kernel",
  "stride",
  "padding",
  "groups",
  "bias",
  "norm",
  "activation",
];

/** Checks layers in order, each fed `channels`; `prefix` is the parent's dotted path. */
function checkLayers(
  layers: unknown[],
  prefix: string,
  channels: number,
  where: string,
): ChainResult {
  const names = new Set<string>();
  let scale = 1;
  for (const [i, raw] of layers.entries()) {
    const l = record(raw, where, `layer ${prefix}[${i}]`);
    const name = l.name;
    const at = `${where}: layer ${
      typeof name === "string" && name !== "" ? `"${prefix}${name}"` : `${prefix}[${i}]`
    }`;
    nonEmptyString(name, at, "name");
    if ((name as string).includes(".")) {
      throw new RangeError(`${at}: "name" must not contain a dot (dots join parameter names)`);
    }
    if (names.has(name as string)) {
      throw new RangeError(`${at}: "name" repeats a sibling's name; names must be unique`);
    }
    names.add(name as string);
    const path = `${prefix}${name}`;
    if (l.type === "conv2d" || l.type === "conv_transpose2d") {
      allowOnly(l, at, CONV_FIELDS);
      const r = checkConv(l, at, channels);
      channels = r.channels;
      scale *= r.scale;
    } else if (l.type === "residual") {
      allowOnly(l, at, ["type", "name", "layers"]);
      if (!Array.isArray(l.layers) || l.layers.length === 0) {
        throw new TypeError(`${at}: "layers" must be a non-empty array of layers`);
      }
      const inner = checkLayers(l.layers, `${path}.`, channels, where);
      if (inner.channels !== channels || inner.scale !== 1) {
        throw new RangeError(
          `${at}: "layers" must give the block's input shape back (${channels} channels, ` +
            `same size); they give ${inner.channels} channels at scale ${inner.scale}`,
        );
      }
    } else if (l.type === "upsample") {
      allowOnly(l, at, ["type", "name", "scale", "mode", "alignCorners"]);
      if (l.scale !== 2 && l.scale !== 4) {
        throw new RangeError(`${at}: "scale" must be 2 or 4, got ${show(l.scale)}`);
      }
      if (l.mode !== "bilinear") {
        throw new RangeError(`${at}: "mode" must be "bilinear", got ${show(l.mode)}`);
      }
      if (l.alignCorners !== false) {
        throw new RangeError(
          `${at}: "alignCorners" must be false (PyTorch's align_corners=False, the only ` +
            `convention supported), got ${show(l.alignCorners)}`,
        );
      }
      scale *= l.scale;
    } else {
      throw new TypeError(
        `${at}: unknown "type" ${
          show(l.type)
        }; a layer is "conv2d", "conv_transpose2d", "residual" or "upsample"`,
      );
    }
  }
  return { channels, scale };
}

/** Checks a convolution layer fed `channels`; returns its output channels and size ratio. */
function checkConv(l: Record<string, unknown>, at: string, channels: number): ChainResult {
  const transposed = l.type === "conv_transpose2d";
  const inC = positiveInt(l.inChannels, at, "inChannels");
  const outC = positiveInt(l.outChannels, at, "outChannels");
  if (inC !== channels) {
    throw new RangeError(
      `${at}: "inChannels" is ${inC} but the layer before gives ${channels} channels`,
    );
  }
  const kernel = intArray(l.kernel, 2, at, "kernel", "[kh, kw]", 1);
  if (l.stride !== 1 && l.stride !== 2) {
    throw new RangeError(`${at}: "stride" must be 1 or 2, got ${show(l.stride)}`);
  }
  const padding = intArray(l.padding, 4, at, "padding", "[top, bottom, left, right]", 0);
  if (transposed && padding.some((p) => p !== padding[0])) {
    throw new RangeError(
      `${at}: "padding" of a transposed convolution must be symmetric ([p, p, p, p], ` +
        `PyTorch's padding=p), got [${padding.join(", ")}]`,
    );
  }
  if (transposed && padding[0] >= Math.min(...kernel)) {
    throw new RangeError(`${at}: "padding" ${padding[0]} must be below the kernel size`);
  }
  if (l.groups !== 1 && l.groups !== inC) {
    throw new RangeError(
      `${at}: "groups" must be 1 (dense) or inChannels = ${inC} (depthwise), got ${show(l.groups)}`,
    );
  }
  if (l.groups !== 1 && inC !== 1) {
    if (transposed) {
      throw new RangeError(`${at}: "groups": a transposed convolution cannot be depthwise`);
    }
    if (outC !== inC) {
      throw new RangeError(
        `${at}: "outChannels" of a depthwise convolution must equal inChannels (${inC}), got ${outC}`,
      );
    }
  }
  if (typeof l.bias !== "boolean") {
    throw new TypeError(`${at}: "bias" must be true or false, got ${show(l.bias)}`);
  }
  checkNorm(l.norm, at);
  if (l.activation !== "none" && l.activation !== "relu" && l.activation !== "gelu") {
    throw new RangeError(
      `${at}: "activation" must be "none", "relu" or "gelu", got ${show(l.activation)}`,
    );
  }
  const s = l.stride as number;
  return { channels: outC, scale: transposed ? s : 1 / s };
}

function checkNorm(norm: unknown, at: string): void {
  if (norm === null) return;
  if (norm === undefined) {
    throw new TypeError(`${at}: "norm" is missing; write null for no norm`);
  }
  const n = record(norm, at, `"norm"`);
  if (n.type === "batch") {
    allowOnly(n, `${at} norm`, ["type", "eps", "momentum"]);
    positiveNumber(n.eps, at, "norm.eps");
    if (typeof n.momentum !== "number" || !(n.momentum > 0 && n.momentum <= 1)) {
      throw new RangeError(`${at}: "norm.momentum" must be in (0, 1], got ${show(n.momentum)}`);
    }
  } else if (n.type === "layer") {
    allowOnly(n, `${at} norm`, ["type", "eps"]);
    positiveNumber(n.eps, at, "norm.eps");
  } else {
    throw new RangeError(
      `${at}: "norm.type" must be "batch" or "layer" (or norm null), got ${show(n.type)}`,
    );
  }
}

function record(v: unknown, at: string, what: string): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new TypeError(`${at}: ${what} must be a JSON object, got ${show(v)}`);
  }
  return v as Record<string, unknown>;
}

/** Unknown fields are refused: a misspelt optional field would otherwise be silently ignored. */
function allowOnly(o: Record<string, unknown>, at: string, fields: string[]): void {
  for (const key of Object.keys(o)) {
    if (!fields.includes(key)) {
      throw new TypeError(`${at}: unknown field "${key}"; the fields are ${fields.join(", ")}`);
    }
  }
}

function nonEmptyString(v: unknown, at: string, field: string): void {
  if (typeof v !== "string" || v === "") {
    throw new TypeError(`${at}: "${field}" must be a non-empty string, got ${show(v)}`);
  }
}

function positiveInt(v: unknown, at: string, field: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new TypeError(`${at}: "${field}" must be a whole number ≥ 1, got ${show(v)}`);
  }
  return v;
}

function nonNegativeInt(v: unknown, at: string, field: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw new TypeError(`${at}: "${field}" must be a whole number ≥ 0, got ${show(v)}`);
  }
  return v;
}

function positiveNumber(v: unknown, at: string, field: string): void {
  if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) {
    throw new TypeError(`${at}: "${field}" must be a positive number, got ${show(v)}`);
  }
}

function intArray(
  v: unknown,
  length: number,
  at: string,
  field: string,
  form: string,
  min: number,
): number[] {
  if (
    !Array.isArray(v) || v.length !== length ||
    v.some((x) => typeof x !== "number" || !Number.isInteger(x) || x < min)
  ) {
    throw new TypeError(
      `${at}: "${field}" must be ${form}, whole numbers ≥ ${min}, got ${show(v)}`,
    );
  }
  return v as number[];
}

function show(v: unknown): string {
  if (v === undefined) return "nothing (the field is missing)";
  try {
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}
