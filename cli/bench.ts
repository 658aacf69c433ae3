/**
 * `deno run -A cli.ts bench`: the experiments' sweeps into CSV logs (`bench conv`, `bench cov`,
 * `bench rx`, `bench spectrum`: see `./_bench_sweeps.ts`), and the same-run comparison reports
 * of `bench/` (`bench report ...`: prism against numpy, TensorFlow.js and ml-matrix), each
 * printing medians and ratios.
 *
 * The reports live in the repository's `bench/` folder, not in the published package (they
 * import the peers they compare against), so this command runs them from a checkout.
 *
 * @module
 */

import type { Command, CommandOutput } from "./_command.ts";
import { UsageError } from "./_command.ts";
import { parseCommandArgs } from "./_args.ts";
import { didYouMean } from "./_suggest.ts";
import { runConvSweep, runOpSweep, SWEEP_USAGE } from "./_bench_sweeps.ts";

/** The sweeps, by the word after `bench`. */
const SWEEPS = ["conv", "cov", "rx", "spectrum"] as const;

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
  summary: "experiment sweeps into CSV logs (conv, cov, rx, spectrum) and peer reports",
  example: "deno run -A cli.ts bench conv --quick --model small --output logs/bench.csv",
  usage: [
    "usage: deno run -A cli.ts bench conv|cov|rx|spectrum [flags]",
    "       deno run -A cli.ts bench report [--quick] [covariance|rx|spectrum ...]",
    "",
    "e.g.   deno run -A cli.ts bench conv --tile-sizes 256 384 --batch-sizes 1 2 4 \\",
    "         --mode inference --device cpu --model refiner --output logs/bench.csv",
    "",
    SWEEP_USAGE,
    "",
    "bench report runs the comparison reports of the repository's bench/ folder (all of them",
    "by default; `bench` alone and `bench covariance` still run them). Changed: `bench rx` and",
    "`bench spectrum` are now sweeps; their peer reports are `bench report rx|spectrum`.",
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
    const first = args[0];
    if (first === "conv") return await runConvSweep(args.slice(1), out);
    if (first === "cov" || first === "rx" || first === "spectrum") {
      return await runOpSweep(first, args.slice(1), out);
    }
    return await runReports(first === "report" ? args.slice(1) : args, out);
  },
};

/** `bench report ...` (and the old `bench [covariance ...]`): the peer reports of `bench/`. */
async function runReports(args: string[], out: CommandOutput): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { quick: { type: "boolean" } });
  const names = positionals.length > 0 ? positionals : Object.keys(REPORTS);
  for (const name of names) {
    if (!(name in REPORTS)) {
      const known = [...Object.keys(REPORTS), ...SWEEPS, "report"];
      throw new UsageError(
        `unknown report "${name}"${didYouMean(name, { known })} (sweeps: ` +
          `${SWEEPS.join(", ")}; reports: ${Object.keys(REPORTS).join(", ")})`,
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
}
