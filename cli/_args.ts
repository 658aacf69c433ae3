/**
 * Argument parsing for CLI commands over `node:util`'s `parseArgs`, with mistakes turned into
 * {@linkcode UsageError}s that `cli.ts` prints with the command's usage.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./_command.ts";
import type { PixelSelectionOptions } from "../io/pixel_selection.ts";
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
    return parseArgs({
      args: joinNegativeValues(args, options),
      options,
      allowPositionals: true,
      strict: true,
    });
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
 * `--name -9999` as `--name=-9999` for string options, so a negative number (a no-data value)
 * can follow its flag as users type it; node:util would take it for an option.
 */
function joinNegativeValues(args: string[], options: OptionSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") ? args[i].slice(2) : undefined;
    const next = args[i + 1];
    if (
      name !== undefined && options[name]?.type === "string" && next !== undefined &&
      /^-(\d|\.\d|inf)/i.test(next)
    ) {
      out.push(`${args[i]}=${next}`);
      i++;
    } else out.push(args[i]);
  }
  return out;
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

/** The pixel and band selection flags of `cov`, `rx` and `spectrum`. */
export const PIXEL_SELECTION_OPTIONS = {
  nodata: { type: "string" },
  mask: { type: "string" },
  "mask-dataset": { type: "string" },
  bands: { type: "string" },
} as const satisfies OptionSpec;

/** The usage lines of {@linkcode PIXEL_SELECTION_OPTIONS}, for each command's help. */
export const PIXEL_SELECTION_USAGE =
  `  --nodata V       leave out every pixel where ANY selected band equals V (ENVI/GDAL practice);
                   replaces an ENVI header's 'data ignore value'
  --mask FILE      .npy or .h5 mask of the pixel shape (H x W, N x H x W or pixels): 0/false
                   leaves the pixel out
  --mask-dataset P the dataset of an HDF5 mask (default: its only one)
  --bands LIST     bands to keep, from 0: "0-9,12,20-29" or "exclude:3,7"; replaces an ENVI
                   'bbl' (without --bands, bands the bbl marks 0 are left out)
  Bands are selected first, then no-data and mask are checked; left-out pixels are counted
  ("excluded"). An ENVI 'reflectance scale factor' divides the values read.`;

/**
 * The {@linkcode PixelSelectionOptions} of parsed {@linkcode PIXEL_SELECTION_OPTIONS} values.
 *
 * @param values The parsed flags.
 * @returns `nodata`, `mask`, `maskDataset`, `bands` where given.
 * @throws {UsageError} When `--nodata` is not a number, or is NaN (which equals nothing).
 */
export function pixelSelectionOf(
  values: { nodata?: string; mask?: string; "mask-dataset"?: string; bands?: string },
): PixelSelectionOptions {
  const out: PixelSelectionOptions = {};
  if (values.nodata !== undefined) {
    if (values.nodata.trim().toLowerCase() === "nan") {
      throw new UsageError(
        `--nodata NaN cannot mark no-data (NaN equals nothing); skip pixels holding NaN with ` +
          `--skip-invalid (cov, rx)`,
      );
    }
    out.nodata = numberOption("nodata", { value: values.nodata, fallback: NaN });
  }
  if (values["mask-dataset"] !== undefined && values.mask === undefined) {
    throw new UsageError("--mask-dataset needs --mask FILE.h5");
  }
  if (values.mask !== undefined) out.mask = values.mask;
  if (values["mask-dataset"] !== undefined) out.maskDataset = values["mask-dataset"];
  if (values.bands !== undefined) out.bands = values.bands;
  return out;
}

/** The help lines of `--layout`, shared by the commands that take `CUBE_FILE_OPTIONS`. */
export const LAYOUT_HELP =
  `  --layout L       hwc | chw | nhwc | nchw: where the bands are (last or first, after N);
                   needed when the shape leaves it open (a note on stderr says what was
                   assumed) and for 3-D integer arrays; ENVI uses its interleave field`;

/**
 * `--tile-sizes 256 384` as `--tile-sizes=256,384`: the values that follow a list flag, up to
 * the next flag, joined with commas, so a list can be typed as EXPERIMENTS.md §2's commands do
 * (node:util would take the second value for a positional).
 *
 * @param args The command's arguments.
 * @param lists The names of the list flags.
 * @returns The arguments with each list joined into one `--name=a,b` argument.
 */
export function joinListValues(args: string[], lists: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") ? args[i].slice(2) : undefined;
    if (name === undefined || !lists.includes(name)) {
      out.push(args[i]);
      continue;
    }
    const values: string[] = [];
    while (i + 1 < args.length && !args[i + 1].startsWith("--")) values.push(args[++i]);
    out.push(values.length > 0 ? `--${name}=${values.join(",")}` : args[i]);
  }
  return out;
}

/**
 * Reads a list of whole numbers (`256,384` or `256 384` joined by {@linkcode joinListValues}).
 *
 * @param name The option's name, for the message.
 * @param value The raw value, `undefined` when not given.
 * @returns The numbers, or `undefined` when not given.
 * @throws {UsageError} When an entry is not a whole number.
 */
export function intListOption(name: string, value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const bad = parts.find((s) => !/^-?\d+$/.test(s));
  if (parts.length === 0 || bad !== undefined) {
    throw new UsageError(
      `--${name} takes whole numbers, e.g. --${name} 256 384; got "${bad ?? value}"`,
    );
  }
  return parts.map(Number);
}
