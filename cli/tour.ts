/**
 * `deno run -A cli.ts` (or `tour`): every operation prism has, on built-in synthetic data, with
 * its backend, its time and the files it wrote. The steps are in `./_tour_steps.ts`.
 *
 * @module
 */

import type { Command } from "./_command.ts";
import { parseCommandArgs } from "./_args.ts";
import { formatMs } from "./_format.ts";
import { type TourContext, tourSteps } from "./_tour_steps.ts";
import { checkOutputFolder } from "./_out_path.ts";
import { releaseGpu } from "../gpu/device.ts";
import { gpuStatus } from "../gpu/device.ts";

/** The tour command, the CLI's main job. */
export const tourCommand: Command = {
  name: "tour",
  summary: "the main job (also with no command): every operation on synthetic data, timed",
  usage: [
    "usage: deno run -A cli.ts [tour] [--out-dir DIR] [--no-gpu]",
    "",
    "Runs every operation prism has on built-in synthetic data, on WASM SIMD and, when an",
    "adapter exists, on WebGPU (a software adapter proves the GPU path works, not its speed).",
    "Prints each step's backend, time and result, and writes the results to the output folder.",
    "",
    "  --out-dir DIR   where results go (default: prism-out in the working directory)",
    "  --no-gpu        skip the WebGPU runs",
  ].join("\n"),
  async run(args, out) {
    const { values } = parseCommandArgs(args, {
      "out-dir": { type: "string", default: "prism-out" },
      "no-gpu": { type: "boolean" },
    });
    const outDir = values["out-dir"];
    await Deno.mkdir(outDir, { recursive: true });
    await checkOutputFolder(outDir, { flag: "--out-dir" });
    const gpu = values["no-gpu"] ? undefined : await gpuStatus();
    const ctx: TourContext = {
      outDir,
      gpu: gpu?.available ? gpu : undefined,
      backends: gpu?.available ? ["wasm", "webgpu"] : ["wasm"],
    };
    out.say("prism tour: every operation on built-in synthetic data\n");
    if (values["no-gpu"]) out.say("WebGPU runs skipped (--no-gpu).\n");
    else if (!gpu?.available) out.say(`WebGPU runs skipped: ${gpu?.reason}.\n`);
    else if (gpu.adapter.isSoftware) {
      out.say(
        `WebGPU runs on ${gpu.adapter.description}, a software adapter: ` +
          "its times show the path works, not GPU speed.\n",
      );
    }
    const files: string[] = [];
    const steps: { title: string; backend?: string; ms?: number; detail: string }[] = [];
    const started = performance.now();
    try {
      for (const step of tourSteps) {
        for (const line of await step(ctx)) {
          const time = line.ms === undefined ? "" : formatMs(line.ms).padStart(9);
          out.say(
            `${line.title.padEnd(34)} ${(line.backend ?? "").padEnd(7)} ${time}  ${line.detail}`,
          );
          files.push(...line.files ?? []);
          steps.push({
            title: line.title,
            backend: line.backend,
            ms: line.ms,
            detail: line.detail,
          });
        }
      }
    } finally {
      await releaseGpu();
    }
    const total = performance.now() - started;
    out.summary({
      outDir,
      gpu: ctx.backends.includes("webgpu"),
      steps,
      files,
      seconds: total / 1000,
    });
    out.say(`\ntotal ${formatMs(total)}; results written to ${outDir}/:`);
    for (const f of files) out.say(`  ${f}`);
    out.say(
      "\n`deno run -A cli.ts --help` lists the commands that run each step on your data.",
    );
    return 0;
  },
};
