/**
 * A small seeded random source for weight initialisation and synthetic data: the same seed
 * gives the same numbers on every machine (integer arithmetic only until the final division).
 *
 * @module
 */

/** A seeded stream of uniform and normal deviates (SplitMix32 with a Box-Muller transform). */
export class Random {
  #state: number;
  #spare: number | undefined;

  /** @param seed Any integer; equal seeds give equal streams. */
  constructor(seed: number) {
    // Mix the seed once so seeds 0, 1, 2 start far apart.
    this.#state = Math.imul(seed | 0, 0x9e3779b9) ^ 0x85ebca6b;
  }

  /** @returns A uniform deviate in [0, 1). */
  uniform(): number {
    this.#state = (this.#state + 0x9e3779b9) | 0;
    let z = this.#state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  }

  /** @returns A standard normal deviate. */
  normal(): number {
    if (this.#spare !== undefined) {
      const s = this.#spare;
      this.#spare = undefined;
      return s;
    }
    // 1 - u is in (0, 1], so the logarithm is finite.
    const r = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const t = 2 * Math.PI * this.uniform();
    this.#spare = r * Math.sin(t);
    return r * Math.cos(t);
  }

  /**
   * @param n The exclusive upper bound.
   * @returns A uniform integer in [0, n).
   */
  below(n: number): number {
    return Math.floor(this.uniform() * n);
  }
}
