/**
 * The shape every CLI command file exports, so `cli.ts` can list and dispatch them.
 *
 * @module
 */

import { PrismError } from "../core/errors.ts";

/** The output flags of one run, taken off the command line by `splitGlobalFlags` (`./_output.ts`). */
export interface OutputFlags {
  /** `--json`: one JSON summary on stdout. */
  readonly json: boolean;
  /** `--quiet`: nothing but errors (and the JSON summary with `--json`). */
  readonly quiet: boolean;
}

/** What a command writes through, instead of `console.log`, so the flags apply. */
export interface CommandOutput extends OutputFlags {
  /** A line of the human report: stdout; stderr under `--json`; nothing under `--quiet`. */
  say(line: string): void;
  /** A side note (a warning, where files went): stderr; nothing under `--quiet`. */
  note(line: string): void;
  /**
   * A throttled progress reporter on stderr (`progressLine` in `./_progress.ts`: a bar on a
   * terminal, plain lines elsewhere); silent under `--quiet`.
   */
  progress(label: string): (done: number, total: number | undefined, unit: string) => void;
  /** Adds fields to the `--json` summary (later calls add or replace fields). */
  summary(fields: Record<string, unknown>): void;
  /** The summary so far. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** One subcommand of `deno run -A cli.ts`. */
export interface Command {
  /** The word typed after `cli.ts`, e.g. `"info"`. */
  readonly name: string;
  /** One line for `--help`. */
  readonly summary: string;
  /** The full usage text for `cli.ts <name> --help`. */
  readonly usage: string;
  /**
   * One command line that runs as written (after the examples before it in `--help`'s order,
   * which make its input files), shown under the summary in `--help`.
   */
  readonly example: string;
  /**
   * Runs the command on its own arguments (the global flags taken off) and resolves to the
   * process exit code. It reports through `out` (never `console.log`), and gives `out.summary`
   * what `--json` prints.
   */
  run(args: string[], out: CommandOutput): Promise<number>;
}

/** A mistake in the command line itself: printed with the usage, exit code 2. */
export class UsageError extends Error {
  /** @param message What is wrong with the arguments. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Longest message printed for an error from outside prism (library diagnostics can run to KBs). */
const FOREIGN_MESSAGE_CHARS = 400;

/**
 * The one report of a failed command: `prism <command>: <Kind>: <message>` and its exit code
 * (2 for a usage mistake, with the usage; 1 for anything else). Messages of errors from outside
 * prism (a library's plain `Error`) are cut to their first lines; with `debug` the full stack and
 * the chain of causes follow.
 *
 * @param command The command's name, e.g. `"cov"`.
 * @param failure `error` (anything thrown), `usage` (printed after a usage mistake), `debug`
 *   (add stacks; the CLI sets it from `PRISM_DEBUG=1`).
 * @returns `{ text, code }`: what to print on stderr and the exit code.
 * @throws Never.
 * @example
 * ```ts
 * import { describeFailure, UsageError } from "./_command.ts";
 * import assert from "node:assert";
 * const plain = describeFailure("cov", { error: new Error("boom\n" + "diag\n".repeat(500)) });
 * assert(plain.code === 1 && plain.text.startsWith("prism cov: Error: boom"));
 * assert(plain.text.length < 700 && !plain.text.includes("    at "));
 * const usage = describeFailure("cov", { error: new UsageError("--out is required"), usage: "usage: …" });
 * assert(usage.code === 2 && usage.text.startsWith("prism cov: --out is required"));
 * ```
 */
export function describeFailure(
  command: string,
  failure: { error: unknown; usage?: string; debug?: boolean },
): { text: string; code: number } {
  const { error, usage, debug = false } = failure;
  if (error instanceof UsageError) {
    return { text: `prism ${command}: ${error.message}${usage ? `\n\n${usage}` : ""}`, code: 2 };
  }
  const kind = error instanceof Error ? error.name : typeof error;
  let message = error instanceof Error ? error.message : String(error);
  // Project errors, argument and file-system errors are written for the user; others are cut.
  if (!ownError(error)) {
    const lines = message.split("\n");
    let short = lines.slice(0, 3).join("\n");
    if (short.length > FOREIGN_MESSAGE_CHARS) short = short.slice(0, FOREIGN_MESSAGE_CHARS);
    if (short.length < message.length) {
      message = `${short} … (${message.length - short.length} more characters; set ` +
        `PRISM_DEBUG=1 to see them and the stack)`;
    }
  }
  const parts = [`prism ${command}: ${kind}: ${message}`];
  if (debug) {
    for (let e: unknown = error, depth = 0; e !== undefined && depth < 8; depth++) {
      parts.push(depth === 0 ? "" : "caused by:");
      parts.push(e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e));
      e = e instanceof Error ? e.cause : undefined;
    }
  }
  return { text: parts.join("\n"), code: 1 };
}

function ownError(error: unknown): boolean {
  return error instanceof PrismError || error instanceof TypeError || error instanceof RangeError ||
    Object.values(Deno.errors).some((kind) => error instanceof kind);
}
