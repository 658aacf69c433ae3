/**
 * Every subcommand of `cli.ts`, in the order `--help` lists them: a command that reads a file
 * comes after the one whose example writes it (`synth` makes the `cube.npy` the others read).
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
import { plotCommand } from "./plot.ts";
import { shardCommand } from "./shard.ts";
import { mergeCommand } from "./merge.ts";
import { stressCommand } from "./stress.ts";
import { compareCommand } from "./compare.ts";
import { serveCommand } from "./serve.ts";

/** The commands `cli.ts` dispatches to. */
export const commands: readonly Command[] = [
  tourCommand,
  infoCommand,
  synthCommand,
  covCommand,
  rxCommand,
  pcaCommand,
  shardCommand,
  mergeCommand,
  spectrumCommand,
  convCommand,
  trackDemoCommand,
  benchCommand,
  plotCommand,
  stressCommand,
  compareCommand,
  serveCommand,
];
