/**
 * The named errors of prism: the few failures a caller may want to branch on.
 *
 * Wrong types and shapes throw the built-in `TypeError`, out-of-range values
 * `RangeError`. Every message says what failed and what to do about it.
 *
 * @module
 */

/**
 * Base class of prism's named errors, so `catch (e) { if (e instanceof PrismError) … }`
 * separates them from programming errors.
 *
 * @example
 * ```ts
 * import { PrismError, BackendUnavailableError } from "./errors.ts";
 * import assert from "node:assert";
 * const e = new BackendUnavailableError("webgpu", "no adapter was found");
 * assert(e instanceof PrismError);
 * ```
 */
export class PrismError extends Error {
  /**
   * Creates the error; its message is built from the arguments below.
   *
   * @param message What failed and what to do about it.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A backend (WebGPU, the WASM module, the worker pool) cannot be used on this machine.
 *
 * @example
 * ```ts
 * import { BackendUnavailableError } from "./errors.ts";
 * import assert from "node:assert";
 * const e = new BackendUnavailableError("webgpu", "navigator.gpu is undefined");
 * assert(e.backend === "webgpu");
 * assert(e.message.includes("navigator.gpu"));
 * ```
 */
export class BackendUnavailableError extends PrismError {
  /** The backend that was asked for. */
  readonly backend: string;
  /**
   * Creates the error; its message is built from the arguments below.
   *
   * @param backend The backend that was asked for (`"webgpu"`, `"wasm"`).
   * @param reason What was looked for and not found.
   * @param options Standard error options (`cause`).
   */
  constructor(backend: string, reason: string, options?: ErrorOptions) {
    super(
      `The ${backend} backend is unavailable: ${reason}. ` +
        `Use backend "auto" or "wasm", or run \`deno run -A cli.ts info\` to see what was found.`,
      options,
    );
    this.backend = backend;
  }
}

/**
 * The WebAssembly module could not be loaded, or it speaks another ABI version than this loader.
 *
 * @example
 * ```ts
 * import { WasmLoadError } from "./errors.ts";
 * import assert from "node:assert";
 * const e = new WasmLoadError("wasm/prism.wasm", "ABI version 2, loader expects 1");
 * assert(e.file === "wasm/prism.wasm");
 * ```
 */
export class WasmLoadError extends PrismError {
  /** The file or URL of the module. */
  readonly file: string;
  /**
   * Creates the error; its message is built from the arguments below.
   *
   * @param file The file or URL of the module.
   * @param reason Why it could not be used.
   * @param options Standard error options (`cause`).
   */
  constructor(file: string, reason: string, options?: ErrorOptions) {
    super(`Cannot load the kernel module ${file}: ${reason}`, options);
    this.file = file;
  }
}

/**
 * A kernel, the WASM heap or a GPU allocation ran out of memory.
 *
 * @example
 * ```ts
 * import { OutOfMemoryError } from "./errors.ts";
 * import assert from "node:assert";
 * const e = new OutOfMemoryError("allocating 8 GiB in WASM memory (limit 4 GiB); stream the input in chunks");
 * assert(e.message.startsWith("Out of memory"));
 * ```
 */
export class OutOfMemoryError extends PrismError {
  /**
   * Creates the error; its message is built from the arguments below.
   *
   * @param detail What was being allocated and what to do instead.
   * @param options Standard error options (`cause`).
   */
  constructor(detail: string, options?: ErrorOptions) {
    super(`Out of memory: ${detail}`, options);
  }
}

/**
 * A matrix that had to be inverted or factored is singular and no regularisation was allowed.
 *
 * @example
 * ```ts
 * import { SingularMatrixError } from "./errors.ts";
 * import assert from "node:assert";
 * const e = new SingularMatrixError("covariance has rank 3 of 10; pass eps > 0");
 * assert(e.message.includes("rank 3"));
 * ```
 */
export class SingularMatrixError extends PrismError {
  /**
   * Creates the error; its message is built from the arguments below.
   *
   * @param detail Which matrix, its rank, and what to do.
   * @param options Standard error options (`cause`).
   */
  constructor(detail: string, options?: ErrorOptions) {
    super(`Singular matrix: ${detail}`, options);
  }
}

/**
 * The data itself is invalid: NaN or infinity, a corrupt or truncated file, an unsupported format.
 * `position` names the first bad element when there is one.
 *
 * @example
 * ```ts
 * import { InvalidDataError } from "./errors.ts";
 * import assert from "node:assert";
 * const e = new InvalidDataError("NaN at pixel 12, band 3", { position: { row: 12, col: 3 } });
 * assert(e.position?.row === 12);
 * ```
 */
export class InvalidDataError extends PrismError {
  /** Where the first bad element is, when known. */
  readonly position?: Readonly<Record<string, number | string>>;
  /**
   * Creates the error; its message is built from the arguments below.
   *
   * @param detail What is wrong, where, and what to do.
   * @param options `position` of the first bad element, and `cause`.
   */
  constructor(
    detail: string,
    options?: ErrorOptions & { position?: Record<string, number | string> },
  ) {
    super(detail, options);
    this.position = options?.position;
  }
}

/**
 * A kernel reported a failure status that is none of the named cases above, or a worker died.
 *
 * @example
 * ```ts
 * import { KernelError } from "./errors.ts";
 * import assert from "node:assert";
 * const e = new KernelError("prism_syrk_f32", "invalid argument", { status: 1 });
 * assert(e.status === 1 && e.kernel === "prism_syrk_f32");
 * ```
 */
export class KernelError extends PrismError {
  /** The kernel (export or GPU program) that failed. */
  readonly kernel: string;
  /** The status code it returned (-1 when none: a worker crash, a GPU validation error). */
  readonly status: number;
  /**
   * Creates the error; its message is built from the arguments below.
   *
   * @param kernel The kernel that failed.
   * @param detail What the status means.
   * @param options `status`: its status code (default -1: none); standard error options
   *   (`cause`).
   */
  constructor(kernel: string, detail: string, options?: ErrorOptions & { status?: number }) {
    const status = options?.status ?? -1;
    super(`Kernel ${kernel} failed (status ${status}): ${detail}`, options);
    this.kernel = kernel;
    this.status = status;
  }
}

/**
 * The work was cancelled through an `AbortSignal`.
 *
 * @example
 * ```ts
 * import { AbortedError } from "./errors.ts";
 * import assert from "node:assert";
 * assert(new AbortedError("covariance").message.includes("covariance"));
 * ```
 */
export class AbortedError extends PrismError {
  /**
   * Creates the error; its message is built from the arguments below.
   *
   * @param what The operation that was cancelled.
   * @param options Standard error options (`cause`: the signal's reason).
   */
  constructor(what: string, options?: ErrorOptions) {
    super(`${what} was aborted`, options);
  }
}
