/**
 * RX scoring behind `RxDetector.score()`: routes the call through the `rx` family, places the
 * input (a device tensor is read where it lives), and either checks the scores on the CPU or
 * leaves them on the device as a tensor for the next step.
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";
import type { Cube, Matrix, RunOptions } from "../core/types.ts";
import { cubeAsMatrix } from "../core/validate.ts";
import { gpuRxScore } from "../gpu/rx_score.ts";
import type { DeviceTensor } from "../tensor/device_tensor.ts";
import { loadKernels } from "../wasm/loader.ts";
import { WasmStorage } from "../wasm/storage.ts";
import { FAMILIES } from "./families.ts";
import { chooseBackend } from "./route.ts";
import {
  asTensor,
  hostMatrix,
  livesOn,
  type MatrixLike,
  place,
  runHost,
  shapeOf,
} from "./_placement.ts";

/** What scoring needs from a fitted detector. */
export interface RxScoreModel {
  /** Bands of the fit. */
  readonly bands: number;
  /** The `bands` float64 means. */
  readonly mean: Float64Array;
  /** `bands × rank` whitening matrix. */
  readonly w: Float64Array;
  /** Columns of `w`. */
  readonly rank: number;
  /** `w` is lower trapezoidal (`whitening(…, { form: "lower" })`): WASM skips its zeros. */
  readonly lower?: boolean;
}

/** Options of {@linkcode scoreRx}. */
export interface ScoreRxOptions extends Pick<RunOptions, "backend" | "signal"> {
  /** `"array"` (default): checked scores in a `Float32Array`; `"tensor"`: a device tensor. */
  output?: "array" | "tensor";
}

/**
 * Scores every pixel: squared Mahalanobis distance under `model`.
 *
 * @param data Pixels: a matrix, a BIP cube or a device tensor.
 * @param options The model, where to run, and what to return.
 * @returns Scores in a `Float32Array`, or a device tensor `[pixels]` with `output: "tensor"`.
 */
export async function scoreRx(
  data: MatrixLike | Cube,
  options: ScoreRxOptions & { model: RxScoreModel },
): Promise<Float32Array | DeviceTensor> {
  const { model } = options;
  const cube = isCube(data);
  const input: MatrixLike = cube ? cubeAsMatrix(data) : data as MatrixLike;
  const m = shapeOf(input);
  if (m.cols !== model.bands) {
    throw new TypeError(
      `the data has ${m.cols} bands but this detector was fitted on ${model.bands}; ` +
        `score data with the bands it was fitted on`,
    );
  }
  const route = await chooseBackend("rx", {
    backend: options.backend,
    work: m.rows * m.cols * model.rank,
    lives: livesOn(input),
  });
  const placed = await place(input, route.backend);
  const run = {
    mean: model.mean,
    w: model.w,
    rank: model.rank,
    lower: model.lower,
    signal: options.signal,
    operation: "RxDetector.score()",
  };
  if (options.output === "tensor") {
    if (placed.backend === "webgpu") {
      return asTensor(await gpuRxScore(placed.matrix, { ...run, output: "device" }), [m.rows]);
    }
    const scores = await FAMILIES.rx.wasm(placed.matrix, run);
    return asTensor({ storage: WasmStorage.from(await loadKernels(), scores) }, [m.rows]);
  }
  const scores = await runHost(FAMILIES.rx, placed, run);
  if (scores.some((v) => v - v !== 0)) {
    checkScores(scores, await hostMatrix(input), cube ? "pixel" : "row");
  }
  return scores;
}

/** Whether `data` is a cube `{ data, height, width, bands }`. */
export function isCube(data: unknown): data is Cube {
  return typeof data === "object" && data !== null && "height" in data && "bands" in data;
}

/** Throws for the first non-finite score, naming the pixel and band that caused it. */
function checkScores(scores: Float32Array, m: Matrix, label: string): void {
  for (let r = 0; r < scores.length; r++) {
    const v = scores[r];
    if (v - v === 0) continue;
    const row = m.data.subarray(r * m.cols, (r + 1) * m.cols);
    const b = row.findIndex((x) => !Number.isFinite(x));
    if (b >= 0) {
      throw new InvalidDataError(
        `${row[b]} at ${label} ${r}, band ${b}; clean or mask the data before scoring`,
        { position: { [label]: r, band: b } },
      );
    }
    throw new InvalidDataError(
      `the RX score of ${label} ${r} overflows float32; rescale the data (e.g. min-max normalise)`,
      { position: { [label]: r } },
    );
  }
}
