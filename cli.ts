/**
 * prism's command line. `deno run -A cli.ts` with no arguments runs the tour: every operation
 * on built-in synthetic data, with timings and where the results were written.
 * `deno run -A cli.ts --help` lists the other commands.
 *
 * @module
 */

import { type Command, describeFailure, UsageError } from "./cli/_command.ts";
import { commands } from "./cli/commands.ts";
import { handleInterrupts } from "./cli/_signals.ts";
import { commandOutput, splitGlobalFlags } from "./cli/_output.ts";
import { didYouMean } from "./cli/_suggest.ts";
import { PRISM } from "./cli/_version.ts";

function helpText(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.flatMap((c) => [
    `  ${c.name.padEnd(width)}  ${c.summary}`,
    `  ${" ".repeat(width)}    e.g. ${c.example}`,
  ]);
  return [
    "prism: native-speed numeric kernels for Deno (WASM SIMD and WebGPU)",
    "",
    "usage: deno run -A cli.ts [command] [options]",
    "",
    "With no command, runs the tour (same as `tour`). Commands:",
    ...lines,
    "",
    "The examples run as written, in this order, in one folder: synth writes the cube.npy the",
    "commands after it read; conv's image.npy is any [h, w, 6] float32 array (the small",
    "network's 6 input channels).",
    "",
    "Every command also takes:",
    "  --json     print one JSON summary on stdout at the end (the report goes to stderr)",
    "  --quiet    print nothing but errors (with --json: only the JSON)",
    "  --version  print prism's version",
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
  const flags = splitGlobalFlags(args);
  const [first, ...rest] = flags.rest;
  if (flags.version) {
    if (flags.json) console.log(JSON.stringify(PRISM));
    else console.log(`prism ${PRISM.version}`);
    return 0;
  }
  if (first === "help" || (flags.help && first === undefined)) {
    console.log(helpText());
    return 0;
  }
  const name = first === undefined || first.startsWith("-") ? "tour" : first;
  const commandArgs = first === undefined || first.startsWith("-") ? flags.rest : rest;
  const command: Command | undefined = commands.find((c) => c.name === name);
  if (command === undefined) {
    const hint = didYouMean(name, { known: commands.map((c) => c.name) });
    console.error(`prism: unknown command "${name}"${hint}\n\n${helpText()}`);
    return 2;
  }
  if (flags.help) {
    console.log(command.usage);
    return 0;
  }
  current = name;
  const out = commandOutput(flags);
  let code: number;
  let failure: unknown;
  // Ctrl-C or a kill removes the temporary files of unfinished writes and says what was kept.
  using _signals = handleInterrupts(name);
  try {
    code = await command.run(commandArgs, out);
  } catch (error) {
    failure = error;
    code = report(name, error, command.usage);
  }
  if (flags.json) {
    const error = failure === undefined ? undefined : {
      kind: failure instanceof UsageError
        ? "UsageError"
        : failure instanceof Error
        ? failure.name
        : typeof failure,
      message: failure instanceof Error ? failure.message : String(failure),
    };
    const document = code === 0
      ? { command: name, ok: true, ...out.fields }
      : { command: name, ok: false, exitCode: code, ...(error ? { error } : {}), ...out.fields };
    console.log(JSON.stringify(document, null, 2));
  }
  return code;
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
