/**
 * The checks of the dimensionality tracker's inputs (`./tracker.ts`): steps, layer names,
 * activations, per-step extras and run metadata.
 *
 * @module
 */

import type { Matrix } from "../core/types.ts";
import { InvalidDataError } from "../core/errors.ts";
import { firstNonFinite } from "../core/validate.ts";
import { JUMP_METRICS, type JumpMetric } from "./row.ts";
import type { Observation, ObserveExtras } from "./tracker_types.ts";

/** Attribute names the exports use themselves; metadata may not take them. */
export const RESERVED_METADATA_KEYS: readonly string[] = [
  "format",
  "version",
  "columns",
  "layer",
  "rows",
  "index",
  "sampling_frequency",
];

/** Throws a RangeError unless `where.step` comes after the layer's `last` recorded step. */
export function checkStep(where: Where, last: number): void {
  const { layer, step } = where;
  if (step <= last) {
    throw new RangeError(
      `layer "${layer}": step ${step} is not after the last recorded step ${last}; steps must ` +
        `increase per layer (use a new tracker for a new run)`,
    );
  }
}

/** The observation `observe` received, when it is an object with a valid layer name. */
export function checkObservation(observation: Observation): Observation {
  if (observation === null || typeof observation !== "object") {
    throw new TypeError(
      `observe() takes (step, { layer, activations, loss?, gradNorm? }), got ${
        observation === null ? "null" : typeof observation
      } as its second argument`,
    );
  }
  checkLayerName(observation.layer);
  return observation;
}

/** Throws a TypeError unless `layer` is a non-empty string. */
export function checkLayerName(layer: string): void {
  if (typeof layer !== "string" || layer.length === 0) {
    throw new TypeError(`layer must be a non-empty string, got ${JSON.stringify(layer)}`);
  }
}

/** Throws a RangeError unless `metric` is one of {@linkcode JUMP_METRICS}. */
export function checkMetric(metric: string): asserts metric is JumpMetric {
  if (!(JUMP_METRICS as readonly string[]).includes(metric)) {
    throw new RangeError(`unknown metric "${metric}"; use one of ${JUMP_METRICS.join(", ")}`);
  }
}

/** Where a value was observed, for messages and error positions. */
export interface Where {
  /** The layer's name. */
  readonly layer: string;
  /** The training step. */
  readonly step: number;
}

/**
 * The loss and gradient norm of an observation, each finite or `null` when not given.
 *
 * @param extras The observation's `loss` and `gradNorm`.
 * @param where The layer and step, for messages.
 * @returns `loss` and `gradNorm`, `null` where missing.
 * @throws {TypeError} When one is given but is not a number.
 * @throws {InvalidDataError} When one is NaN or infinite; `position` has `layer` and `step`.
 */
export function checkExtras(
  extras: ObserveExtras,
  where: Where,
): { loss: number | null; gradNorm: number | null } {
  return {
    loss: checkExtra(extras.loss, "loss", where),
    gradNorm: checkExtra(extras.gradNorm, "gradNorm", where),
  };
}

function checkExtra(value: number | undefined, name: string, where: Where): number | null {
  const { layer, step } = where;
  if (value === undefined) return null;
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number, got ${typeof value}`);
  }
  if (value - value !== 0) {
    throw new InvalidDataError(
      `layer "${layer}" at step ${step}: ${name} is ${value}; it must be finite (omit it when ` +
        `there is none)`,
      { position: { layer, step } },
    );
  }
  return value;
}

/** Run metadata of strings and finite numbers, with no reserved key. */
export function checkMetadata(
  metadata: Record<string, string | number>,
): Record<string, string | number> {
  if (metadata === null || typeof metadata !== "object") {
    throw new TypeError(`metadata must be an object of strings and numbers`);
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (RESERVED_METADATA_KEYS.includes(key)) {
      throw new RangeError(
        `metadata key "${key}" is reserved for the export format; rename it (reserved: ${
          RESERVED_METADATA_KEYS.join(", ")
        })`,
      );
    }
    const ok = typeof value === "string" || (typeof value === "number" && value - value === 0);
    if (!ok) {
      throw new TypeError(
        `metadata "${key}" must be a string or a finite number, got ${String(value)}`,
      );
    }
  }
  return metadata;
}

/** Whether two shapes have the same axes. */
function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Checks a layer's flattened activations before they are measured: the same feature shape as
 * the layer's earlier steps, at least one row and column, every value finite.
 *
 * @param where The layer and step, for messages.
 * @param activations The flattened `matrix`, its `featureShape`, and the layer's `previous`
 *   feature shape (`undefined` on its first measurement).
 * @throws {TypeError} When the feature shape changed.
 * @throws {RangeError} When the matrix has no rows or no columns.
 * @throws {InvalidDataError} When a value is NaN or infinite; `position` names it.
 */
export function checkActivations(
  where: Where,
  activations: {
    matrix: Matrix;
    featureShape: readonly number[];
    previous: readonly number[] | undefined;
  },
): void {
  const { layer, step } = where;
  const { matrix, featureShape, previous } = activations;
  if (previous !== undefined && !sameShape(previous, featureShape)) {
    throw new TypeError(
      `layer "${layer}" changed its feature shape from [${previous}] to ` +
        `[${featureShape}] at step ${step}; track a layer of another shape under another name`,
    );
  }
  if (matrix.rows === 0 || matrix.cols === 0) {
    throw new RangeError(
      `layer "${layer}" at step ${step}: the activations are ${matrix.rows} x ${matrix.cols}; ` +
        `need at least one row and one column`,
    );
  }
  const bad = firstNonFinite(matrix.data, matrix.cols);
  if (bad !== undefined) {
    throw new InvalidDataError(
      `layer "${layer}" at step ${step}: activation ${bad.value} at row ${bad.row}, column ` +
        `${bad.col} of the ${matrix.rows} x ${matrix.cols} flattened matrix; activations must ` +
        `be finite (the model has likely diverged)`,
      { position: { layer, step, row: bad.row, col: bad.col } },
    );
  }
}
