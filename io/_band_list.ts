/**
 * Which bands of a cube to keep: a user's selection (`"0-9,12,20-29"`, `"exclude:3,7"` or a list
 * of indices), else the ENVI bad band list (`bbl`), else every band.
 *
 * @module
 */

/**
 * The kept band indices, in the order given (a list) or ascending (text), or `null` when every
 * band is kept.
 *
 * An explicit `selection` wins over `bbl` entirely: the user may keep a band the header marks
 * bad, and `exclude:` counts from every band of the file, not from the good ones.
 *
 * @param selection The user's choice, if any.
 * @param source `total` (bands in the file), `bbl` (1 good / 0 bad per band) and `name` (the
 *   file, for messages).
 * @returns Indices into the file's bands, or `null` for all.
 * @throws {RangeError} On a malformed item, an index out of range (the message gives the valid
 *   range), a band listed twice, or a selection (or `bbl`) that leaves no band.
 */
export function keptBands(
  selection: string | readonly number[] | undefined,
  source: { total: number; bbl?: readonly number[]; name: string },
): number[] | null {
  const { total, bbl, name } = source;
  const range = `${name} has ${total} band${total === 1 ? "" : "s"} (0-${total - 1})`;
  if (selection === undefined) {
    if (bbl === undefined || bbl.every((b) => b !== 0)) return null;
    const good = [...bbl.keys()].filter((b) => bbl[b] !== 0);
    if (good.length === 0) {
      throw new RangeError(
        `the bad band list (bbl) of ${name} marks all ${total} bands bad; choose bands ` +
          `explicitly (bands option, --bands 0-${total - 1})`,
      );
    }
    return good;
  }
  const text = typeof selection === "string" ? selection.trim() : undefined;
  const exclude = text?.toLowerCase().startsWith("exclude:") ?? false;
  const listed = text === undefined
    ? indexList(selection as readonly number[])
    : parseItems(exclude ? text.slice("exclude:".length) : text, { spec: text, total, range });
  const what = `bands ${JSON.stringify(typeof selection === "string" ? selection : listed)}`;
  const seen = new Set<number>();
  for (const b of listed) {
    if (b >= total) throw new RangeError(`${what}: band ${b} is out of range: ${range}`);
    if (seen.has(b)) throw new RangeError(`${what}: band ${b} is listed twice`);
    seen.add(b);
  }
  const kept = exclude
    ? [...Array(total).keys()].filter((b) => !seen.has(b))
    : text === undefined
    ? listed
    : listed.toSorted((a, b) => a - b);
  if (kept.length === 0) {
    throw new RangeError(`${what} leaves no band to read (${range}): keep at least one`);
  }
  return kept;
}

function indexList(list: readonly number[]): number[] {
  if (!Array.isArray(list)) {
    throw new RangeError(
      `bands must be text such as "0-9,12" or "exclude:3,7", or an array of band indices`,
    );
  }
  for (const b of list) {
    if (!Number.isInteger(b) || b < 0) {
      throw new RangeError(`bands must be whole numbers >= 0, got ${String(b)}`);
    }
  }
  return [...list];
}

/** `"0-9,12"` as indices; `spec` is the whole text and `range` the valid one, for messages. */
function parseItems(
  text: string,
  context: { spec: string; total: number; range: string },
): number[] {
  const { spec, total, range } = context;
  const out: number[] = [];
  for (const raw of text.split(",")) {
    const item = raw.trim();
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(item);
    if (m === null) {
      throw new RangeError(
        `bands ${JSON.stringify(spec)}: "${item}" is not a band or range; write indices ` +
          `from 0 such as "0-9,12,20-29", or "exclude:3,7"`,
      );
    }
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (last < first) {
      throw new RangeError(`bands ${JSON.stringify(spec)}: range "${item}" runs backwards`);
    }
    // Checked before the loop, so a range such as 0-99999999999 fails at once.
    if (last >= total) {
      throw new RangeError(`bands ${JSON.stringify(spec)}: band ${last} is out of range: ${range}`);
    }
    for (let b = first; b <= last; b++) out.push(b);
  }
  return out;
}
