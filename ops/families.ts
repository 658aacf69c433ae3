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
import { gpuChannelSums, gpuLayerMap, gpuLayerNormMap, gpuLayerNormStats } from "../gpu/layers.ts";
import { gpuMatmul } from "../gpu/matmul.ts";
import { gpuRxScore } from "../gpu/rx_score.ts";
import { wasmColumnSums } from "../wasm/column_sums.ts";
import { wasmConvBackwardInput, wasmConvBackwardWeights, wasmConvForward } from "../wasm/conv.ts";
import { wasmMatmul } from "../wasm/gemm.ts";
import { wasmGram } from "../wasm/gram.ts";
import {
  wasmActivationGrad,
  wasmAdd,
  wasmBatchNormGrad,
  wasmChannelAffine,
  wasmChannelMoments,
  wasmLayerNorm,
  wasmLayerNormGrad,
  wasmUpsample,
} from "../wasm/layers.ts";
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
  | "conv2d"
  | "convTranspose2d"
  | "elementwise"
  | "batchNorm"
  | "layerNorm"
  | "upsample";

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
  convTranspose2d: {
    summary: "transposed 2-D convolution (PyTorch ConvTranspose2d): the conv2d kernels reversed",
    unit: "multiply-adds",
    gpuFromWork: 256 * 1024 * 1024,
    // Its forward is conv2d's input gradient; its input gradient is conv2d's forward.
    wasm: {
      forward: wasmConvBackwardInput,
      inputGrad: wasmConvForward,
      weightGrad: wasmConvBackwardWeights,
      affine: wasmChannelAffine,
    },
    webgpu: {
      forward: gpuConv2dInputGrad,
      inputGrad: gpuConv2d,
      weightGrad: gpuConv2dWeightGrad,
      map: gpuLayerMap,
      sums: gpuChannelSums,
    },
  },
  elementwise: {
    summary: "activations (ReLU, GELU), residual add and per-channel affine, with gradients",
    unit: "values",
    // Memory-bound: a GPU pays only on large tensors (or where the tensor already lives).
    gpuFromWork: 64 * 1024 * 1024,
    wasm: { affine: wasmChannelAffine, activationGrad: wasmActivationGrad, add: wasmAdd },
    webgpu: { map: gpuLayerMap },
  },
  batchNorm: {
    summary: "batch norm with batch statistics (f64 sums), forward and backward",
    unit: "values",
    gpuFromWork: 64 * 1024 * 1024,
    wasm: { moments: wasmChannelMoments, affine: wasmChannelAffine, grad: wasmBatchNormGrad },
    webgpu: { sums: gpuChannelSums, map: gpuLayerMap },
  },
  layerNorm: {
    summary: "layer norm over the channels of each pixel, forward and backward",
    unit: "values",
    gpuFromWork: 64 * 1024 * 1024,
    wasm: { forward: wasmLayerNorm, grad: wasmLayerNormGrad },
    webgpu: { stats: gpuLayerNormStats, map: gpuLayerNormMap, sums: gpuChannelSums },
  },
  upsample: {
    summary: "bilinear upsampling by 2 or 4 (align_corners=False), forward and backward",
    unit: "values",
    gpuFromWork: 64 * 1024 * 1024,
    wasm: { resample: wasmUpsample },
    webgpu: { map: gpuLayerMap },
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
