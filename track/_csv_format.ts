/**
 * The tracker's CSV layout: RFC 4180, a `layer` column then the {@linkcode TRACK_COLUMNS}, one
 * record per measurement, layer by layer in step order; a missing loss or gradient norm is an
 * empty field.
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";
import { type CsvValue, formatCsv, parseCsv } from "../io/csv.ts";
import { formatFloat32 } from "../io/float32_text.ts";
import { COLUMN_SPECS, TRACK_COLUMNS, type TrackData, type TrackLayer } from "./row.ts";
import { rowFrom, STORED_COLUMNS } from "./_rows.ts";

const HEADER = ["layer", ...TRACK_COLUMNS];

/**
 * How each column is written: float32-stored values as their shortest float32 decimal (the
 * double `String()` would print carries float32 rounding noise); integers and the derived
 * `effective_rank` (a double) as is.
 */
const WRITERS: readonly ((v: number | null) => CsvValue)[] = COLUMN_SPECS.map((c) =>
  c.storage === "f32" ? (v) => v === null ? null : formatFloat32(v) : (v) => v
);

/** Formats layers as one CSV text. */
export function formatTrackCsv(layers: readonly TrackLayer[]): string {
  const records: CsvValue[][] = [];
  for (const { name, rows } of layers) {
    for (const row of rows) {
      records.push([name, ...TRACK_COLUMNS.map((c, i) => WRITERS[i](row[c]))]);
    }
  }
  return formatCsv(HEADER, records);
}

/** Parses a CSV text written by {@linkcode formatTrackCsv}. */
export function parseTrackCsv(text: string, file: string): TrackData {
  const records = parseCsv(text);
  if (records.length === 0) {
    throw new InvalidDataError(`${file} is empty; a tracker CSV starts with a header line`);
  }
  const header = records[0];
  const index = new Map(header.map((name, i) => [name, i]));
  for (const column of ["layer", ...STORED_COLUMNS]) {
    if (!index.has(column)) {
      throw new InvalidDataError(
        `${file} has no "${column}" column; a tracker CSV has the columns ${HEADER.join(", ")}`,
        { position: { line: 1 } },
      );
    }
  }
  const layerIndex = index.get("layer")!;
  const layers = new Map<string, TrackLayer>();
  for (let r = 1; r < records.length; r++) {
    const record = records[r];
    const where = `${file} line ${r + 1}`;
    if (record.length !== header.length) {
      throw new InvalidDataError(
        `${where} has ${record.length} fields but the header has ${header.length}; ` +
          `the file is truncated or corrupt`,
        { position: { line: r + 1 } },
      );
    }
    const name = record[layerIndex];
    const row = rowFrom((column) => {
      const i = index.get(column);
      if (i === undefined) return undefined;
      const field = record[i].trim();
      return field === "" ? null : Number(field);
    }, where);
    let layer = layers.get(name);
    if (layer === undefined) layers.set(name, layer = { name, rows: [] });
    (layer.rows as unknown[]).push(row);
  }
  return { samplingFrequency: undefined, metadata: undefined, layers: [...layers.values()] };
}
