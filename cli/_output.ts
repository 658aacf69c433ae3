/**
 * Where a command's output goes under the flags every command takes:
 *
 * - default: the report on stdout, progress and notes on stderr;
 * - `--json`: one JSON document on stdout when the command ends (`{ "command", "ok", ... }`, its
 *   summary; on failure `ok: false` with `exitCode` and `error: { kind, message }`), and the
 *   human report moves to stderr so stdout stays parseable;
 * - `--quiet`: no report, progress or notes; nothing on stdout (with `--json` too: only the JSON).
 *
 * Errors always go to stderr, whatever the flags.
 *
 * @module
 */

import { type ProgressLine, progressLine } from "./_progress.ts";
import type { CommandOutput, OutputFlags } from "./_command.ts";

/**
 * Takes `--json`, `--quiet`, `--version` and `--help`/`-h` off a command line (only before a
 * `--`, after which every word is an argument).
 *
 * @param args The words after `cli.ts`.
 * @returns The flags found and the other words in order.
 */
export function splitGlobalFlags(
  args: readonly string[],
): OutputFlags & { version: boolean; help: boolean; rest: string[] } {
  const end = args.indexOf("--");
  const head = end < 0 ? args : args.slice(0, end);
  const taken = new Set(["--json", "--quiet", "--version", "--help", "-h"]);
  return {
    json: head.includes("--json"),
    quiet: head.includes("--quiet"),
    version: head.includes("--version"),
    help: head.includes("--help") || head.includes("-h"),
    rest: [...head.filter((a) => !taken.has(a)), ...(end < 0 ? [] : args.slice(end))],
  };
}

/**
 * The output of one run under `flags`. Lines go through `console.log` / `console.error` at the
 * time of the call (so a test that captures them sees them).
 *
 * @param flags `json` and `quiet`.
 * @returns The output object a command writes through.
 */
export function commandOutput(flags: OutputFlags): CommandOutput {
  const { json, quiet } = flags;
  const fields: Record<string, unknown> = {};
  const silent: ProgressLine = () => {};
  return {
    json,
    quiet,
    say: (line) => {
      if (quiet) return;
      if (json) console.error(line);
      else console.log(line);
    },
    note: (line) => {
      if (!quiet) console.error(line);
    },
    progress: (label) => quiet ? silent : progressLine(label),
    summary: (more) => void Object.assign(fields, more),
    fields,
  };
}
