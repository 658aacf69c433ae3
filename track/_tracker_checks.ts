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

/** Throws a RangeError unless `step` comes after the layer's `last` recorded step. */
export function checkStep(layer: string, step: number, last: number): void {
  if (step <= last) {
    throw new RangeError(
      `layer "${layer}": step ${step} is not after the last recorded step ${last}; steps must ` +
        `increase per layer (use a new tracker for a new run)`,
    );
  }
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

/** A finite loss or gradient norm, or `null` when none was given. */
export function checkExtra(
  value: number | undefined,
  name: string,
  layer: string,
  step: number,
): number | null {
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
 * @param layer The layer's name, for messages.
 * @param step The training step, for messages.
 * @param activations The flattened `matrix`, its `featureShape`, and the layer's `previous`
 *   feature shape (`undefined` on its first measurement).
 * @throws {TypeError} When the feature shape changed.
 * @throws {RangeError} When the matrix has no rows or no columns.
 * @throws {InvalidDataError} When a value is NaN or infinite; `position` names it.
 */
export function checkActivations(
  layer: string,
  step: number,
  activations: {
    matrix: Matrix;
    featureShape: readonly number[];
    previous: readonly number[] | undefined;
  },
): void {
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
