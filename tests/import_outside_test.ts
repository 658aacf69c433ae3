/**
 * `mod.ts` as another project sees it: a temporary project outside this repository, with its own
 * `deno.json` (which maps none of prism's dependencies), imports `mod.ts` by absolute path and by
 * `file://` URL. Importing needs no permission at all; a covariance needs only `--allow-read` (to
 * read `wasm/prism.wasm`); reading an HDF5 file needs only `--allow-read` too (h5wasm is imported
 * on first use, and starts without listing the environment).
 *
 * @module
 */

import { equal, ok } from "node:assert/strict";
import { relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { writeHdf5 } from "../mod.ts";
import { randomMatrix } from "../synth/uniform.ts";
import { covariance64 } from "./_helpers.ts";
import { inTempDir } from "./_io_helpers.ts";

const MOD = fileURLToPath(new URL("../mod.ts", import.meta.url));
const REPO = fileURLToPath(new URL("../", import.meta.url));

/** The outside project's program: `import` (the export count), `cov` or `h5` (JSON results). */
function program(specifier: string): string {
  return `import * as prism from ${JSON.stringify(specifier)};
import { helper } from "@outside/helper";
const [mode, arg] = Deno.args;
if (mode === "import") console.log(JSON.stringify({ exports: Object.keys(prism).length, helper }));
if (mode === "cov") {
  const { data, rows, cols } = JSON.parse(arg);
  const r = await prism.covariance({ data: new Float32Array(data), rows, cols });
  console.log(JSON.stringify({ covariance: [...r.covariance], count: r.count }));
}
if (mode === "h5") {
  const { data, shape } = await prism.readHdf5Dataset(arg, "/x");
  console.log(JSON.stringify({ data: [...data], shape }));
}
`;
}

/** Runs the project's `main.ts` with `flags`; its parsed JSON output. */
async function run(project: string, flags: string[], ...args: string[]): Promise<unknown> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...flags, "main.ts", ...args],
    cwd: project,
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder();
  const stderr = text.decode(out.stderr);
  ok(out.success, `deno run ${flags.join(" ")} main.ts ${args[0]} failed:\n${stderr}`);
  const lines = text.decode(out.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

/** A project outside the repository that imports `mod.ts` by `specifier`. */
async function outsideProject(dir: string, specifier: string): Promise<string> {
  ok(relative(REPO, dir).startsWith(".."), `${dir} must lie outside the repository ${REPO}`);
  // Its own import map, with a name of its own and none of prism's.
  await Deno.writeTextFile(
    `${dir}/deno.json`,
    JSON.stringify({ imports: { "@outside/helper": "./helper.ts" } }),
  );
  await Deno.writeTextFile(`${dir}/helper.ts`, `export const helper = "outside";\n`);
  await Deno.writeTextFile(`${dir}/main.ts`, program(specifier));
  return dir;
}

for (const [how, specifier] of [["absolute path", MOD], ["file:// URL", pathToFileURL(MOD).href]]) {
  Deno.test(`mod.ts imported by ${how} from another project needs no permission`, async () => {
    await inTempDir(async (dir) => {
      const got = await run(await outsideProject(dir, specifier), [], "import") as {
        exports: number;
        helper: string;
      };
      ok(got.exports > 50, `only ${got.exports} exports`);
      equal(got.helper, "outside");
    });
  });
}

Deno.test("another project computes a covariance and reads HDF5 under --allow-read only", async () => {
  await inTempDir(async (dir) => {
    const project = await outsideProject(dir, MOD);
    // Sizes 2 x 1 and 37 x 5 (a prime); values shifted to 100 so centring matters.
    for (const [rows, cols] of [[2, 1], [37, 5]]) {
      const m = randomMatrix(rows, cols, { seed: rows * 31 + cols, lo: 99, hi: 101 });
      const got = await run(
        project,
        ["--allow-read"],
        "cov",
        JSON.stringify({ ...m, data: [...m.data] }),
      ) as {
        covariance: number[];
        count: number;
      };
      equal(got.count, rows);
      const ref = covariance64(m.data, rows, cols);
      for (let i = 0; i < cols; i++) {
        for (let j = i; j < cols; j++) {
          const [g, r] = [got.covariance[i * cols + j], ref[i * cols + j]];
          // float32 input, float64 statistics: well within 1e-6 of values near 1/3.
          ok(Math.abs(g - r) <= 1e-6, `${rows}x${cols} [${i},${j}]: ${g} vs float64 ${r}`);
        }
      }
    }
    // The file is written here (with -A); the other project only reads it.
    const data = new Float64Array(7 * 3).map((_, i) => (i - 10) * 0.125 + (i === 4 ? 1e300 : 0));
    await writeHdf5(`${dir}/x.h5`, { datasets: [{ path: "x", data, shape: [7, 3] }] });
    const back = await run(project, ["--allow-read"], "h5", `${dir}/x.h5`) as {
      data: number[];
      shape: number[];
    };
    equal(JSON.stringify(back.shape), "[7,3]");
    equal(JSON.stringify(back.data), JSON.stringify([...data]));
  });
});
