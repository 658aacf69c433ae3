/**
 * Running the CLI from tests: in-process through `main` with `console.log` / `console.error`
 * captured (fast), or as a subprocess the way a user runs it (real stdout and stderr).
 *
 * @module
 */

import { main } from "../cli.ts";

/** What a CLI run printed and its exit code. */
export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/**
 * Runs `main(args)` with console.log / console.error captured.
 *
 * @param args The words after `cli.ts`.
 * @returns The exit code and the captured text (lines joined with `\n`).
 */
export async function runMain(args: string[]): Promise<CliResult> {
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

const CLI = new URL("../cli.ts", import.meta.url).pathname;

/**
 * Runs `deno run -A cli.ts ...args` in a subprocess.
 *
 * @param args The words after `cli.ts`.
 * @param env Extra environment variables.
 * @param cwd The working directory (default: this process's).
 * @returns The exit code, stdout and stderr.
 */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
): Promise<CliResult> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    cwd,
    env: { XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp", NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const t = new TextDecoder();
  return { code: r.code, out: t.decode(r.stdout), err: t.decode(r.stderr) };
}
