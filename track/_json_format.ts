/**
 * The tracker's JSON layout: `{ "<layer>": [row, …], … }`, each row an object with the
 * {@linkcode TRACK_COLUMNS} as keys (`null` for a missing loss or gradient norm). Nothing else is
 * in the file, so any reader that expects the reference's `{layer: [rows]}` shape reads it.
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";
import { TRACK_COLUMNS, type TrackData, type TrackLayer, type TrackRow } from "./row.ts";
import { rowFrom } from "./_rows.ts";

/** Formats layers as JSON text. */
export function formatTrackJson(layers: readonly TrackLayer[]): string {
  // No prototype, so a layer named "__proto__" is an ordinary key.
  const out: Record<string, Record<string, number | null>[]> = Object.create(null);
  for (const { name, rows } of layers) {
    out[name] = rows.map((row) => Object.fromEntries(TRACK_COLUMNS.map((c) => [c, row[c]])));
  }
  return JSON.stringify(out);
}

/** Parses a JSON text written by {@linkcode formatTrackJson}. */
export function parseTrackJson(text: string, file: string): TrackData {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidDataError(`${file} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new InvalidDataError(
      `${file} must hold an object { "<layer>": [rows] }, got ${
        Array.isArray(parsed) ? "an array" : typeof parsed
      }`,
    );
  }
  const layers: TrackLayer[] = [];
  for (const [name, rows] of Object.entries(parsed)) {
    if (!Array.isArray(rows)) {
      throw new InvalidDataError(`${file}: layer "${name}" must be an array of rows`, {
        position: { layer: name },
      });
    }
    const parsedRows: TrackRow[] = rows.map((row, i) => {
      const where = `${file} layer "${name}" row ${i}`;
      if (row === null || typeof row !== "object") {
        throw new InvalidDataError(`${where} is not an object`, { position: { layer: name } });
      }
      const record = row as Record<string, unknown>;
      return rowFrom((column) => record[column] as number | null | undefined, where);
    });
    layers.push({ name, rows: parsedRows });
  }
  return { samplingFrequency: undefined, metadata: undefined, layers };
}
