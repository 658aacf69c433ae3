/**
 * A seeded random number generator that gives the same sequence on every platform: xoshiro128**
 * (Blackman and Vigna) over 32-bit integer state, updated only with `Math.imul`, shifts and xor,
 * so no floating-point rounding ever enters the state.
 *
 * Independent streams: `new Rng(seed, stream)` derives the state from `(seed, stream)` with
 * {@linkcode streamKey} and four steps of splitmix32, so sample `i` of a synthetic dataset draws
 * the same numbers however many samples were generated before it, or in which worker.
 *
 * Exactness: integers ({@linkcode Rng.nextUint32}, {@linkcode Rng.int}) and uniforms
 * ({@linkcode Rng.uniform}) are bit-identical everywhere. Normals use `Math.log` and `Math.sqrt`;
 * `sqrt` is exact in IEEE 754 and V8 (Deno, Node, Chrome) computes `log` with the same fdlibm
 * port on every OS, so normals are bit-identical across V8 hosts and may differ in the last bit
 * on other engines.
 *
 * @module
 */

import { checkInteger } from "../core/validate.ts";

const GOLDEN = 0x9e3779b9; // 2^32 / golden ratio: splitmix32's increment

/**
 * murmur3's 32-bit finaliser: a bijection on 32-bit integers that spreads every input bit over
 * the output.
 *
 * @param x Any number; its low 32 bits are used.
 * @returns The mixed value, an unsigned 32-bit integer.
 * @example
 * ```ts
 * import { mix32 } from "./rng.ts";
 * import assert from "node:assert";
 * assert(mix32(0) === 0 && mix32(1) === 1364076727);
 * ```
 */
export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * The 32-bit key of stream `stream` of seed `seed`:
 * `mix32(seedLo ^ mix32(seedHi ^ mix32(streamLo ^ mix32(streamHi ^ 0x6a09e667))))`, where `Lo`
 * and `Hi` are the low and high 32 bits. For a fixed seed, distinct streams below 2^32 always get
 * distinct keys (each step is a bijection of `streamLo`).
 *
 * @param seed A whole number in `[0, 2^53)`.
 * @param stream A whole number in `[0, 2^53)`, e.g. the sample index.
 * @returns The key, an unsigned 32-bit integer.
 * @throws {TypeError} When either is not a whole number.
 * @throws {RangeError} When either is negative or not a safe integer.
 * @example
 * ```ts
 * import { streamKey } from "./rng.ts";
 * import assert from "node:assert";
 * assert(streamKey(0, 0) !== streamKey(0, 1));
 * ```
 */
export function streamKey(seed: number, stream: number): number {
  checkInteger("seed", seed, 0);
  checkInteger("stream", stream, 0);
  const hi = (v: number) => Math.floor(v / 2 ** 32) >>> 0;
  const lo = (v: number) => v >>> 0;
  return mix32(lo(seed) ^ mix32(hi(seed) ^ mix32(lo(stream) ^ mix32(hi(stream) ^ 0x6a09e667))));
}

/**
 * xoshiro128** with uniform floats and normal deviates.
 *
 * State: four 32-bit words, the first four outputs of splitmix32 started at
 * `streamKey(seed, stream)` (splitmix32: `x += 0x9e3779b9; return mix32(x)`). Four outputs of a
 * bijection on four distinct counters are distinct, so the state is never all zero.
 *
 * @example
 * ```ts
 * import { Rng } from "./rng.ts";
 * import assert from "node:assert";
 * const a = new Rng(42, 3), b = new Rng(42, 3);
 * assert(a.uniform() === b.uniform() && a.normal() === b.normal());
 * ```
 */
export class Rng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;
  #spare = 0;
  #hasSpare = false;

  /**
   * @param seed A whole number in `[0, 2^53)`.
   * @param stream Which independent stream of that seed (default 0), e.g. a sample index.
   * @throws {TypeError} When either is not a whole number.
   * @throws {RangeError} When either is negative or not a safe integer.
   */
  constructor(seed: number, stream = 0) {
    let x = streamKey(seed, stream);
    const next = () => {
      x = (x + GOLDEN) >>> 0;
      return mix32(x);
    };
    this.#s0 = next();
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next();
  }

  /**
   * The next raw output: `rotl(s1 * 5, 7) * 9`, then the xoshiro128 state update.
   *
   * @returns An unsigned 32-bit integer.
   * @example
   * ```ts
   * import { Rng } from "./rng.ts";
   * import assert from "node:assert";
   * const v = new Rng(1).nextUint32();
   * assert(Number.isInteger(v) && v >= 0 && v < 2 ** 32);
   * ```
   */
  nextUint32(): number {
    const m = Math.imul(this.#s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = (this.#s3 << 11) | (this.#s3 >>> 21);
    return result;
  }

  /**
   * A uniform double in `[0, 1)` with 53 random bits: `((a >>> 5) * 2^26 + (b >>> 6)) / 2^53`
   * from two consecutive outputs `a`, `b`.
   *
   * @returns The value.
   * @example
   * ```ts
   * import { Rng } from "./rng.ts";
   * import assert from "node:assert";
   * const u = new Rng(7).uniform();
   * assert(u >= 0 && u < 1);
   * ```
   */
  uniform(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /**
   * A uniform whole number in `[lo, hi]` (both inclusive), without modulo bias: outputs at or
   * above the largest multiple of the range size below 2^32 are rejected and redrawn.
   *
   * @param lo Smallest value.
   * @param hi Largest value; `hi - lo < 2^32`.
   * @returns The value.
   * @throws {RangeError} When `hi < lo` or the range exceeds 2^32 values.
   * @example
   * ```ts
   * import { Rng } from "./rng.ts";
   * import assert from "node:assert";
   * const r = new Rng(0).int(2, 5);
   * assert(r >= 2 && r <= 5);
   * ```
   */
  int(lo: number, hi: number): number {
    checkInteger("lo", lo, Number.MIN_SAFE_INTEGER);
    checkInteger("hi", hi, lo, lo + 2 ** 32 - 1);
    const size = hi - lo + 1;
    const limit = 2 ** 32 - (2 ** 32 % size);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return lo + (x % size);
    }
  }

  /**
   * A standard normal deviate by Marsaglia's polar method: draw `u = 2 uniform() - 1` and
   * `v = 2 uniform() - 1` until `0 < s = u^2 + v^2 < 1`; then `f = sqrt(-2 ln(s) / s)` and the
   * pair is `(u f, v f)`: the first is returned now, the second by the next call.
   *
   * @returns The value.
   * @example
   * ```ts
   * import { Rng } from "./rng.ts";
   * import assert from "node:assert";
   * const rng = new Rng(5);
   * let sum = 0;
   * for (let i = 0; i < 1000; i++) sum += rng.normal();
   * assert(Math.abs(sum / 1000) < 0.2);
   * ```
   */
  normal(): number {
    if (this.#hasSpare) {
      this.#hasSpare = false;
      return this.#spare;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        this.#spare = v * f;
        this.#hasSpare = true;
        return u * f;
      }
    }
  }
}
