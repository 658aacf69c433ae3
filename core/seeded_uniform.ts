/**
 * A small seeded generator of uniform numbers (mulberry32) for the places below `synth/` that
 * need reproducible randomness: the robust RX fit's reservoir sample, and test fixtures.
 * `synth/rng.ts` is the generator for data; this one is only fast and tiny.
 *
 * @module
 */

/**
 * Seeded uniform numbers in [0, 1): the same seed gives the same sequence on every run.
 *
 * @param seed Any number (its low 32 bits are used).
 * @returns The next number on each call.
 * @example
 * ```ts
 * import { seededUniform } from "./seeded_uniform.ts";
 * import assert from "node:assert";
 * const a = seededUniform(7), b = seededUniform(7);
 * const x = a();
 * assert(x >= 0 && x < 1 && x === b());
 * ```
 */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
