/**
 * `deno run -A cli.ts bench`: the same-run comparison reports of `bench/` (prism against numpy,
 * TensorFlow.js and ml-matrix), each printing medians and ratios.
 *
 * The reports live in the repository's `bench/` folder, not in the published package (they
 * import the peers they compare against), so this command runs them from a checkout.
 *
 * @module
 */

import type { Command } from "./_command.ts";
import { UsageError } from "./_command.ts";
import { parseCommandArgs } from "./_args.ts";
import { didYouMean } from "./_suggest.ts";

/** The reports, by the name the command takes. */
const REPORTS: Readonly<Record<string, { file: string; what: string }>> = {
  covariance: {
    file: "covariance_report.ts",
    what: "covariance of 1,638,400 × 50 and the channel/spatial sweeps vs numpy and TF.js",
  },
  rx: { file: "rx_report.ts", what: "RX fit + scoring of 1,638,400 × 50 vs numpy" },
  spectrum: {
    file: "spectrum_report.ts",
    what: "singular values + metrics of activation shapes vs numpy and ml-matrix",
  },
};

/** The `bench` command. */
export const benchCommand: Command = {
  name: "bench",
  summary: "benchmark reports: prism vs numpy / TF.js / ml-matrix, medians and ratios",
  example: "deno run -A cli.ts bench --quick spectrum",
  usage: [
    "usage: deno run -A cli.ts bench [--quick] [covariance|rx|spectrum ...]",
    "",
    "Runs the comparison reports of the repository's bench/ folder (all of them by default).",
    "Each measures prism and its peers in the same run and prints medians and ratios.",
    "Peers that are not installed (python3 with numpy) are skipped with a note.",
    "",
    ...Object.entries(REPORTS).map(([name, r]) => `  ${name.padEnd(11)} ${r.what}`),
    "",
    "  --quick     small sizes, seconds instead of minutes",
    "",
    "For the Deno.bench suites, run `deno task bench` in the repository.",
  ].join("\n"),
  async run(args, out) {
    const { values, positionals } = parseCommandArgs(args, { quick: { type: "boolean" } });
    const names = positionals.length > 0 ? positionals : Object.keys(REPORTS);
    for (const name of names) {
      if (!(name in REPORTS)) {
        throw new UsageError(
          `unknown report "${name}"${didYouMean(name, { known: Object.keys(REPORTS) })} ` +
            `(choose from ${Object.keys(REPORTS).join(", ")})`,
        );
      }
    }
    const benchDir = new URL("../bench/", import.meta.url);
    if (benchDir.protocol !== "file:") {
      throw new UsageError("the benchmark reports run from a clone of the repository");
    }
    // The peers (TF.js, ml-matrix) are mapped in bench/deno.json, with their own lockfile, so
    // that neither mod.ts nor this CLI downloads them: each report runs under that config.
    const config = new URL("deno.json", benchDir);
    try {
      await Deno.stat(config);
    } catch (error) {
      throw new UsageError(
        `the benchmark reports need ${config.pathname}, which maps their peers (TF.js, ` +
          `ml-matrix), and it cannot be read (${(error as Error).message}); ` +
          "run this command from a full clone of the repository",
      );
    }
    let failed = 0;
    const reports: { name: string; exitCode: number }[] = [];
    for (const name of names) {
      const script = new URL(REPORTS[name].file, benchDir);
      out.say(`\n=== ${name}: ${REPORTS[name].what}`);
      // The reports print their tables themselves: on stdout normally, streamed to stderr with
      // --json (stdout holds only the JSON), not at all with --quiet.
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--config",
          config.pathname,
          script.pathname,
          ...(values.quick ? ["--quick"] : []),
        ],
        stdout: out.quiet ? "null" : out.json ? "piped" : "inherit",
        stderr: out.quiet ? "null" : "inherit",
      }).spawn();
      if (out.json && !out.quiet) {
        for await (const chunk of child.stdout) Deno.stderr.writeSync(chunk);
      }
      const { code } = await child.status;
      reports.push({ name, exitCode: code });
      if (code !== 0) {
        console.error(
          `prism bench: the ${name} report failed (exit ${code}); if Deno could not fetch a ` +
            `peer, \`deno install --config ${config.pathname}\` with npm reachable fetches them`,
        );
        failed++;
      }
    }
    out.summary({ quick: values.quick === true, reports });
    return failed === 0 ? 0 : 1;
  },
};
