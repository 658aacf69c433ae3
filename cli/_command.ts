/**
 * The shape every CLI command file exports, so `cli.ts` can list and dispatch them.
 *
 * @module
 */

/** One subcommand of `deno run -A cli.ts`. */
export interface Command {
  /** The word typed after `cli.ts`, e.g. `"info"`. */
  readonly name: string;
  /** One line for `--help`. */
  readonly summary: string;
  /** The full usage text for `cli.ts <name> --help`. */
  readonly usage: string;
  /** Runs the command on its own arguments; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}

/** A mistake in the command line itself: printed with the usage, exit code 2. */
export class UsageError extends Error {
  /** @param message What is wrong with the arguments. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
