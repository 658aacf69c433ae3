/**
 * `wasmConv2dInputGrad` (ops/_conv_input_grad.ts), the input gradient `conv2dBackward` runs on
 * WASM: stride 2 by output phases, everything else by the input-gradient pass. Held to a float64
 * reference within 1e-4 relative on odd sizes, every padding the phases take, and the
 * geometries that must fall back (a phase without taps, different top and left padding).
 *
 * @module
 */

import { ok } from "node:assert";
import { convGeometry, type ConvSpec } from "../core/conv_geometry.ts";
import { wasmConv2dInputGrad } from "../ops/_conv_input_grad.ts";
import { phasePlan } from "../ops/_conv_transpose_phases.ts";
import { DENSE_CASES, operands } from "./_conv_cases.ts";
import { convBackwardF64, relativeError } from "./_conv_reference.ts";

/** Stride-2 geometries of the refiner's kind, on odd and even sizes, and fallbacks. */
const STRIDE2: [string, ConvSpec, boolean][] = [
  ["k7 s2 p3 on 13x11, 3->13, batch 2 (the encoder)", {
    input: [2, 13, 11, 3],
    kernel: [7, 7],
    outChannels: 13,
    stride: 2,
    padding: [3, 3, 3, 3],
  }, true],
  ["k3 s2 p1 on 8x8, 13->3 (a block's down conv)", {
    input: [1, 8, 8, 13],
    kernel: [3, 3],
    outChannels: 3,
    stride: 2,
    padding: [1, 1, 1, 1],
  }, true],
  ["k3 s2 p1 on 1x1, 1->1", {
    input: [1, 1, 1, 1],
    kernel: [3, 3],
    outChannels: 1,
    stride: 2,
    padding: [1, 1, 1, 1],
  }, true],
  ["k4 s2 p1 on 9x7, 5->6", {
    input: [1, 9, 7, 5],
    kernel: [4, 4],
    outChannels: 6,
    stride: 2,
    padding: [1, 1, 1, 1],
  }, true],
  ["k3 s2 [0, 1, 0, 1] on 8x8 (TensorFlow's same), 2->4", {
    input: [1, 8, 8, 2],
    kernel: [3, 3],
    outChannels: 4,
    stride: 2,
    padding: [0, 1, 0, 1],
  }, true],
  ["k1 s2 on 5x5: a phase without taps falls back", {
    input: [1, 5, 5, 8],
    kernel: [1, 1],
    outChannels: 8,
    stride: 2,
  }, false],
  ["k3 s2 [0, 2, 1, 0]: top and left padding differ, falls back", {
    input: [1, 11, 13, 3],
    kernel: [3, 3],
    outChannels: 5,
    stride: 2,
    padding: [0, 2, 1, 0],
  }, false],
];

/** Whether the phases take a geometry (the fallback cases must say no, or they test nothing). */
function phased(spec: ConvSpec): boolean {
  const g = convGeometry(spec);
  if (g.padTop !== g.padLeft) return false;
  return phasePlan({
    input: [g.n, g.oh, g.ow, g.oc],
    weights: [g.kh, g.kw, g.oc, g.c],
    stride: g.stride,
    padding: g.padTop,
    output: [g.n, g.h, g.w, g.c],
  }) !== undefined;
}

Deno.test("wasmConv2dInputGrad matches float64 within 1e-4, phased and not", async () => {
  const cases = [
    ...STRIDE2.map(([name, spec, byPhases]) => {
      ok(phased(spec) === byPhases, `${name}: expected ${byPhases ? "" : "no "}phase plan`);
      return { name, g: convGeometry(spec) };
    }),
    ...DENSE_CASES,
  ];
  for (const [i, c] of cases.entries()) {
    const o = operands(c.g, 40 + 10 * i);
    using dx = await wasmConv2dInputGrad(c.g, { dy: o.dy, weights: o.weights }, {
      operation: "test",
    });
    const ref = convBackwardF64(c.g, { input: o.input, weights: o.weights }, o.dy).dInput;
    const err = relativeError(dx.view(), ref);
    ok(err < 1e-4, `${c.name}: relative error ${err}`);
  }
});
