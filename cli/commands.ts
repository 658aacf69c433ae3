/**
 * Every subcommand of `cli.ts`, in the order `--help` lists them.
 *
 * @module
 */

import type { Command } from "./_command.ts";
import { spectrumCommand } from "./spectrum.ts";
import { trackDemoCommand } from "./track_demo.ts";
import { infoCommand } from "./info.ts";
import { tourCommand } from "./tour.ts";
import { benchCommand } from "./bench.ts";
import { covCommand } from "./cov.ts";
import { rxCommand } from "./rx.ts";
import { pcaCommand } from "./pca.ts";
import { synthCommand } from "./synth.ts";
import { convCommand } from "./conv.ts";
import { serveCommand } from "./serve.ts";

/** The commands `cli.ts` dispatches to. */
export const commands: readonly Command[] = [
  tourCommand,
  infoCommand,
  benchCommand,
  spectrumCommand,
  trackDemoCommand,
  covCommand,
  rxCommand,
  pcaCommand,
  synthCommand,
  convCommand,
  serveCommand,
];
