/**
 * The operation families and their implementations: one entry per family, naming its WASM and
 * WebGPU hosts and the work size from which a GPU pays. `auto` routing (`./route.ts`),
 * `capabilities()` and `cli.ts info` all read this table; a new kernel family (convolution next)
 * adds one entry here and its hosts in `wasm/` and `gpu/`.
 *
 * @module
 */

import { gpuColumnSums } from "../gpu/column_sums.ts";
import { gpuConv2d, gpuConv2dInputGrad, gpuConv2dWeightGrad } from "../gpu/conv.ts";
import { gpuGram } from "../gpu/gram.ts";
import { gpuMatmul } from "../gpu/matmul.ts";
import { gpuRxScore } from "../gpu/rx_score.ts";
import { wasmColumnSums } from "../wasm/column_sums.ts";
import { wasmConvBackwardInput, wasmConvBackwardWeights, wasmConvForward } from "../wasm/conv.ts";
import { wasmMatmul } from "../wasm/gemm.ts";
import { wasmGram } from "../wasm/gram.ts";
import { wasmRxScores } from "../wasm/rx_score.ts";

/** The name of an operation family, e.g. `"reduce"`. */
export type OperationFamily =
  | "reduce"
  | "covariance"
  | "gram"
  | "spectrum"
  | "rx"
  | "rxLocal"
  | "matmul"
  | "conv2d";

/** What the table says about one family, without its implementations. */
export interface FamilyInfo {
  /** What the family computes, for `info`. */
  readonly summary: string;
  /** The unit the work size is counted in. */
  readonly unit: string;
  /** The work from which a hardware GPU pays (`Infinity`: never). */
  readonly gpuFromWork: number;
  /** Why the family has no WebGPU implementation, when it has none. */
  readonly noGpu?: string;
}

/**
 * The table. `wasm` and `webgpu` are the backend hosts the operation calls once the route is
 * chosen; `webgpu: null` says the family has no GPU implementation (then `noGpu` says why).
 */
export const FAMILIES = {
  reduce: {
    summary: "per-column sums and means",
    unit: "values",
    // Memory-bound: a GPU pays only on large inputs.
    gpuFromWork: 64 * 1024 * 1024,
    wasm: wasmColumnSums,
    webgpu: gpuColumnSums,
  },
  covariance: {
    summary: "streaming mean and covariance (Gram engine per chunk, Chan merge in float64)",
    unit: "multiply-adds",
    // rows · bands² / 2: a GPU pays once about a billion multiply-adds amortise the upload.
    gpuFromWork: 1024 * 1024 * 1024,
    wasm: wasmGram,
    webgpu: gpuGram,
  },
  gram: {
    summary: "AᵀA with column sums, or AAᵀ, in float64 from float32",
    unit: "multiply-adds",
    gpuFromWork: 1024 * 1024 * 1024,
    wasm: wasmGram,
    webgpu: gpuGram,
  },
  spectrum: {
    summary: "singular values: the smaller Gram on the backend, float64 eigensolver on the CPU",
    unit: "multiply-adds",
    gpuFromWork: 1024 * 1024 * 1024,
    wasm: wasmGram,
    webgpu: gpuGram,
  },
  rx: {
    summary: "RX scoring: squared Mahalanobis distance per pixel",
    unit: "multiply-adds",
    // pixels · bands · rank: a GPU pays only on large cubes.
    gpuFromWork: 4 * 1024 * 1024 * 1024,
    wasm: wasmRxScores,
    webgpu: gpuRxScore,
  },
  rxLocal: {
    summary: "local (windowed) RX in float64 TypeScript on the CPU",
    unit: "pixels",
    gpuFromWork: Infinity,
    noGpu: "rxLocal() has no WebGPU implementation (it runs on the CPU)",
    wasm: null,
    webgpu: null,
  },
  matmul: {
    summary: "C = op(A)·op(B) in float32, results kept on the device",
    unit: "multiply-adds",
    gpuFromWork: 256 * 1024 * 1024,
    wasm: wasmMatmul,
    webgpu: gpuMatmul,
  },
  conv2d: {
    summary: "2-D convolution, NHWC × HWIO: indirect GEMM on WASM, implicit GEMM on WebGPU",
    unit: "multiply-adds",
    gpuFromWork: 256 * 1024 * 1024,
    // Forward, input gradient (also the transposed convolution) and weight/bias gradients.
    wasm: {
      forward: wasmConvForward,
      inputGrad: wasmConvBackwardInput,
      weightGrad: wasmConvBackwardWeights,
    },
    webgpu: {
      forward: gpuConv2d,
      inputGrad: gpuConv2dInputGrad,
      weightGrad: gpuConv2dWeightGrad,
    },
  },
} as const satisfies Record<
  OperationFamily,
  FamilyInfo & { readonly wasm: unknown; readonly webgpu: unknown }
>;

/**
 * The families in table order, with what the table says about each (no implementations).
 *
 * @returns One `[name, info]` pair per family.
 * @example
 * ```ts
 * import { familyInfo } from "./families.ts";
 * import assert from "node:assert";
 * const names = familyInfo().map(([name]) => name);
 * assert(names.includes("reduce") && names.includes("matmul"));
 * ```
 */
export function familyInfo(): [OperationFamily, FamilyInfo][] {
  return (Object.keys(FAMILIES) as OperationFamily[]).map((name) => {
    const { summary, unit, gpuFromWork } = FAMILIES[name];
    const noGpu = (FAMILIES[name] as FamilyInfo).noGpu;
    return [name, { summary, unit, gpuFromWork, ...(noGpu ? { noGpu } : {}) }];
  });
}
