/**
 * Tests of the two-thread tridiagonal reduction (`prism_eigvalsh_team_f64` with
 * `prism_tridiag_assist_f64` on a pool worker, `kernels/src/eigen/team.rs`) and of its host,
 * `eigenvaluesInPlace` (`wasm/eigen.ts`): the values are bit-identical to the one-thread
 * `prism_eigvalsh_f64` whoever ran which chunk (the assistant from the start, late, or never,
 * one worker or two, two calls at once) and match known spectra to the tolerance of
 * `kernel_eigen_test.ts`.
 */

import {
  deepStrictEqual as assertEquals,
  ok as assert,
  rejects as assertRejects,
} from "node:assert";
import { InvalidDataError } from "../core/errors.ts";
import { eigenvaluesInPlace } from "../wasm/eigen.ts";
import { type Kernels, loadKernels } from "../wasm/loader.ts";
import { WorkerPool } from "../wasm/pool.ts";
import { STATUS } from "../wasm/_status.ts";
import { randomF64 } from "../synth/uniform.ts";
import { gramColumns64 } from "./_helpers.ts";
import { withSpectrum } from "./_eigen_reference.ts";

const kernels: Kernels = await loadKernels();
const ex = kernels.exports;
/** The sanitizers cannot see a pool's workers end; each test closes the pools it opens. */
const opts = { sanitizeOps: false, sanitizeResources: false };

/** Values of `prism_eigvalsh_f64` (one thread) on a copy of `a`, or its status when not 0. */
function oneThread(a: Float64Array, n: number): Float64Array | number {
  const [pa, pv] = [kernels.alloc(n * n * 8), kernels.alloc(n * 8)];
  const ps = kernels.alloc(ex.prism_eigvalsh_f64_scratch_len(n) * 8);
  try {
    kernels.f64(pa, n * n).set(a);
    const status = ex.prism_eigvalsh_f64(pa, n, pv, ps);
    return status === 0 ? kernels.f64(pv, n).slice() : status;
  } finally {
    for (const p of [pa, pv, ps]) kernels.free(p);
  }
}

/** `eigenvaluesInPlace` on a copy of `a`, asking `pool`'s worker to assist at every order. */
async function twoThreads(a: Float64Array, n: number, pool: WorkerPool): Promise<Float64Array> {
  const pa = kernels.alloc(n * n * 8);
  try {
    kernels.f64(pa, n * n).set(a);
    return await eigenvaluesInPlace(kernels, pa, n, { pool, parallelFrom: 1 });
  } finally {
    kernels.free(pa);
  }
}

/** The zeroed shared state of one two-thread reduction, in kernel memory (free it). */
function newTeam(): number {
  const words = Math.ceil(ex.prism_tridiag_team_bytes() / 8);
  const team = kernels.alloc(words * 8);
  kernels.f64(team, words).fill(0);
  return team;
}

/**
 * The kernels alone: an assistant job started (and seen spinning) before the leader, so it
 * surely takes part; returns the values and the chunks the assistant ran.
 */
async function withEagerAssistant(a: Float64Array, n: number, pool: WorkerPool) {
  const [pa, pv, team] = [kernels.alloc(n * n * 8), kernels.alloc(n * 8), newTeam()];
  const ps = kernels.alloc(ex.prism_eigvalsh_f64_scratch_len(n) * 8);
  try {
    kernels.f64(pa, n * n).set(a);
    const job = pool.run("eigen_tridiag_assist", { team });
    await settled(() => ex.prism_tridiag_team_joined(team) !== 0);
    const status = ex.prism_eigvalsh_team_f64(pa, n, pv, ps, team);
    await job;
    return {
      status,
      values: kernels.f64(pv, n).slice(),
      assisted: ex.prism_tridiag_team_joined(team) - 1,
    };
  } finally {
    for (const p of [pa, pv, ps, team]) kernels.free(p);
  }
}

/** Waits (up to 5 s) until `done()` holds. */
async function settled(done: () => boolean): Promise<void> {
  for (let t = 0; t < 5000 && !done(); t += 5) await new Promise((r) => setTimeout(r, 5));
}

/** A seeded dense symmetric matrix with entries in [-1, 1). */
function randomSymmetric(n: number, seed: number): Float64Array {
  const x = randomF64(n * n, seed, { lo: -1, hi: 1 });
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) x[i * n + j] = x[j * n + i];
  return x;
}

/** The spectrum check of `kernel_eigen_test.ts`: each value within 1e-12·n·max|λ|. */
function checkSpectrum(got: Float64Array, want: ArrayLike<number>) {
  const n = want.length;
  const sorted = Float64Array.from(want).sort().reverse();
  const tol = 1e-12 * n * Math.max(...Array.from(sorted, Math.abs));
  got.forEach((x, k) => {
    assert(Math.abs(x - sorted[k]) <= tol, `λ[${k}] = ${x}, want ${sorted[k]} (tol ${tol})`);
  });
}

/** Runs `body` with a fresh pool of `size` workers, closed afterwards. */
async function withPool(size: number, body: (pool: WorkerPool) => Promise<void>): Promise<void> {
  const pool = new WorkerPool({ size });
  try {
    await body(pool);
  } finally {
    pool.close();
  }
}

/** Bit equality, with the first differing index in the message. */
function assertBits(got: Float64Array, want: Float64Array | number, label: string) {
  assert(want instanceof Float64Array, `${label}: the one-thread kernel failed with ${want}`);
  const k = got.findIndex((x, i) => !Object.is(x, want[i]));
  assert(k < 0, `${label}: λ[${k}] = ${got[k]} differs from one thread's ${want[k]}`);
}

Deno.test(
  "eigenvaluesInPlace() on two threads: known spectra, bit-identical to one thread",
  opts,
  async () => {
    await withPool(2, async (pool) => {
      for (const n of [1, 2, 3, 257, 509, 1024]) {
        const lambda = randomF64(n, n, { lo: -10, hi: 10 });
        const a = withSpectrum(lambda, 3000 + n);
        const got = await twoThreads(a, n, pool);
        checkSpectrum(got, lambda);
        assertBits(got, oneThread(a, n), `n = ${n}`);
      }
    });
  },
);

Deno.test(
  "the assistant runs chunks, and its results are the one thread's bits",
  opts,
  async () => {
    await withPool(1, async (pool) => {
      for (const n of [509, 1024]) {
        const a = randomSymmetric(n, n);
        const want = oneThread(a, n);
        // On a loaded machine the assistant may get no core and give up (after 64 steps it
        // missed, so the orders are large enough for its steps to outlast short stalls): tries.
        let assisted = 0;
        for (let attempt = 0; attempt < 20 && assisted === 0; attempt++) {
          const got = await withEagerAssistant(a, n, pool);
          assertEquals(got.status, 0);
          assertBits(got.values, want, `n = ${n}, eager assistant`);
          assisted = got.assisted;
        }
        assert(assisted > 0, `n = ${n}: the assistant ran no chunk in 20 tries`);
      }
    });
  },
);

Deno.test(
  "eigenvaluesInPlace() on two threads: clusters, rank deficiency, offsets, scales",
  opts,
  async () => {
    await withPool(2, async (pool) => {
      const n = 301;
      const cases: [string, Float64Array][] = [
        [
          "three clusters",
          Float64Array.from({ length: n }, (_, i) => (i < 150 ? 2 : i < 280 ? -1 : 7)),
        ],
        ["offset 1e6", Float64Array.from(randomF64(n, 4, { lo: -10, hi: 10 }), (x) => 1e6 + x)],
        ["scale 1e200", Float64Array.from(randomF64(n, 5, { lo: -10, hi: 10 }), (x) => x * 1e200)],
        [
          "scale 1e-200",
          Float64Array.from(randomF64(n, 6, { lo: -10, hi: 10 }), (x) => x * 1e-200),
        ],
      ];
      for (const [label, lambda] of cases) {
        const a = withSpectrum(lambda, 7);
        const got = await twoThreads(a, n, pool);
        checkSpectrum(got, lambda);
        assertBits(got, oneThread(a, n), label);
      }
      // Rank 5 of 300 (a Gram matrix): 295 eigenvalues at zero within the tolerance.
      const g = gramColumns64(randomF64(5 * 300, 11), 5, 300);
      const rank5 = await twoThreads(g, 300, pool);
      const tol = 1e-12 * 300 * rank5[0];
      for (let i = 5; i < 300; i++) assert(Math.abs(rank5[i]) <= tol, `λ[${i}] = ${rank5[i]}`);
      assert(rank5[4] > 1e-3, `λ[4] = ${rank5[4]} should be clearly positive`);
      assertBits(rank5, oneThread(g, 300), "rank 5");
    });
  },
);

Deno.test(
  "eigenvaluesInPlace() on two threads reports NaN and Infinity as before",
  opts,
  async () => {
    await withPool(2, async (pool) => {
      // Both workers started first: each takes its stack from kernel memory.
      const sums = () => pool.run("column_sums", { data: new Float32Array(4), rows: 2, cols: 2 });
      await Promise.all([sums(), sums()]);
      const before = kernels.memory().inUseBytes;
      for (const bad of [NaN, Infinity, -Infinity]) {
        const a = randomSymmetric(300, 8);
        a[17 * 300 + 250] = bad;
        assertEquals(oneThread(a, 300), STATUS.NON_FINITE);
        await assertRejects(() => twoThreads(a, 300, pool), InvalidDataError);
      }
      // An assistant that had not started keeps its shared state until its job ends.
      await settled(() => kernels.memory().inUseBytes === before);
      assertEquals(kernels.memory().inUseBytes, before);
    });
  },
);

Deno.test(
  "eigenvaluesInPlace() with the pool's only worker busy: the leader finishes alone",
  opts,
  async () => {
    const pool = new WorkerPool({ size: 1 });
    // Occupy the worker: an assistant on a team that nobody leads spins until it is closed.
    const blocker = newTeam();
    const busy = pool.run("eigen_tridiag_assist", { team: blocker });
    try {
      await settled(() => ex.prism_tridiag_team_joined(blocker) !== 0);
      const before = kernels.memory().inUseBytes;
      const a = randomSymmetric(509, 9);
      const got = await twoThreads(a, 509, pool);
      assertBits(got, oneThread(a, 509), "busy worker");
      // Released, the worker runs the late assistant, which finds the work done and returns;
      // its shared state is freed then.
      ex.prism_tridiag_team_close(blocker);
      await busy;
      await pool.run("eigen_tridiag_assist", { team: blocker });
      assertEquals(kernels.memory().inUseBytes, before);
    } finally {
      ex.prism_tridiag_team_close(blocker);
      await busy.catch(() => {});
      kernels.free(blocker);
      pool.close();
    }
  },
);

Deno.test(
  "two concurrent eigenvaluesInPlace() calls on pools of 2 and 1: no deadlock, same bits",
  opts,
  async () => {
    for (const size of [2, 1]) {
      await withPool(size, async (pool) => {
        const [a, b] = [randomSymmetric(400, 12), randomSymmetric(509, 13)];
        const [ga, gb] = await Promise.all([twoThreads(a, 400, pool), twoThreads(b, 509, pool)]);
        assertBits(ga, oneThread(a, 400), `pool of ${size}, first call`);
        assertBits(gb, oneThread(b, 509), `pool of ${size}, second call`);
      });
    }
  },
);

Deno.test("an assistant that starts after the leader is done returns at once", opts, async () => {
  const pool = new WorkerPool({ size: 1 });
  const n = 300;
  const [pa, pv, team] = [kernels.alloc(n * n * 8), kernels.alloc(n * 8), newTeam()];
  const ps = kernels.alloc(ex.prism_eigvalsh_f64_scratch_len(n) * 8);
  try {
    const a = randomSymmetric(n, 14);
    kernels.f64(pa, n * n).set(a);
    assertEquals(ex.prism_eigvalsh_team_f64(pa, n, pv, ps, team), 0);
    assertBits(kernels.f64(pv, n).slice(), oneThread(a, n), "no assistant");
    await pool.run("eigen_tridiag_assist", { team });
    assertEquals(ex.prism_tridiag_team_joined(team), 1);
  } finally {
    for (const p of [pa, pv, ps, team]) kernels.free(p);
    pool.close();
  }
});
