/**
 * Argument parsing for CLI commands over `node:util`'s `parseArgs`, with mistakes turned into
 * {@linkcode UsageError}s that `cli.ts` prints with the command's usage.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./_command.ts";
import { didYouMean } from "./_suggest.ts";

/** The option table a command declares (node:util's format). */
export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/**
 * The flags every command takes, which `cli.ts` handles before the command parses the rest
 * (see `cli/_output.ts`); listed here so a misspelling of one is suggested too.
 */
export const GLOBAL_FLAGS: readonly string[] = ["help", "version", "json", "quiet"];

/**
 * Parses `args` against `options`; unknown options and missing values become usage errors, an
 * unknown option with the nearest known ones (`unknown option --outt; did you mean --out?`).
 *
 * @param args The command's arguments.
 * @param options The option table.
 * @returns The parsed values and positionals.
 */
export function parseCommandArgs<T extends OptionSpec>(
  args: string[],
  options: T,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true }>> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(describeParseError(error, Object.keys(options)));
  }
}

/** node:util's message, or for an unknown option a short one with suggestions. */
function describeParseError(error: unknown, known: string[]): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = (error as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
    ? /^Unknown option '(-{1,2})([^'=]*)/.exec(message)
    : null;
  if (unknown === null) return message;
  const [, dashes, name] = unknown;
  return `unknown option ${dashes}${name}` +
    didYouMean(name, { known: [...known, ...GLOBAL_FLAGS], prefix: "--" });
}

/**
 * Reads a numeric option, or `fallback` when it was not given.
 *
 * @param name The option's name, for the message.
 * @param option `value` (the raw string, `undefined` when not given) and `fallback` (the default).
 * @returns The number.
 * @throws {UsageError} When the value is not a finite number.
 */
export function numberOption(
  name: string,
  option: { value: string | undefined; fallback: number },
): number {
  const { value, fallback } = option;
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) {
    throw new UsageError(`--${name} must be a number, got "${value}"`);
  }
  return n;
}

/** The options of every command that reads a cube file and writes a result. */
export const CUBE_FILE_OPTIONS = {
  input: { type: "string" },
  dataset: { type: "string" },
  "allow-external": { type: "boolean", default: false },
  out: { type: "string" },
  backend: { type: "string", default: "auto" },
} as const satisfies OptionSpec;
