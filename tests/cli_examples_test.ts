/**
 * `cli.ts --help` shows one example per command, and says they run as written, in order, in one
 * folder. This runs them so, as a user would (a subprocess per command, in a fresh folder).
 */
import assert from "node:assert/strict";
import { commands } from "../cli/commands.ts";
import { writeNpy } from "../io/npy.ts";
import { inTempDir } from "./_io_helpers.ts";
import { runCli } from "./_cli_helpers.ts";

/** Examples not run here, and why. */
const COVERED_ELSEWHERE: Record<string, string> = {
  tour: "tests/cli_test.ts runs the tour with no arguments",
  serve: "it serves until stopped; tests/cli_serve_test.ts starts it and stops it",
};

/** The words of an example after `deno run -A cli.ts`. */
function argsOf(example: string): string[] {
  const prefix = "deno run -A cli.ts";
  assert(example.startsWith(`${prefix} `), `an example starts with "${prefix}": ${example}`);
  return example.slice(prefix.length).trim().split(/\s+/);
}

Deno.test("every command's --help example runs as written, in the listed order", () =>
  inTempDir(async (dir) => {
    // The one input no earlier example makes: an image for the small network's 6 channels.
    const [h, w, c] = [37, 53, 6];
    await writeNpy(`${dir}/image.npy`, {
      data: Float32Array.from({ length: h * w * c }, (_, i) => Math.sin(i)),
      shape: [h, w, c],
    });
    for (const command of commands) {
      const args = argsOf(command.example);
      if (command.name !== "tour") assert.equal(args[0], command.name, command.example);
      if (command.name in COVERED_ELSEWHERE) {
        console.log(`not run here: ${command.example} (${COVERED_ELSEWHERE[command.name]})`);
        continue;
      }
      const r = await runCli(args, { PRISM_WEBGPU: "off" }, dir);
      assert.equal(r.code, 0, `${command.example}\n${r.err}`);
    }
    for (
      const file of [
        "cube.npy",
        "cov.h5",
        "rx.h5",
        "pca.npy",
        "part.json",
        "rx_model.json",
        "spectrum.csv",
        "refined.npy",
        "logs/bench.csv",
        "reports/bench.png",
        "reports/bench.svg",
        "stress.json",
      ]
    ) {
      const info = await Deno.stat(`${dir}/${file}`).catch(() => undefined);
      assert(info?.isFile && info.size > 0, `the examples did not write ${file}`);
    }
  }));
