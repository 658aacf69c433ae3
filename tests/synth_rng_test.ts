import assert from "node:assert/strict";
import { mix32, Rng, streamKey } from "../synth/rng.ts";
import { hasNumpy, python, throwsWith } from "./_io_helpers.ts";

// An independent implementation of the documented algorithm, in Python's arbitrary-precision ints.
const REFERENCE = `
import json, math, sys
M = 0xFFFFFFFF
def mix32(x):
    x &= M; x ^= x >> 16; x = (x * 0x85ebca6b) & M; x ^= x >> 13; x = (x * 0xc2b2ae35) & M; x ^= x >> 16
    return x
def key(seed, stream):
    lo, hi = (lambda v: v & M), (lambda v: (v >> 32) & M)
    return mix32(lo(seed) ^ mix32(hi(seed) ^ mix32(lo(stream) ^ mix32(hi(stream) ^ 0x6a09e667))))
def rotl(x, k): return ((x << k) | (x >> (32 - k))) & M
class X:
    def __init__(self, seed, stream):
        x = key(seed, stream); s = []
        for _ in range(4):
            x = (x + 0x9e3779b9) & M; s.append(mix32(x))
        self.s = s
    def next(self):
        s = self.s
        r = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 9) & M
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 11)
        return r
    def uniform(self):
        a = self.next() >> 5; b = self.next() >> 6
        return (a * 67108864 + b) / 9007199254740992
    def normal_pair(self):
        while True:
            u = 2 * self.uniform() - 1; v = 2 * self.uniform() - 1; s = u * u + v * v
            if 0 < s < 1:
                f = math.sqrt(-2 * math.log(s) / s); return [u * f, v * f]
out = {}
for seed, stream in [(0, 0), (1, 0), (42, 7), (2**40 + 3, 2**33 + 1)]:
    g = X(seed, stream)
    ints = [g.next() for _ in range(8)]
    unis = [g.uniform() for _ in range(4)]
    norms = g.normal_pair() + g.normal_pair()
    out[f"{seed},{stream}"] = [ints, unis, norms]
print(json.dumps(out))
`;

Deno.test({
  name: "Rng matches an independent Python implementation of xoshiro128** and its seeding",
  ignore: !hasNumpy,
  fn: async () => {
    const ref = JSON.parse(await python(REFERENCE)) as Record<string, number[][]>;
    for (const [k, [ints, unis, norms]] of Object.entries(ref)) {
      const [seed, stream] = k.split(",").map(Number);
      const rng = new Rng(seed, stream);
      assert.deepEqual(Array.from({ length: 8 }, () => rng.nextUint32()), ints, k);
      assert.deepEqual(Array.from({ length: 4 }, () => rng.uniform()), unis, k);
      for (const expected of norms) {
        const got = rng.normal();
        // log may differ in the last bit between libms; the draws themselves must agree.
        assert.ok(
          Math.abs(got - expected) <= 1e-14 * Math.max(1, Math.abs(expected)),
          `${k}: ${got} vs ${expected}`,
        );
      }
    }
  },
});

Deno.test("mix32() is the murmur3 finaliser (known values)", () => {
  assert.equal(mix32(0), 0);
  assert.equal(mix32(1), 1364076727);
  assert.equal(mix32(0xffffffff), 0x81f16f39);
});

Deno.test("streamKey() gives distinct keys to the first 100000 streams of a seed", () => {
  const seen = new Set<number>();
  for (let i = 0; i < 100000; i++) seen.add(streamKey(123, i));
  assert.equal(seen.size, 100000);
  assert.notEqual(streamKey(1, 0), streamKey(0, 1));
  throwsWith(() => streamKey(-1, 0), RangeError, "seed");
  throwsWith(() => streamKey(0, 1.5), TypeError, "stream");
});

Deno.test("Rng streams are reproducible and differ between seeds and streams", () => {
  const draw = (seed: number, stream: number) => {
    const r = new Rng(seed, stream);
    return Array.from({ length: 16 }, () => r.nextUint32());
  };
  assert.deepEqual(draw(5, 9), draw(5, 9));
  assert.notDeepEqual(draw(5, 9), draw(5, 10));
  assert.notDeepEqual(draw(5, 9), draw(6, 9));
});

Deno.test("Rng.uniform() and normal() have the right moments on 200000 draws", () => {
  const rng = new Rng(2024);
  const n = 200000;
  let su = 0, suu = 0, sn = 0, snn = 0, min = 1, max = 0;
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    su += u;
    suu += u * u;
    min = Math.min(min, u);
    max = Math.max(max, u);
    const z = rng.normal();
    sn += z;
    snn += z * z;
  }
  assert.ok(min >= 0 && max < 1);
  // Means within 5 standard errors: 1/sqrt(12 n) for uniforms, 1/sqrt(n) for normals.
  assert.ok(Math.abs(su / n - 0.5) < 5 / Math.sqrt(12 * n), `uniform mean ${su / n}`);
  assert.ok(Math.abs(suu / n - (su / n) ** 2 - 1 / 12) < 0.002, "uniform variance");
  assert.ok(Math.abs(sn / n) < 5 / Math.sqrt(n), `normal mean ${sn / n}`);
  assert.ok(Math.abs(snn / n - 1) < 5 * Math.sqrt(2 / n), `normal variance ${snn / n}`);
});

Deno.test("Rng.int() covers [lo, hi] evenly and validates its range", () => {
  const rng = new Rng(3);
  const counts = new Map<number, number>();
  for (let i = 0; i < 40000; i++) {
    const v = rng.int(2, 5);
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort(), [2, 3, 4, 5]);
  for (const c of counts.values()) assert.ok(Math.abs(c - 10000) < 500, `${c}`);
  assert.equal(rng.int(7, 7), 7);
  throwsWith(() => rng.int(5, 2), RangeError, "hi");
});
