/**
 * Argument parsing for CLI commands over `node:util`'s `parseArgs`, with mistakes turned into
 * {@linkcode UsageError}s that `cli.ts` prints with the command's usage.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./_command.ts";

/** The option table a command declares (node:util's format). */
export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses `args` against `options`; unknown options and missing values become usage errors.
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
    throw new UsageError((error as Error).message);
  }
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
  layout: { type: "string" },
} as const satisfies OptionSpec;

/** The help lines of `--layout`, shared by the commands that take `CUBE_FILE_OPTIONS`. */
export const LAYOUT_HELP =
  `  --layout L       hwc | chw | nhwc | nchw: where the bands are (last or first, after N);
                   needed when the shape leaves it open (a note on stderr says what was
                   assumed) and for 3-D integer arrays; ENVI uses its interleave field`;
