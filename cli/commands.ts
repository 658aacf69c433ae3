/**
 * Every subcommand of `cli.ts`, in the order `--help` lists them.
 *
 * @module
 */

import type { Command } from "./_command.ts";

/** The commands `cli.ts` dispatches to. */
export const commands: readonly Command[] = [];
