/**
 * A transposed convolution on WASM as stride-1 forward convolutions, one per output phase: the
 * output pixels `oy ≡ φ (mod s)` see only the kernel taps `ky ≡ (φ + p) (mod s)`, so each phase is
 * a plain convolution of the input with those taps, flipped. The forward kernels (indirect GEMM,
 * fused bias and activation) run these several times faster than the input-gradient pass runs a
 * stride-2 transposed convolution, and the phases are interleaved by one copy.
 *
 * Along one axis (input size `h`, kernel `k`, stride `s`, padding `p`, output `H`): for phase φ,
 * `r = (φ + p) mod s`, `T = ⌈(k − r)/s⌉` taps `ky = r + s·t`, `δ = ⌊(φ + p)/s⌋`, and
 * `y[s·m + φ] = Σⱼ x[m + δ − (T − 1) + j]·W[r + s·(T − 1 − j)]`: a convolution with top padding
 * `T − 1 − δ` and `⌈(H − φ)/s⌉` outputs. Geometries where a padding would be negative or a phase
 * has no taps return no plan (the caller runs the input-gradient pass instead).
 *
 * @module
 */

import { type ConvGeometry, convGeometry } from "../core/conv_geometry.ts";
import { loadKernels } from "../wasm/loader.ts";
import { WasmStorage } from "../wasm/storage.ts";
import type { LayerActivation } from "../wasm/layers.ts";
import { FAMILIES } from "./families.ts";

/** One axis of one phase: its taps and the convolution's padding and output count. */
interface AxisPhase {
  /** The output phase φ. */
  readonly phase: number;
  /** The first tap `r`; taps are `r + s·t`. */
  readonly first: number;
  /** How many taps. */
  readonly taps: number;
  /** The convolution's padding before and after. */
  readonly pad: readonly [number, number];
  /** Output pixels of this phase. */
  readonly outputs: number;
}

/** The phases along one axis, or undefined when one needs a negative padding or has no taps. */
function axisPhases(
  size: number,
  k: number,
  s: number,
  p: number,
  out: number,
): AxisPhase[] | undefined {
  const phases: AxisPhase[] = [];
  for (let phase = 0; phase < Math.min(s, out); phase++) {
    const first = (phase + p) % s;
    const taps = Math.ceil((k - first) / s);
    const delta = Math.floor((phase + p) / s);
    const outputs = Math.ceil((out - phase) / s);
    const before = taps - 1 - delta;
    const after = outputs - size - before + taps - 1;
    if (taps < 1 || before < 0 || after < 0) return undefined;
    phases.push({ phase, first, taps, pad: [before, after], outputs });
  }
  return phases;
}

/** A transposed convolution's shape: input `[n, h, w, cin]`, kernel, stride, padding, output. */
export interface TransposedShape {
  /** `[n, h, w, cin]`. */
  readonly input: readonly [number, number, number, number];
  /** `[kh, kw, cin, cout]`. */
  readonly weights: readonly [number, number, number, number];
  /** The stride. */
  readonly stride: number;
  /** The padding `p`. */
  readonly padding: number;
  /** `[n, oh, ow, cout]`. */
  readonly output: readonly [number, number, number, number];
}

/** One phase's convolution. */
interface Phase {
  readonly y: AxisPhase;
  readonly x: AxisPhase;
  readonly g: ConvGeometry;
}

/**
 * The phase plan of a transposed convolution, or undefined where the input-gradient pass must
 * run it.
 *
 * @param t The shape.
 * @returns One convolution per output phase.
 * @example
 * ```ts
 * import { phasePlan } from "./_conv_transpose_phases.ts";
 * import assert from "node:assert";
 * const plan = phasePlan({ input: [1, 5, 5, 3], weights: [4, 4, 3, 2], stride: 2, padding: 1,
 *   output: [1, 10, 10, 2] });
 * assert(plan?.length === 4 && plan[0].g.kh === 2);
 * ```
 */
export function phasePlan(t: TransposedShape): Phase[] | undefined {
  const [n, h, w, cin] = t.input;
  const [kh, kw, , cout] = t.weights;
  const ys = axisPhases(h, kh, t.stride, t.padding, t.output[1]);
  const xs = axisPhases(w, kw, t.stride, t.padding, t.output[2]);
  if (ys === undefined || xs === undefined) return undefined;
  return ys.flatMap((y) =>
    xs.map((x) => ({
      y,
      x,
      g: convGeometry({
        input: [n, h, w, cin],
        kernel: [y.taps, x.taps],
        outChannels: cout,
        padding: [y.pad[0], y.pad[1], x.pad[0], x.pad[1]],
      }),
    }))
  );
}

/**
 * Runs a transposed convolution by its phase plan on WASM: each phase a forward convolution with
 * fused bias and activation, interleaved into the output.
 *
 * @param plan From {@linkcode phasePlan}.
 * @param operands `input` (NHWC), `weights` (`[kh, kw, cin, cout]`), `bias`.
 * @param options `shape`, `activation`, `operation`, `signal`.
 * @returns The output `[n, oh, ow, cout]`, new kernel-memory storage.
 * @throws {InvalidDataError} When an operand holds NaN or infinity.
 * @throws {AbortedError} When `signal` aborts before a phase starts.
 * @example
 * ```ts
 * import { phasePlan, wasmTransposedByPhases } from "./_conv_transpose_phases.ts";
 * import assert from "node:assert";
 * const shape = { input: [1, 1, 2, 1], weights: [2, 2, 1, 1], stride: 2, padding: 0,
 *   output: [1, 2, 4, 1] } as const;
 * using y = await wasmTransposedByPhases(phasePlan(shape)!, {
 *   input: new Float32Array([1, 10]), weights: new Float32Array([1, 2, 3, 4]) },
 *   { shape, operation: "example" });
 * assert.deepStrictEqual([...y.view()], [1, 2, 10, 20, 3, 4, 30, 40]);
 * ```
 */
export async function wasmTransposedByPhases(
  plan: Phase[],
  operands: { input: Float32Array; weights: Float32Array; bias?: Float32Array },
  options: {
    shape: TransposedShape;
    activation?: LayerActivation;
    operation: string;
    signal?: AbortSignal;
  },
): Promise<WasmStorage> {
  const { shape } = options;
  const [, kw, cin, cout] = shape.weights;
  const [n, oh, ow] = shape.output;
  const s = shape.stride;
  const out = new WasmStorage(await loadKernels(), n * oh * ow * cout);
  try {
    for (const { y, x, g } of plan) {
      // The phase's taps, flipped: K[jy, jx] = W[ry + s·(Ty − 1 − jy), rx + s·(Tx − 1 − jx)].
      const sub = new Float32Array(y.taps * x.taps * cin * cout);
      for (let jy = 0; jy < y.taps; jy++) {
        const ky = y.first + s * (y.taps - 1 - jy);
        for (let jx = 0; jx < x.taps; jx++) {
          const kx = x.first + s * (x.taps - 1 - jx);
          const from = (ky * kw + kx) * cin * cout;
          sub.set(
            operands.weights.subarray(from, from + cin * cout),
            (jy * x.taps + jx) * cin * cout,
          );
        }
      }
      using part = await FAMILIES.conv2d.wasm.forward(g, {
        input: operands.input,
        weights: sub,
        bias: operands.bias,
      }, { activation: options.activation, operation: options.operation, signal: options.signal });
      const src = part.view();
      const dst = out.view();
      for (let b = 0; b < n; b++) {
        for (let my = 0; my < y.outputs; my++) {
          const oy = s * my + y.phase;
          for (let mx = 0; mx < x.outputs; mx++) {
            const at = ((b * y.outputs + my) * x.outputs + mx) * cout;
            const to = ((b * oh + oy) * ow + s * mx + x.phase) * cout;
            dst.set(src.subarray(at, at + cout), to);
          }
        }
      }
    }
  } catch (e) {
    out.free();
    throw e;
  }
  return out;
}
