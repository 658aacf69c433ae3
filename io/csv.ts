/**
 * CSV as RFC 4180 says: CRLF line ends, fields quoted when they hold a comma, quote, CR or LF,
 * quotes doubled inside quoted fields.
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";

/** A value {@linkcode formatCsv} can write. `null` and `undefined` become empty fields. */
export type CsvValue = string | number | bigint | boolean | null | undefined;

const NEEDS_QUOTES = /[",\r\n]/;

/**
 * Formats a header and rows as RFC 4180 CSV. Numbers are written in their shortest round-trip
 * form (`String(n)`, so `parseFloat` and Python's `float` give back the same double); `-0` keeps
 * its sign; NaN is `NaN` and infinities `Infinity` / `-Infinity` (all read by Python's `float`).
 * Every record ends with CRLF. A record whose only field is empty is written as `""` so it is not
 * mistaken for a blank line.
 *
 * @param header The column names.
 * @param rows The records; each must have as many fields as `header`.
 * @returns The CSV text.
 * @throws {TypeError} When the header is empty, a row has the wrong length, or a value has an
 * unsupported type.
 * @example
 * ```ts
 * import { formatCsv } from "./csv.ts";
 * import assert from "node:assert";
 * const text = formatCsv(["step", "note"], [[1, 'say "hi", then go'], [2, null]]);
 * assert(text === 'step,note\r\n1,"say ""hi"", then go"\r\n2,\r\n');
 * ```
 */
export function formatCsv(
  header: readonly string[],
  rows: readonly (readonly CsvValue[])[],
): string {
  if (!Array.isArray(header) || header.length === 0) {
    throw new TypeError("header must be a non-empty array of column names");
  }
  if (!Array.isArray(rows)) throw new TypeError("rows must be an array of arrays");
  const lines: string[] = [formatRecord(header, "header")];
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (!Array.isArray(row) || row.length !== header.length) {
      throw new TypeError(
        `row ${r} has ${Array.isArray(row) ? row.length : "no"} fields but the header has ` +
          `${header.length}; give every row one value per column (null for empty)`,
      );
    }
    lines.push(formatRecord(row, `row ${r}`));
  }
  return lines.join("\r\n") + "\r\n";
}

function formatRecord(values: readonly CsvValue[], where: string): string {
  if (values.length === 1 && formatField(values[0], where) === "") return '""';
  return values.map((v) => formatField(v, where)).join(",");
}

function formatField(value: CsvValue, where: string): string {
  switch (typeof value) {
    case "string":
      return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "bigint":
    case "boolean":
      return String(value);
    case "undefined":
      return "";
    default:
      if (value === null) return "";
      throw new TypeError(
        `${where} holds a ${typeof value}; CSV fields must be string, number, bigint, ` +
          `boolean, null or undefined (serialise objects to a string first)`,
      );
  }
}

/**
 * Parses CSV text into records of string fields: the inverse of {@linkcode formatCsv}. Accepts
 * CRLF, LF or CR line ends, quoted fields holding commas, quotes and line breaks, a leading byte
 * order mark, and a missing final line end. A quote inside an unquoted field is kept literally.
 * Records may have different lengths; checking them is the caller's business.
 *
 * @param text The CSV text.
 * @returns One array of fields per record (the header is the first record).
 * @throws {InvalidDataError} On a quoted field that never ends, or text after a closing quote;
 * the message and `position.line` name the (1-based) line.
 * @example
 * ```ts
 * import { parseCsv } from "./csv.ts";
 * import assert from "node:assert";
 * const rows = parseCsv('a,b\r\n1,"x\r\ny"\r\n');
 * assert(rows.length === 2 && rows[1][1] === "x\r\ny");
 * ```
 */
export function parseCsv(text: string): string[][] {
  if (typeof text !== "string") throw new TypeError("text must be a string");
  const records: string[][] = [];
  let record: string[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  if (i >= n) return records;
  for (;;) {
    // At the start of a field.
    let field: string;
    if (text[i] === '"') {
      const startLine = line;
      let j = i + 1;
      let out = "";
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) {
          throw new InvalidDataError(
            `CSV quoted field opened on line ${startLine} is never closed; ` +
              `close it with a quote or double the quotes inside it`,
            { position: { line: startLine } },
          );
        }
        out += text.slice(j, q);
        if (text[q + 1] === '"') {
          out += '"';
          j = q + 2;
          continue;
        }
        line += countLineBreaks(text, i, q);
        i = q + 1;
        break;
      }
      field = out;
      if (i < n && text[i] !== "," && text[i] !== "\r" && text[i] !== "\n") {
        throw new InvalidDataError(
          `CSV line ${line}: unexpected ${JSON.stringify(text[i])} after a closing quote; ` +
            `a quoted field must end at a comma or line end`,
          { position: { line } },
        );
      }
    } else {
      let j = i;
      while (j < n && text[j] !== "," && text[j] !== "\r" && text[j] !== "\n") j++;
      field = text.slice(i, j);
      i = j;
    }
    record.push(field);
    if (i >= n) {
      records.push(record);
      return records;
    }
    if (text[i] === ",") {
      i++;
      if (i >= n) {
        record.push("");
        records.push(record);
        return records;
      }
      continue;
    }
    // A line end: CRLF, LF or a lone CR.
    i += text[i] === "\r" && text[i + 1] === "\n" ? 2 : 1;
    line++;
    records.push(record);
    record = [];
    if (i >= n) return records;
  }
}

function countLineBreaks(text: string, from: number, to: number): number {
  let count = 0;
  for (let k = from; k < to; k++) {
    const c = text[k];
    if (c === "\n" || (c === "\r" && text[k + 1] !== "\n")) count++;
  }
  return count;
}
