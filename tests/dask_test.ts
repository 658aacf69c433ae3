/**
 * The Dask integration (`integrations/dask/`) on a real cluster of processes: its Python tests
 * (`integrations/dask/tests/test_cluster.py`, a `LocalCluster` of two worker processes on
 * 127.0.0.1) run here so that `deno task test` runs them. Skipped, with the reason printed, when
 * no python3 imports `distributed` and numpy (`apt-get install python3-distributed`).
 *
 * @module
 */

import { pythonWith } from "./_io_helpers.ts";

const python = await pythonWith("distributed, numpy");
const DIR = new URL("../integrations/dask/", import.meta.url).pathname;
const CLI = new URL("../cli.ts", import.meta.url).pathname;

/** Runs Python test cases (one cluster for them all); fails with their output when one fails. */
async function pythonTests(...names: string[]): Promise<void> {
  const r = await new Deno.Command(python!, {
    args: ["-m", "unittest", "-v", ...names.map((n) => `tests.test_cluster.ClusterTest.${n}`)],
    cwd: DIR,
    env: {
      // Workers run this checkout's CLI with this Deno.
      PRISM_CMD: `${Deno.execPath()} run -A ${CLI}`,
      XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp",
      PYTHONWARNINGS: "ignore::DeprecationWarning",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  if (r.code !== 0) {
    throw new Error(
      `python3 ${names.join(", ")} failed (exit ${r.code}):\n${text.decode(r.stdout)}\n${
        text.decode(r.stderr).slice(-6000)
      }`,
    );
  }
}

Deno.test({
  name: "dask: cov, RX fit and RX scores over files match one process; bad input named",
  ignore: python === undefined,
  sanitizeResources: false,
  fn: () =>
    pythonTests(
      "test_cov_and_rx_over_files_match_one_process",
      "test_bad_input_names_the_shard_and_the_worker",
    ),
});

Deno.test({
  name: "dask: row shards of one file give the singular values, with a worker killed mid-run",
  ignore: python === undefined,
  sanitizeResources: false,
  fn: () => pythonTests("test_row_shards_of_one_file_and_a_killed_worker"),
});
