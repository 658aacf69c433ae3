/**
 * How hosts cut work across pool workers.
 *
 * @module
 */

/**
 * Splits `0..total` into at most `parts` ranges whose cuts are multiples of `unit`, so a
 * kernel's blocks are the same whatever the worker count.
 *
 * @param total The length to split.
 * @param parts The most ranges.
 * @param unit The block every cut is a multiple of.
 * @returns `[start, end)` pairs covering `0..total`; none when `total` is 0.
 */
export function splitRanges(total: number, parts: number, unit: number): [number, number][] {
  const units = Math.ceil(total / unit);
  const per = Math.ceil(units / parts);
  const out: [number, number][] = [];
  for (let u = 0; u < units; u += per) {
    out.push([u * unit, Math.min(total, (u + per) * unit)]);
  }
  return out;
}
