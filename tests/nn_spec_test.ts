/**
 * `parseSpec` and `builtinSpec` (nn/spec.ts): the built-in specs' parameter counts, and every
 * error `nn/specs/README.md` lists, each naming the layer's dotted path and the field.
 */

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { builtinSpec, countParameters, parseSpec } from "../nn/spec.ts";
import { convSpec, netSpec } from "./_nn_specs.ts";

/** A valid conv2d layer 3 -> 3 named "c" with ReLU, to vary. */
function conv(over: Record<string, unknown> = {}) {
  return convSpec("c", 3, 3, { activation: "relu", ...over });
}

function spec(layers: unknown[], over: Record<string, unknown> = {}) {
  return netSpec(3, layers, over);
}

Deno.test("builtinSpec() gives the README's parameter counts", () => {
  const counts = { refiner: 6_600_532, "convnext-head": 73_412, small: 12_742, mlp: 235_146 };
  for (const [name, count] of Object.entries(counts)) {
    const s = builtinSpec(name as keyof typeof counts);
    equal(s.name, name);
    equal(countParameters(s.layers), count, name);
  }
  deepEqual(builtinSpec("refiner").output, { channels: 4, scale: 0.25 });
  // A fresh copy each call: changing one does not change the next.
  builtinSpec("small").layers.pop();
  equal(builtinSpec("small").layers.length, 3);
  throws(() => builtinSpec("resnet" as "small"), /no built-in spec "resnet".*refiner, /);
});

Deno.test("parseSpec() accepts residual blocks and upsampling, with dotted names", () => {
  const s = parseSpec(spec([
    { type: "residual", name: "block", layers: [conv({ name: "a" }), conv({ name: "b" })] },
    { type: "upsample", name: "up", scale: 2, mode: "bilinear", alignCorners: false },
    conv({ type: "conv_transpose2d", name: "t", kernel: [4, 4], stride: 2 }),
  ], { output: { channels: 3, scale: 4 } }));
  equal(s.layers.length, 3);
});

Deno.test("parseSpec() names the layer's dotted path and the field of each error", () => {
  const cases: [unknown, RegExp][] = [
    [spec([conv({ type: "dense" })]), /layer "c": unknown "type" "dense"/],
    [spec([conv({ kernel: undefined })]), /layer "c": "kernel" must be \[kh, kw\].*missing/],
    [spec([conv({ name: "" })]), /layer \[0\]: "name" must be a non-empty string/],
    [spec([conv({ name: "a.b" })]), /layer "a.b": "name" must not contain a dot/],
    [spec([conv(), conv()]), /layer "c": "name" repeats/],
    [spec([conv({ groups: 2 })]), /layer "c": "groups" must be 1 .* or inChannels = 3/],
    [spec([conv({ norm: { type: "group", eps: 1e-5 } })]), /layer "c": "norm.type" must be/],
    [spec([conv({ norm: { type: "batch", eps: 1e-5 } })]), /layer "c": "norm.momentum"/],
    [spec([conv({ norm: undefined })]), /layer "c": "norm" is missing/],
    [spec([conv({ activation: "tanh" })]), /layer "c": "activation" must be "none", "relu"/],
    [spec([conv({ stride: 3 })]), /layer "c": "stride" must be 1 or 2/],
    [spec([conv({ padding: [1, 1, 1] })]), /layer "c": "padding" must be \[top, bottom/],
    [spec([conv({ bias: 1 })]), /layer "c": "bias" must be true or false/],
    [spec([conv({ activaton: "relu" })]), /layer "c": unknown field "activaton"/],
    [
      spec([conv({ type: "conv_transpose2d", padding: [1, 1, 0, 0] })]),
      /layer "c": "padding" of a transposed convolution must be symmetric/,
    ],
    [spec([conv({ inChannels: 4 })]), /layer "c": "inChannels" is 4 but the layer before gives 3/],
    [
      spec([{ type: "residual", name: "block", layers: [conv({ name: "x", groups: 2 })] }]),
      /layer "block.x": "groups"/,
    ],
    [
      spec([{ type: "residual", name: "block", layers: [conv({ outChannels: 4 })] }]),
      /layer "block": "layers" must give the block's input shape back/,
    ],
    [
      spec([{ type: "upsample", name: "up", scale: 3, mode: "bilinear", alignCorners: false }]),
      /layer "up": "scale" must be 2 or 4/,
    ],
    [
      spec([{ type: "upsample", name: "up", scale: 2, mode: "bilinear", alignCorners: true }]),
      /layer "up": "alignCorners" must be false/,
    ],
    [spec([conv()], { parameters: 83 }), /"parameters" says 83 but the layers hold 84/],
    [spec([conv()], { output: { channels: 4, scale: 1 } }), /"output.channels" is 4 but/],
    [spec([conv({ stride: 2 })], { output: { channels: 3, scale: 1 } }), /"output.scale"/],
    [spec([conv()], { format: "onnx" }), /"format" must be "prism-convnet"/],
    [spec([conv()], { version: 2 }), /"version" must be 1/],
    [spec([]), /"layers" must be a non-empty array/],
    [spec([conv()], { input: {} }), /"input.channels" must be a whole number/],
    ["small", /the spec must be a JSON object/],
  ];
  for (const [json, message] of cases) throws(() => parseSpec(json), message, String(message));
});

Deno.test("parseSpec() checks the parameter count the refiner states", () => {
  const refiner = builtinSpec("refiner");
  ok(parseSpec(refiner));
  throws(
    () => parseSpec({ ...refiner, parameters: 6_600_531 }),
    /spec "refiner": "parameters" says 6600531 but the layers hold 6600532/,
  );
});
