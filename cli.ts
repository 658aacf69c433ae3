/**
 * prism's command line. `deno run -A cli.ts` with no arguments runs the tour: every operation
 * on built-in synthetic data, with timings and where the results were written.
 * `deno run -A cli.ts --help` lists the other commands.
 *
 * @module
 */

import { type Command, UsageError } from "./cli/_command.ts";
import { commands } from "./cli/commands.ts";
import { PrismError } from "./core/errors.ts";

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
 * @returns 0 on success, 1 when the work failed, 2 for a usage mistake.
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
  try {
    return await command.run(commandArgs);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`prism ${name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    // Named prism errors, shape and range errors, and file-system errors (a missing input, an
    // unwritable output) are the user's to fix: one clear line, no stack trace.
    const fileError = Object.values(Deno.errors).some((kind) => error instanceof kind);
    if (
      error instanceof PrismError || error instanceof TypeError || error instanceof RangeError ||
      fileError
    ) {
      const { name: kind, message } = error as Error;
      console.error(`prism ${name}: ${kind}: ${message}`);
      return 1;
    }
    throw error;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
