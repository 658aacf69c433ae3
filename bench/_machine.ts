/**
 * What a benchmark report says about the machine it ran on: the CPU's name (`lscpu`), so every
 * quoted figure names its CPU, and the load average, so a shared machine is visible.
 *
 * @module
 */

/**
 * The CPU's model name as `lscpu` prints it.
 *
 * @returns The name, or `"unknown (no lscpu)"`.
 * @throws Never: a missing `lscpu` gives the fallback name.
 * @example
 * ```ts
 * import { cpuModel } from "./_machine.ts";
 * import assert from "node:assert";
 * assert((await cpuModel()).length > 0);
 * ```
 */
export async function cpuModel(): Promise<string> {
  try {
    const out = await new Deno.Command("lscpu", { stdout: "piped", stderr: "null" }).output();
    const line = new TextDecoder().decode(out.stdout).split("\n").find((l) =>
      l.startsWith("Model name:")
    );
    if (line) return line.split(":")[1].trim();
  } catch { /* no lscpu */ }
  return "unknown (no lscpu)";
}

/**
 * A load average triple for a report line.
 *
 * @param l The 1, 5 and 15 minute averages (`Deno.loadavg()`).
 * @returns `"a, b, c"` with two decimals.
 * @throws Never.
 * @example
 * ```ts
 * import { formatLoad } from "./_machine.ts";
 * import assert from "node:assert";
 * assert(formatLoad([1, 0.5, 0.25]) === "1.00, 0.50, 0.25");
 * ```
 */
export function formatLoad(l: number[]): string {
  return l.map((v) => v.toFixed(2)).join(", ");
}
