/**
 * A pool of module workers, each with its own instance of the kernel module, running named jobs
 * (`./jobs.ts`).
 *
 * Every worker's instance runs over the one shared memory of the main thread's runtime
 * (`loadKernels()`), so a job can be handed pointers to data that already lives there and the
 * workers compute on it in place, on all cores, without a copy. Jobs may also take plain arrays,
 * handed over by transfer.
 *
 * ## When a worker ends or runs out of memory
 *
 * - **A worker that ends mid-job** (`self.close()`, `Deno.exit()`, an uncaught error) fails that
 *   call with a `KernelError` naming the worker, the job and the run, and is replaced, so the
 *   next call runs. `self.close()` and `Deno.exit()` send no message and no error event; the pool
 *   sees them through a Web Lock the worker holds for its whole life (`./_protocol.ts`). A call
 *   handed to a worker in the moment it ends fails the same way: retry it. Where the runtime has
 *   no Web Locks (`navigator.locks`), such an end goes unseen and its call stays pending.
 * - **Out of JavaScript heap inside a worker ends the whole process.** Deno (2.9) gives web
 *   workers no heap limit of their own: `--v8-flags=--max-old-space-size` applies to every
 *   isolate, and a worker reaching it aborts the process ("Fatal JavaScript out of memory",
 *   exit 133 on Linux), as does a worker that takes all the machine's memory; the worker option
 *   `deno.memoryMb` is not in 2.9.6, and `node:worker_threads` `resourceLimits` leaves the
 *   worker stalled with no event. So the pool bounds what a job can ask for instead, against
 *   the memory budget (`PRISM_MEMORY_BUDGET`, `core/budget.ts`), before anything is copied or
 *   grown: the payload (checked here), the result (checked in the worker before it is posted)
 *   and every kernel memory request (`Kernels.alloc`) fail their call with `OutOfMemoryError`.
 *   prism's own jobs keep their data in kernel memory or in `ArrayBuffer`s, whose allocation
 *   failures are ordinary errors; a job that builds huge JavaScript arrays is not contained.
 * - **Kernel memory never shrinks.** A WebAssembly memory only grows, and all workers share the
 *   main thread's, so replacing a worker returns none of it: the budget check counts the bytes
 *   in use before a request grows it. The memory is returned only with the whole process.
 *
 * @module
 */

import { AbortedError, BackendUnavailableError, KernelError } from "../core/errors.ts";
import { checkBudget } from "../core/budget.ts";
import { checkInteger } from "../core/validate.ts";
import { type Kernels, loadKernels } from "./loader.ts";
import { type FromWorker, lifeLocks, messageBytes, type ToWorker } from "./_protocol.ts";
import { fromWire } from "./_wire.ts";
import { findJob } from "./job_registry.ts";
import { isDeno, sharedMemoryWorkers } from "../core/runtime.ts";

/** Options of {@linkcode WorkerPool.run}. */
export interface RunJobOptions {
  /** Buffers inside the payload to move to the worker instead of copying (unusable here afterwards). */
  transfer?: Transferable[];
}

/** How a {@linkcode WorkerPool} is set up. */
export interface PoolOptions {
  /** Number of workers; default `navigator.hardwareConcurrency`. */
  size?: number;
  /**
   * Milliseconds a fully idle pool waits before terminating its workers (they are started again
   * on the next call); default 250. The timer does not keep the process alive, so a program that
   * never calls `close()` still exits.
   */
  idleMs?: number;
  /** The kernel module; default `prism.wasm` beside the loader. */
  wasmUrl?: string | URL;
  /** The worker script; default `./worker.ts`. A custom one imports it and registers more jobs. */
  workerUrl?: string | URL;
}

interface Task {
  readonly job: string;
  readonly payload: unknown;
  readonly transfer: Transferable[];
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  /** The worker's name (`prism-pool-3`), for messages. */
  readonly name: string;
  /** The base of this worker's stack in the shared memory. */
  readonly stack: number;
  /** The Web Lock the worker holds while it lives (see `ToWorker`'s `init`). */
  readonly lock: string;
  task?: Task;
  /** The `id` of the run message `task` went out with. */
  taskId?: number;
  /** Stops waiting for the worker's life lock; set once the worker holds it. */
  unwatch?: () => void;
}

/**
 * Stack bytes per worker, matching the linker's `-zstack-size` for the first instance. Kernels
 * keep their work in caller-provided buffers, so they need little stack.
 */
const WORKER_STACK_BYTES = 1 << 20;

let workerCount = 0;

/**
 * Runs jobs on a fixed number of module workers. Workers start on demand, are replaced when one
 * traps, dies or ends itself, and are terminated after a short idle delay.
 *
 * A worker that runs out of JavaScript heap ends the whole process (Deno 2.9 cannot contain
 * it): the pool instead refuses, with `OutOfMemoryError`, a payload, result or kernel memory
 * request over the memory budget (`PRISM_MEMORY_BUDGET`, default 4 GiB) before it is made.
 * Kernel memory never shrinks while the process lives. The module documentation has the details.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "./pool.ts";
 * import assert from "node:assert";
 * const pool = new WorkerPool({ size: 1 });
 * const data = new Float32Array([1, 2, 3, 4]);
 * const sums = await pool.run<Float64Array>("column_sums", { data, rows: 2, cols: 2 }, {
 *   transfer: [data.buffer],
 * });
 * assert(sums[0] === 4 && sums[1] === 6);
 * pool.close();
 * ```
 */
export class WorkerPool {
  /** The most workers this pool runs at once. */
  readonly size: number;
  readonly #idleMs: number;
  readonly #wasmUrl?: string | URL;
  readonly #workerUrl: URL;
  readonly #slots: Slot[] = [];
  readonly #queue: Task[] = [];
  #runtime?: Promise<Kernels>;
  /** Stacks for workers inside the shared memory, reused when a worker is replaced. */
  readonly #freeStacks: number[] = [];
  #idleTimer?: ReturnType<typeof setTimeout>;
  #closed = false;
  #nextId = 1;

  /**
   * Creates a pool; its workers start on the first job.
   *
   * @param options Size, idle delay, module and worker script.
   * @throws {TypeError} When `size` or `idleMs` is not a whole number.
   * @throws {RangeError} When `size` is below 1 or above 1024, or `idleMs` is negative.
   */
  constructor(options: PoolOptions = {}) {
    // A page that is not cross-origin isolated cannot share memory with workers: one thread.
    const cores = sharedMemoryWorkers() ? navigator.hardwareConcurrency ?? 1 : 1;
    this.size = checkInteger("size", options.size ?? cores, 1, 1024);
    this.#idleMs = checkInteger("idleMs", options.idleMs ?? 250, 0);
    this.#wasmUrl = options.wasmUrl;
    this.#workerUrl = new URL(options.workerUrl ?? "./worker.ts", import.meta.url);
  }

  /** Whether `close()` was called; a closed pool rejects every call. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs `job` on a free worker (queued while all are busy).
   *
   * @param job The job's name, as registered in `./jobs.ts`.
   * @param payload Its input; structured-cloned, except the buffers in `transfer`.
   * @param options `transfer`: buffers to move to the worker instead of copying.
   * @returns The job's result.
   * @throws {TypeError} When `job` is not a string.
   * @throws {BackendUnavailableError} When the pool was closed.
   * @throws {WasmLoadError} When the kernel module cannot be loaded.
   * @throws {KernelError} When a kernel trapped or the worker ended mid-job (`self.close()`,
   *   `Deno.exit()`, an uncaught error; `status` -1, the message names worker and job), or a
   *   kernel failed; errors the job throws (`TypeError`, `RangeError`, prism's named errors)
   *   arrive as the same class.
   * @throws {OutOfMemoryError} When the payload, the result or a kernel memory request of the
   *   job is above the memory budget (`core/budget.ts`).
   * @throws {AbortedError} When the pool is closed while the job waits or runs.
   */
  async run<T>(job: string, payload: unknown, options: RunJobOptions = {}): Promise<T> {
    const transfer = options.transfer ?? [];
    if (typeof job !== "string") {
      throw new TypeError(`job must be a job name string, got ${typeof job}`);
    }
    if (this.#closed) {
      throw new BackendUnavailableError(
        "wasm",
        "this WorkerPool was closed; create a new one or use defaultPool()",
      );
    }
    checkBudget(
      messageBytes(payload),
      `the payload of pool job "${job}"`,
      "hand the job its data in smaller pieces, or put the data in kernel memory " +
        "(WasmStorage) and pass the job pointers, which are not copied",
    );
    this.#runtime ??= loadKernels({ url: this.#wasmUrl });
    this.#runtime.catch(() => this.#runtime = undefined); // retry the load on the next call
    if (!sharedMemoryWorkers()) return await runInline<T>(await this.#runtime, job, payload);
    this.#cancelIdle();
    const result = new Promise<unknown>((resolve, reject) => {
      this.#queue.push({ job, payload, transfer, resolve, reject });
    });
    try {
      this.#dispatch(await this.#runtime);
    } catch (e) {
      this.#failQueued(e as Error);
      this.#scheduleIdle();
    }
    return await result as T;
  }

  /**
   * Terminates every worker. Jobs still queued or running reject with `AbortedError`.
   *
   * @throws Never.
   */
  close(): void {
    this.#closed = true;
    this.#cancelIdle();
    this.#terminateAll(true);
    this.#failQueued(new AbortedError("a job on the closed WorkerPool"));
  }

  #dispatch(runtime: Kernels): void {
    while (this.#queue.length > 0 && !this.#closed) {
      let slot = this.#slots.find((s) => s.task === undefined);
      if (slot === undefined) {
        if (this.#slots.length >= this.size) return;
        slot = this.#spawn(runtime);
      }
      const task = this.#queue.shift()!;
      slot.task = task;
      slot.taskId = this.#nextId++;
      const message: ToWorker = {
        type: "run",
        id: slot.taskId,
        job: task.job,
        payload: task.payload,
      };
      try {
        slot.worker.postMessage(message, task.transfer);
      } catch (e) {
        // The payload could not be cloned: the caller's fault, the worker is fine.
        slot.task = undefined;
        task.reject(e as Error);
      }
    }
  }

  #spawn(runtime: Kernels): Slot {
    const name = `prism-pool-${++workerCount}`;
    const worker = new Worker(this.#workerUrl, { type: "module", name });
    const stack = this.#freeStacks.pop() ?? runtime.alloc(WORKER_STACK_BYTES);
    const slot: Slot = { worker, name, stack, lock: `prism-pool-life/${crypto.randomUUID()}` };
    worker.postMessage(
      {
        type: "init",
        module: runtime.module,
        file: runtime.file,
        memory: runtime.exports.memory,
        stackTop: stack + WORKER_STACK_BYTES,
        lock: slot.lock,
      } satisfies ToWorker,
    );
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const reply = event.data;
      if (reply.type === "held") {
        this.#watch(slot, runtime);
        return;
      }
      const task = reply.id === slot.taskId ? slot.task : undefined;
      if (task === undefined) return; // a reply to a run this pool already failed
      slot.task = undefined;
      if (reply.ok) task.resolve(reply.result);
      else {
        task.reject(fromWire(reply.error));
        if (reply.fatal) this.#remove(slot);
      }
      this.#afterTask(runtime);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault(); // handled here; without this the error would end the process
      this.#died(slot, runtime, `an uncaught error ended it: ${event.message}`);
    };
    worker.onmessageerror = () => {
      this.#died(slot, runtime, "its reply could not be deserialised");
    };
    this.#slots.push(slot);
    return slot;
  }

  /**
   * Waits for the life lock `slot`'s worker holds: granted only once the worker has ended, which
   * `self.close()` and `Deno.exit()` in a job do without a message or an error event.
   */
  #watch(slot: Slot, runtime: Kernels): void {
    const locks = lifeLocks();
    if (locks === undefined || !this.#slots.includes(slot)) return;
    const stop = new AbortController();
    slot.unwatch = () => stop.abort();
    locks.request(slot.lock, { signal: stop.signal }, () => {
      this.#died(slot, runtime, "it ended itself (self.close(), Deno.exit() or a fatal error)");
    }).catch(() => {}); // aborted: the pool ended the worker itself
  }

  /** Fails the job `slot`'s worker was running, if any, and replaces the worker. */
  #died(slot: Slot, runtime: Kernels, detail: string): void {
    if (!this.#slots.includes(slot)) return; // already removed: one report per worker
    const task = slot.task;
    slot.task = undefined;
    task?.reject(
      new KernelError(
        task.job,
        `pool worker "${slot.name}" ended while running job "${task.job}" (run ${slot.taskId}): ` +
          `${detail}. The pool has replaced the worker, so the next call runs; retry this one, ` +
          `and if it fails again the job itself ends its worker: report it with the input's shape`,
      ),
    );
    this.#remove(slot);
    this.#afterTask(runtime);
  }

  #afterTask(runtime: Kernels): void {
    this.#dispatch(runtime);
    this.#scheduleIdle();
  }

  #remove(slot: Slot): void {
    slot.unwatch?.();
    slot.worker.terminate();
    this.#freeStacks.push(slot.stack);
    const i = this.#slots.indexOf(slot);
    if (i >= 0) this.#slots.splice(i, 1);
  }

  #terminateAll(rejectRunning: boolean): void {
    for (const slot of this.#slots.splice(0)) {
      slot.unwatch?.();
      slot.worker.terminate();
      this.#freeStacks.push(slot.stack);
      if (rejectRunning && slot.task !== undefined) {
        slot.task.reject(new AbortedError(`job "${slot.task.job}" on the closed WorkerPool`));
      }
    }
  }

  #failQueued(error: Error): void {
    for (const task of this.#queue.splice(0)) task.reject(error);
  }

  #scheduleIdle(): void {
    if (this.#closed || this.#idleTimer !== undefined || this.#slots.length === 0) return;
    if (this.#queue.length > 0 || this.#slots.some((s) => s.task !== undefined)) return;
    const timer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#queue.length === 0 && this.#slots.every((s) => s.task === undefined)) {
        this.#terminateAll(false);
      }
    }, this.#idleMs);
    // Idle workers would keep the process alive; this timer must not, so that it can end them.
    // (A page has no process to keep alive, and no `Deno`.)
    if (isDeno()) Deno.unrefTimer(timer);
    this.#idleTimer = timer;
  }

  #cancelIdle(): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}

/** Whether the one-thread fallback was announced (once per page). */
let warnedInline = false;

/**
 * Runs a job on this thread, over the main runtime: the fallback of a page that is not
 * cross-origin isolated, where a shared memory cannot be posted to a worker. The job's module
 * registered it when the host that called `run` was imported.
 */
async function runInline<T>(runtime: Kernels, job: string, payload: unknown): Promise<T> {
  if (!warnedInline) {
    warnedInline = true;
    console.warn(
      "prism: this page is not cross-origin isolated, so its kernels run on one thread; serve " +
        "it with the headers Cross-Origin-Opener-Policy: same-origin and " +
        "Cross-Origin-Embedder-Policy: require-corp to use every core",
    );
  }
  const fn = findJob(job);
  if (fn === undefined) throw new RangeError(`unknown job "${job}": its module was not imported`);
  return (await fn(runtime, payload)).result as T;
}

let shared: WorkerPool | undefined;

/**
 * The pool operations share, sized to the machine. Created on first use; if someone closed it,
 * the next call makes a new one.
 *
 * @returns The shared pool.
 * @throws Never.
 * @example
 * ```ts
 * import { defaultPool } from "./pool.ts";
 * import assert from "node:assert";
 * const pool = defaultPool();
 * assert(pool === defaultPool() && pool.size >= 1);
 * ```
 */
export function defaultPool(): WorkerPool {
  if (shared === undefined || shared.closed) shared = new WorkerPool();
  return shared;
}
