/**
 * Helpers of the untrusted-input tests (issue 10): `.npy` bytes with any header text, and a
 * memory budget set for the length of a call.
 *
 * @module
 */

/**
 * `.npy` bytes with any header text (even one numpy would never write) and `data` after it.
 *
 * @param dict The header's dictionary text.
 * @param data The bytes after the header.
 * @param version The format's major version: 1 (2-byte header length), else 4 bytes.
 * @returns The file's bytes.
 */
export function npyWithHeader(
  dict: string,
  data: Uint8Array = new Uint8Array(0),
  version = 1,
): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  const length = Math.ceil((prefix + dict.length + 1) / 64) * 64 - prefix;
  const text = new TextEncoder().encode(dict.padEnd(length - 1, " ") + "\n");
  const out = new Uint8Array(prefix + length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, length, true);
  else view.setUint32(8, length, true);
  out.set(text, prefix);
  out.set(data, prefix + length);
  return out;
}

/**
 * Runs `fn` with `PRISM_MEMORY_BUDGET` set to `budget`, restoring it afterwards.
 *
 * @param budget The budget, e.g. `"16K"`.
 * @param fn The test body.
 */
export async function withBudget(budget: string, fn: () => Promise<void>): Promise<void> {
  const before = Deno.env.get("PRISM_MEMORY_BUDGET");
  Deno.env.set("PRISM_MEMORY_BUDGET", budget);
  try {
    await fn();
  } finally {
    if (before === undefined) Deno.env.delete("PRISM_MEMORY_BUDGET");
    else Deno.env.set("PRISM_MEMORY_BUDGET", before);
  }
}
