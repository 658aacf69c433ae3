/**
 * Float32 values as text: the shortest decimal that reads back (through float32) as the same
 * value, so a float32 0.33333334 prints as `0.33333334`, not the float64 expansion
 * `0.3333333432674408` that `String()` gives once it has been widened to a double.
 *
 * @module
 */

/**
 * The shortest decimal text of a float32 value: the fewest significant digits (1 to 9) whose
 * decimal, rounded to float32 (`Math.fround`), is the value again. Nine digits always suffice, so
 * `Math.fround(Number(formatFloat32(x))) === x` for every float32 `x`. NaN is `NaN`, infinities
 * `Infinity` / `-Infinity` and negative zero `-0`, as `formatCsv` writes them.
 *
 * @param value A number; it is rounded to float32 first, so a double gets the text of the
 *   float32 nearest to it.
 * @returns The text, in the notation `String()` uses for that decimal (e.g. `1e-7`, `3.4028235e+38`).
 * @throws {TypeError} When `value` is not a number.
 * @example
 * ```ts
 * import { formatFloat32 } from "./float32_text.ts";
 * import assert from "node:assert";
 * const third = Math.fround(1 / 3);
 * assert(String(third) === "0.3333333432674408");
 * assert(formatFloat32(third) === "0.33333334");
 * assert(Math.fround(Number(formatFloat32(third))) === third);
 * assert(formatFloat32(-0) === "-0" && formatFloat32(16777216) === "16777216");
 * ```
 */
export function formatFloat32(value: number): string {
  if (typeof value !== "number") {
    throw new TypeError(`formatFloat32 takes a number, got ${typeof value}`);
  }
  const f = Math.fround(value);
  if (!Number.isFinite(f)) return String(f);
  if (f === 0) return Object.is(f, -0) ? "-0" : "0";
  for (let digits = 1; digits < 9; digits++) {
    // toPrecision rounds to nearest; Number() then String() drops trailing zeros and picks
    // plain or exponent notation the way the rest of the CSV writes numbers.
    const text = String(Number(f.toPrecision(digits)));
    if (Math.fround(Number(text)) === f) return evenOnTie(f, digits, text);
  }
  return String(Number(f.toPrecision(9)));
}

/**
 * When the value lies exactly halfway between two `digits`-digit decimals, `toPrecision` takes
 * the larger; numpy (and the shortest-repr algorithms) take the one with an even last digit.
 * Both read back as the same float32; this picks the even one so the text matches numpy's.
 */
function evenOnTie(f: number, digits: number, rounded: string): string {
  const exact = f.toPrecision(digits + 1);
  if (Number(exact) !== f || !/5(e[+-]\d+)?$/.test(exact)) return rounded;
  const lower = String(Number(exact.replace(/5(e[+-]\d+)?$/, "0$1")));
  const last = Number(rounded.replace(/e.*$/, "").replace(/0+$/, "").replace(/\.$/, "").at(-1));
  return last % 2 === 1 && Math.fround(Number(lower)) === f ? lower : rounded;
}
