/**
 * Runs `cli.ts` in-process (no subprocess, no second type check) with its console captured.
 *
 * @module
 */

import { main } from "../cli.ts";

/**
 * Runs the CLI with console.log / console.error captured.
 *
 * @param args The command line after `cli.ts`.
 * @returns The exit code and what was printed on each stream.
 */
export async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    return { code: await main(args), out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}
