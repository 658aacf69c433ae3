/**
 * The memory budget: how many bytes one read or one kernel allocation may ask for, decided before
 * any work starts, so that a tiny file declaring an enormous shape fails at once with advice
 * instead of growing the process or hanging. Readers and hosts call {@linkcode checkBudget} with
 * the bytes they are about to request.
 *
 * The budget is `PRISM_MEMORY_BUDGET` (bytes, or with a `K`, `M`, `G` suffix) when set, else 4 GiB
 * (the most a WebAssembly memory can address).
 *
 * @module
 */

import { OutOfMemoryError } from "./errors.ts";

/** The default budget: 4 GiB, WebAssembly's 32-bit address space. */
export const DEFAULT_MEMORY_BUDGET = 4 * 2 ** 30;

const UNITS: Record<string, number> = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 };

/**
 * The budget in bytes: `PRISM_MEMORY_BUDGET` when set and readable without a permission prompt,
 * else {@linkcode DEFAULT_MEMORY_BUDGET}.
 *
 * @returns A positive number of bytes.
 * @throws {RangeError} When `PRISM_MEMORY_BUDGET` is set but is not a positive size such as
 *   `512M` or `2G`.
 * @example
 * ```ts
 * import { memoryBudget } from "./budget.ts";
 * import assert from "node:assert";
 * assert(memoryBudget() > 0);
 * ```
 */
export function memoryBudget(): number {
  const raw = budgetVariable();
  if (raw === undefined || raw === "") return DEFAULT_MEMORY_BUDGET;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMG]?)i?B?\s*$/i.exec(raw);
  const bytes = m === null ? NaN : Number(m[1]) * UNITS[m[2].toUpperCase()];
  if (!(bytes >= 1) || !Number.isFinite(bytes)) {
    throw new RangeError(
      `PRISM_MEMORY_BUDGET must be a positive size such as 512M or 2G, got ${JSON.stringify(raw)}`,
    );
  }
  return Math.floor(bytes);
}

/** Whether the variable may be read without a permission prompt; asked once. */
let envReadable: boolean | undefined;

/** `PRISM_MEMORY_BUDGET`, or undefined where it is unset or may not be read (never prompts). */
function budgetVariable(): string | undefined {
  if (typeof Deno === "undefined") return undefined; // a browser: the default holds
  envReadable ??= Deno.permissions.querySync?.({
    name: "env",
    variable: "PRISM_MEMORY_BUDGET",
  }).state === "granted";
  return envReadable ? Deno.env.get("PRISM_MEMORY_BUDGET") : undefined;
}

/**
 * Refuses a request of `bytes` above the budget before anything is allocated or read.
 *
 * @param bytes The bytes about to be requested (a declared size: may be huge or not finite).
 * @param what What would be allocated, for the message: `"reading cube.h5 dataset /cube"`.
 * @param advice What to do instead: `"stream it in row chunks (openHdf5Dataset)"`.
 * @throws {OutOfMemoryError} When `bytes` is above the budget (or not finite); the message names
 *   the request, the budget, `PRISM_MEMORY_BUDGET` and the advice.
 * @example
 * ```ts
 * import { checkBudget } from "./budget.ts";
 * import { OutOfMemoryError } from "./errors.ts";
 * import assert from "node:assert";
 * checkBudget(1024, "a small read", "nothing");
 * assert.throws(() => checkBudget(2 ** 60, "a huge read", "read fewer rows"), OutOfMemoryError);
 * ```
 */
export function checkBudget(bytes: number, what: string, advice: string): void {
  const budget = memoryBudget();
  if (bytes <= budget) return;
  throw new OutOfMemoryError(
    `${what} needs ${formatBytes(bytes)}, over the memory budget of ${formatBytes(budget)}; ` +
      `${advice} (or raise PRISM_MEMORY_BUDGET if the machine has the memory)`,
  );
}

/**
 * Formats a byte count with a binary unit, e.g. `"128 MiB"` or `"3.00 GiB"`.
 *
 * @param bytes The count.
 * @returns The text.
 * @example
 * ```ts
 * import { formatBytes } from "./budget.ts";
 * import assert from "node:assert";
 * assert.strictEqual(formatBytes(3 * 2 ** 30), "3.00 GiB");
 * ```
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return "an unbounded size";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${units[unit]}`;
}
