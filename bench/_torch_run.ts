/**
 * One configuration of the PyTorch baseline (`bench/baselines/torch_conv.py`) in a child
 * process, for the reports that print prism beside it.
 *
 * @module
 */

/** What one configuration asks for. */
export interface TorchConfig {
  /** A spec name (`small`, `refiner`). */
  readonly net: string;
  readonly mode: "inference" | "train";
  readonly tile: number;
  readonly batch: number;
  readonly threads: number;
  readonly warmup: number;
  readonly iters: number;
}

/** The script's row in ms and its torch version, or why there is none. */
export type TorchResult =
  | { mean: number; std: number; median: number; min: number; version: string }
  | { skipped: string };

/**
 * Runs `torch_conv.py` for one configuration.
 *
 * @param c The net, mode, tile, batch, thread count and iteration counts.
 * @returns The timings (ms), or `skipped` with the reason (no python3, no torch, an error row,
 *   or another thread count than asked).
 * @throws {SyntaxError} When the script prints something that is not its JSON document.
 * @example
 * ```ts ignore
 * import { runTorch } from "./_torch_run.ts";
 * const r = await runTorch({ net: "small", mode: "inference", tile: 32, batch: 1, threads: 1,
 *   warmup: 1, iters: 2 });
 * console.log("mean" in r ? r.mean : r.skipped);
 * ```
 */
export async function runTorch(c: TorchConfig): Promise<TorchResult> {
  const script = new URL("./baselines/torch_conv.py", import.meta.url).pathname;
  const argv = [script, "--nets", c.net, "--modes", c.mode, "--tiles", `${c.tile}`];
  argv.push("--batches", `${c.batch}`, "--threads", `${c.threads}`);
  argv.push("--warmup", `${c.warmup}`, "--iters", `${c.iters}`);
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("python3", { args: argv, stdout: "piped", stderr: "piped" })
      .output();
  } catch (e) {
    return { skipped: `python3 did not start (${e instanceof Error ? e.message : e})` };
  }
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1);
    return { skipped: `torch_conv.py exited ${out.code}: ${err}` };
  }
  const doc = JSON.parse(new TextDecoder().decode(out.stdout));
  if (doc.skipped) return { skipped: doc.skipped };
  const row = doc.rows[0];
  if (row.error) return { skipped: row.error };
  if (doc.threads !== c.threads) {
    return { skipped: `asked ${c.threads} threads, got ${doc.threads}` };
  }
  return {
    mean: row.mean_ms,
    std: row.std_ms,
    median: row.median_ms,
    min: row.min_ms,
    version: `PyTorch ${doc.torch}`,
  };
}
