/**
 * Checks rows read back from a file, so a corrupt or foreign file fails with a message that
 * says where, instead of loading nonsense.
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";
import { COLUMN_SPECS, columnsStoredAs, type TrackLayer, type TrackRow } from "./row.ts";

const NULLABLE = new Set<string>(COLUMN_SPECS.filter((c) => c.nullable).map((c) => c.name));
const INTEGER = new Set<string>(columnsStoredAs("u32"));
/** Norms, ratios and entropies: never negative (beyond float rounding) in an honest export. */
const NON_NEGATIVE = new Set<string>([
  "grad_norm",
  "stable_rank",
  "participation_ratio",
  "nuclear_norm_ratio",
  "spectral_entropy",
  "condition_number",
]);
const STORED = COLUMN_SPECS.filter((c) => c.storage !== "derived").map((c) => c.name);

/** The columns a file must hold; `effective_rank` is derived (`exp(spectral_entropy)`). */
export const STORED_COLUMNS: readonly string[] = STORED;

/**
 * Builds a row from looked-up values, checking each.
 *
 * @param get Returns a column's value (`null` for an empty field), or `undefined` if absent.
 * @param where Names the file and record in messages, e.g. `"run.csv line 4"`.
 */
export function rowFrom(
  get: (column: string) => number | null | undefined,
  where: string,
): TrackRow {
  const v: Record<string, number | null> = {};
  for (const column of STORED) {
    const value = get(column);
    if (value === undefined) {
      throw new InvalidDataError(`${where}: column ${column} is missing`, {
        position: { column },
      });
    }
    if (value === null) {
      if (!NULLABLE.has(column)) {
        throw new InvalidDataError(`${where}: ${column} is empty; only loss and grad_norm may be`, {
          position: { column },
        });
      }
      v[column] = null;
      continue;
    }
    const bad = typeof value !== "number" || value - value !== 0 ||
      (INTEGER.has(column) && (!Number.isInteger(value) || value < 0 || value > 0xffffffff));
    if (bad) {
      throw new InvalidDataError(
        `${where}: ${column} is ${String(value)}; expected a finite ${
          INTEGER.has(column) ? "integer in 0 .. 2^32 - 1" : "number"
        }. The file is corrupt or not a tracker export`,
        { position: { column } },
      );
    }
    if (NON_NEGATIVE.has(column) && value < -1e-6) {
      throw new InvalidDataError(
        `${where}: ${column} is ${value}, but a ${column} cannot be negative. The file is ` +
          `corrupt or was edited`,
        { position: { column } },
      );
    }
    v[column] = value;
  }
  const entropy = v.spectral_entropy as number;
  return {
    step: v.step as number,
    loss: v.loss,
    grad_norm: v.grad_norm,
    stable_rank: v.stable_rank as number,
    participation_ratio: v.participation_ratio as number,
    cumulative_90: v.cumulative_90 as number,
    nuclear_norm_ratio: v.nuclear_norm_ratio as number,
    spectral_entropy: entropy,
    effective_rank: Math.exp(entropy),
    condition_number: v.condition_number as number,
    numerical_rank: v.numerical_rank as number,
  };
}

/** Throws when a layer's steps do not increase. */
export function checkIncreasingSteps(track: TrackLayer, file: string): void {
  const { name: layer, rows } = track;
  for (let i = 1; i < rows.length; i++) {
    if (rows[i].step <= rows[i - 1].step) {
      throw new InvalidDataError(
        `${file}: layer "${layer}" has step ${rows[i].step} after step ${
          rows[i - 1].step
        }; steps must increase per layer. The file is corrupt or holds several runs`,
        { position: { layer, index: i } },
      );
    }
  }
}
