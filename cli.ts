/**
 * prism's command line. `deno run -A cli.ts` with no arguments runs the tour: every operation
 * on built-in synthetic data, with timings and where the results were written.
 * `deno run -A cli.ts --help` lists the other commands.
 *
 * @module
 */

import { type Command, describeFailure } from "./cli/_command.ts";
import { commands } from "./cli/commands.ts";
import { handleInterrupts } from "./cli/_signals.ts";

function helpText(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "prism: native-speed numeric kernels for Deno (WASM SIMD and WebGPU)",
    "",
    "usage: deno run -A cli.ts [command] [options]",
    "",
    "With no command, runs the tour (same as `tour`). Commands:",
    ...lines,
    "",
    "`deno run -A cli.ts <command> --help` shows a command's options.",
  ].join("\n");
}

/**
 * Runs the command line on `args` and resolves to the exit code.
 *
 * @param args The arguments after `cli.ts`.
 * @returns 0 on success, 1 when the work failed, 2 for a usage mistake. Every failure is printed
 *   as `prism <command>: <Kind>: <message>` (the stack only with `PRISM_DEBUG=1`), never thrown.
 *   On SIGINT or SIGTERM while a command runs, its unfinished temporary files are removed, it
 *   says what it kept and the process exits with 130 or 143.
 */
export async function main(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  if (first === "--help" || first === "-h" || first === "help") {
    console.log(helpText());
    return 0;
  }
  const name = first === undefined || first.startsWith("-") ? "tour" : first;
  const commandArgs = first === undefined || first.startsWith("-") ? args : rest;
  const command: Command | undefined = commands.find((c) => c.name === name);
  if (command === undefined) {
    console.error(`prism: unknown command "${name}"\n\n${helpText()}`);
    return 2;
  }
  if (commandArgs.includes("--help") || commandArgs.includes("-h")) {
    console.log(command.usage);
    return 0;
  }
  current = name;
  // Ctrl-C or a kill removes the temporary files of unfinished writes and says what was kept.
  using _signals = handleInterrupts(name);
  try {
    return await command.run(commandArgs);
  } catch (error) {
    return report(name, error, command.usage);
  }
}

/** The command running now, for failures that escape `main` (a stray rejected promise). */
let current = "tour";

/** Prints a failure the one way (`prism <command>: <Kind>: <message>`); returns the exit code. */
function report(command: string, error: unknown, usage?: string): number {
  const { text, code } = describeFailure(command, { error, usage, debug: debugEnabled() });
  console.error(text);
  return code;
}

function debugEnabled(): boolean {
  try {
    return Deno.env.get("PRISM_DEBUG") === "1";
  } catch {
    return false; // No --allow-env: no stacks.
  }
}

if (import.meta.main) {
  // Nothing reaches Deno's "Uncaught" printer: a rejection nobody awaited or an error thrown in
  // a callback is reported like any failure, and the process exits 1.
  const fail = (event: Event, error: unknown) => {
    event.preventDefault();
    Deno.exit(report(current, error));
  };
  globalThis.addEventListener("unhandledrejection", (e) => fail(e, e.reason));
  globalThis.addEventListener("error", (e) => fail(e, e.error));
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (error) {
    code = report(current, error);
  }
  Deno.exit(code);
}
