/**
 * Work cut into more pieces than there are threads, each piece claimed through an atomic counter
 * in the shared kernel memory: a thread takes the next piece the moment it has finished one.
 *
 * Why not one equal share per worker: the threads do not run at one speed. Measured on the
 * 2-core VM (AMD EPYC, 2026-12-07), the SYRK kernel ran 1.6× slower on one virtual CPU than on
 * the other (the host's sibling thread busy), and a worker started its job 0.2-2 ms after it
 * was posted; hybrid CPUs (performance and efficiency cores) and a second process do the same.
 * With equal shares the whole call waits for the slowest thread; with claimed pieces it does
 * fewer pieces instead.
 *
 * Why the result does not depend on who ran what: every piece writes its own outputs, and the
 * caller adds them in piece order.
 *
 * Input still being copied in: the caller may hand out pieces before their data is in kernel
 * memory and publish them in order as it copies them ({@linkcode postWhileCopying}); a worker that
 * claims a piece not yet published waits for it (`Atomics.wait`, which only workers may do). The
 * copy of the rest then overlaps the kernel on the first pieces. The caller copies one piece per
 * worker before it posts the jobs, and the rest while the workers compute on those: a worker
 * that had to wait would sleep, and on the 2-core VM waking a thread took 0.2-0.3 ms (a posted
 * job to its start, traced), more than copying a 1 MiB piece.
 *
 * @module
 */

import type { KernelArena } from "./arena.ts";
import type { Kernels } from "./kernels.ts";

/**
 * A zeroed 32-bit word in `arena`: a claim counter, or the count of pieces ready.
 *
 * @param arena The call's arena; the counter lives as long as its jobs.
 * @returns The counter's byte address.
 */
export function claimCounter(arena: KernelArena): number {
  return arena.bytes(4, { zero: true });
}

/** Marks the first `count` pieces ready and wakes the threads waiting for one of them. */
function publishPieces(kernels: Kernels, ready: number, count: number): void {
  const word = new Int32Array(kernels.exports.memory.buffer, ready, 1);
  Atomics.store(word, 0, count);
  Atomics.notify(word, 0);
}

/**
 * Runs `copy(piece)` for pieces `from..to` in order, publishing each as ready once copied. If a
 * copy throws, every piece up to `total` is published before the error propagates, so no
 * worker waits forever (the call fails anyway).
 *
 * @param kernels This thread's instance.
 * @param ready The word the claiming workers are given.
 * @param from The first piece to copy; all before it are published already.
 * @param to The piece after the last to copy.
 * @param total How many pieces there are.
 * @param copy Copies one piece's input into kernel memory.
 */
function copyAndPublish(
  kernels: Kernels,
  ready: number,
  [from, to]: [number, number],
  total: number,
  copy: (piece: number) => void,
): void {
  try {
    for (let piece = from; piece < to; piece++) {
      copy(piece);
      publishPieces(kernels, ready, piece + 1);
    }
  } catch (e) {
    publishPieces(kernels, ready, total);
    throw e;
  }
}

/**
 * Posts the jobs that claim `total` pieces while this thread copies their input in: with `ready`
 * (a zeroed word the jobs were given), `head` pieces are copied before `post()` and the rest
 * after it, each published as copied; without, the input is in place and `post()` runs alone.
 *
 * @param kernels This thread's instance.
 * @param ready The ready word, or undefined when nothing is to be copied.
 * @param total How many pieces there are.
 * @param head How many to copy before the jobs are posted (one per worker).
 * @param copy Copies one piece's input into kernel memory.
 * @param post Posts the jobs; called once.
 * @returns What `post()` returned, once the pool has posted the jobs and the copy is done.
 */
export async function postWhileCopying<T>(
  kernels: Kernels,
  ready: number | undefined,
  total: number,
  head: number,
  copy: (piece: number) => void,
  post: () => T,
): Promise<T> {
  const first = ready === undefined ? 0 : Math.min(head, total);
  if (ready !== undefined) copyAndPublish(kernels, ready, [0, first], total, copy);
  const jobs = post();
  // The pool posts a job after a microtask: let it, before this thread is busy again.
  await Promise.resolve();
  if (ready !== undefined) copyAndPublish(kernels, ready, [first, total], total, copy);
  return jobs;
}

/**
 * Runs `work(piece)` for every piece this thread claims from `counter`, until all `pieces` are
 * claimed (by this thread or others).
 *
 * @param kernels This thread's instance (its memory is the shared one).
 * @param counter The counter from {@linkcode claimCounter}.
 * @param pieces How many pieces there are.
 * @param work Runs one piece.
 * @param ready Where the count of ready pieces is published ({@linkcode postWhileCopying}), when
 *   pieces may be claimed before their input is in place; only a worker may pass it (it waits).
 * @returns How many pieces this thread ran.
 * @example
 * ```ts
 * import { claimCounter, claimPieces } from "./_claims.ts";
 * import { KernelArena } from "./arena.ts";
 * import { loadKernels } from "./loader.ts";
 * import assert from "node:assert";
 * using arena = new KernelArena(await loadKernels());
 * const counter = claimCounter(arena);
 * const ran: number[] = [];
 * assert.strictEqual(claimPieces(arena.kernels, counter, 3, (p) => ran.push(p)), 3);
 * assert.deepStrictEqual(ran, [0, 1, 2]);
 * assert.strictEqual(claimPieces(arena.kernels, counter, 3, () => {}), 0); // all taken
 * ```
 */
export function claimPieces(
  kernels: Kernels,
  counter: number,
  pieces: number,
  work: (piece: number) => void,
  ready?: number,
): number {
  // A growing shared memory keeps its old buffer valid, so one view serves the whole loop.
  const buffer = kernels.exports.memory.buffer;
  const word = new Int32Array(buffer, counter, 1);
  const published = ready === undefined ? undefined : new Int32Array(buffer, ready, 1);
  let ran = 0;
  for (let piece = Atomics.add(word, 0, 1); piece < pieces; piece = Atomics.add(word, 0, 1)) {
    if (published !== undefined) {
      for (let n = Atomics.load(published, 0); n <= piece; n = Atomics.load(published, 0)) {
        Atomics.wait(published, 0, n);
      }
    }
    work(piece);
    ran++;
  }
  return ran;
}
