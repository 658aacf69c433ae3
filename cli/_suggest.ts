/**
 * "Did you mean" for misspelled commands and flags: the known names nearest by edit distance.
 *
 * @module
 */

/**
 * The optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
 * neighbouring characters each cost 1 (so `covv` is 1 from `cov`, and `rx` 1 from `xr`).
 *
 * @param a One string.
 * @param b The other.
 * @returns The number of edits.
 */
export function editDistance(a: string, b: string): number {
  // Three rows of the dynamic programme: the swap looks two rows back.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, before[j - 2] + 1);
      }
      row.push(d);
    }
    [before, previous] = [previous, row];
  }
  return previous[b.length];
}

/**
 * The known names closest to a misspelled one: those at the smallest edit distance, if that is
 * at most 2 and less than half the typed name's length (so `x` suggests nothing), plus names the
 * typed text is a prefix of when nothing is that close.
 *
 * @param typed What the user typed (without leading dashes).
 * @param known The names that exist.
 * @returns The suggestions, best first; empty when none is close.
 */
export function closestNames(typed: string, known: readonly string[]): string[] {
  const limit = Math.min(2, Math.ceil(typed.length / 2) - 1);
  let best = Infinity;
  let found: string[] = [];
  for (const name of new Set(known)) {
    const d = editDistance(typed.toLowerCase(), name.toLowerCase());
    if (d > limit || d > best) continue;
    if (d < best) [best, found] = [d, []];
    found.push(name);
  }
  if (found.length === 0 && typed.length >= 2) {
    found = known.filter((name) => name.startsWith(typed));
  }
  return found;
}

/**
 * The " did you mean ...?" tail of an error message, or `""` when no name is close.
 *
 * @param typed What the user typed (without leading dashes).
 * @param options `known` (the names that exist) and `prefix` (put before each, e.g. `"--"`).
 * @returns The text to append.
 */
export function didYouMean(
  typed: string,
  options: { known: readonly string[]; prefix?: string },
): string {
  const names = closestNames(typed, options.known).map((n) => `${options.prefix ?? ""}${n}`);
  if (names.length === 0) return "";
  const list = names.length === 1
    ? names[0]
    : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
  return `; did you mean ${list}?`;
}
