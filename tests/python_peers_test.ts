/**
 * The skip decisions of the python3 cross-checks (`hasNumpy`, `hasH5py`, `hasTorch` in
 * `_io_helpers.ts`) on the machines the README's test command must pass on: no python3 at all,
 * and python3 with numpy but no h5py. Each case loads the helper in a child Deno whose
 * environment hides the peer, and checks both the decisions and the printed reasons. CI runs the
 * whole suite once more with h5py hidden (`.ci/run`); this file covers the no-python3 machine.
 *
 * @module
 */

import { deepEqual, match, ok } from "node:assert/strict";
import { fileURLToPath } from "node:url";

const HELPERS = new URL("./_io_helpers.ts", import.meta.url).href;
/** A PYTHONPATH folder whose `h5py` and `torch` packages raise ImportError. */
const WITHOUT_H5PY = fileURLToPath(new URL("./fixtures/python_without_h5py", import.meta.url));

interface Decisions {
  hasNumpy: boolean;
  hasH5py: boolean;
  hasTorch: boolean;
}

/** Loads the helper in a child Deno with `env` added; its decisions and what it printed. */
async function decisionsWith(env: Record<string, string>): Promise<[Decisions, string]> {
  const code = `const h = await import(${JSON.stringify(HELPERS)});
console.log(JSON.stringify({ hasNumpy: h.hasNumpy, hasH5py: h.hasH5py, hasTorch: h.hasTorch }));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", code],
    env: { ...env, PYTHONDONTWRITEBYTECODE: "1", NO_COLOR: "1" },
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  ok(out.success, `the child failed: ${new TextDecoder().decode(out.stderr)}`);
  const lines = stdout.trim().split("\n");
  return [JSON.parse(lines[lines.length - 1]) as Decisions, stdout];
}

/** Whether this machine's python3 imports numpy, asked directly (not through the helper). */
async function numpyHere(): Promise<boolean> {
  try {
    const out = await new Deno.Command("python3", { args: ["-c", "import numpy"] }).output();
    return out.success;
  } catch {
    return false;
  }
}

Deno.test("without python3 on PATH every python cross-check skips, saying python3 is missing", async () => {
  const empty = await Deno.makeTempDir({ prefix: "prism_no_python_" });
  try {
    const [got, printed] = await decisionsWith({ PATH: empty });
    deepEqual(got, { hasNumpy: false, hasH5py: false, hasTorch: false });
    for (const modules of ["numpy", "numpy, h5py", "numpy, h5py, torch"]) {
      ok(
        printed.includes(`python3 with ${modules} is unavailable (no python3 on PATH)`),
        `no reason printed for ${modules}: ${printed}`,
      );
    }
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

const hasNumpyHere = await numpyHere();
if (!hasNumpyHere) {
  console.log("the numpy-without-h5py case is skipped: this machine's python3 lacks numpy");
}

Deno.test({
  name:
    "with numpy but no h5py, only the h5py and torch cross-checks skip, naming the import error",
  ignore: !hasNumpyHere,
  async fn() {
    const [got, printed] = await decisionsWith({ PYTHONPATH: WITHOUT_H5PY });
    deepEqual(got, { hasNumpy: true, hasH5py: false, hasTorch: false });
    match(printed, /python3 with numpy, h5py is unavailable \(ImportError: h5py is hidden/);
    match(printed, /python3 with numpy, h5py, torch is unavailable \(ImportError: h5py/);
    ok(!printed.includes("python3 with numpy is unavailable"), printed);
  },
});
