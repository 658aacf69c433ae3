import { equal, match, ok } from "node:assert/strict";
import { parseCsv } from "../io/csv.ts";
import { readHdf5Tree } from "../io/hdf5_read.ts";

const TOUR_CSV_HEADER =
  "operation,backend,time_ms,throughput_per_s,throughput_unit,peak_rss_bytes,agreement,result";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

/** Runs the CLI in a subprocess (as a user would) and returns its exit code and output. */
async function cli(args: string[], env: Record<string, string> = {}, cwd?: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    env: { XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp", NO_COLOR: "1", ...env },
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("cli --help lists every command, and an unknown command exits 2", async () => {
  const help = await cli(["--help"]);
  equal(help.code, 0);
  for (const name of ["tour", "info"]) match(help.stdout, new RegExp(`^  ${name} `, "m"));
  const bad = await cli(["frobnicate"]);
  equal(bad.code, 2);
  match(bad.stderr, /unknown command "frobnicate"/);
});

Deno.test("cli info reports the runtime, WASM SIMD, workers and a route per family", async () => {
  const { code, stdout } = await cli(["info"]);
  equal(code, 0, stdout);
  match(stdout, new RegExp(`Deno ${Deno.version.deno.replaceAll(".", "\\.")}`));
  match(stdout, /SIMD128\s+yes/);
  match(stdout, /workers\s+\d+/);
  match(stdout, /backend: "auto"/);
  match(stdout, /^\s+reduce\s+(wasm|webgpu)\s+\S/m);
});

Deno.test("cli info with PRISM_WEBGPU=off says WebGPU is unavailable and why", async () => {
  const { code, stdout } = await cli(["info"], { PRISM_WEBGPU: "off" });
  equal(code, 0);
  match(stdout, /unavailable: .*PRISM_WEBGPU=off/);
  match(stdout, /reduce\s+wasm\s+no WebGPU adapter/);
});

Deno.test("cli info --json is machine-readable", async () => {
  const { code, stdout } = await cli(["info", "--json"], { PRISM_WEBGPU: "off" });
  equal(code, 0);
  const caps = JSON.parse(stdout);
  equal(caps.gpu.available, false);
  equal(caps.routes.reduce.backend, "wasm");
});

Deno.test("cli with no arguments runs the tour and writes its run folder", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code, stdout, stderr } = await cli([], { PRISM_WEBGPU: "off" }, dir);
    equal(code, 0, stderr);
    match(stdout, /^operation +backend +time +throughput +peak RSS +agreement +result$/m);
    const folder = /the run folder is (prism-out\/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ)\//.exec(stdout);
    ok(folder, stdout);
    const cube = await Deno.stat(`${dir}/${folder[1]}/cube.npy`);
    ok(cube.size > 64 * 64 * 10 * 4);
    const record = JSON.parse(await Deno.readTextFile(`${dir}/${folder[1]}/record.json`));
    equal(record.format, "prism-performance-record");
    ok(record.metrics["RX fit + score [wasm] time_ms"].value > 0);
    const png = await Deno.readFile(`${dir}/${folder[1]}/summary.png`);
    equal(new TextDecoder().decode(png.subarray(1, 4)), "PNG");
    const csv = parseCsv(await Deno.readTextFile(`${dir}/${folder[1]}/results.csv`));
    equal(csv[0].join(","), TOUR_CSV_HEADER);
    const rx = csv.find((row) => row[0] === "RX fit + score");
    ok(rx && rx[1] === "wasm" && Number(rx[2]) > 0 && rx[4] === "px", String(rx));
    const tree = await readHdf5Tree(`${dir}/${folder[1]}/report.h5`);
    equal(tree.datasets.find((d) => d.path === "/results/time_ms")?.shape[0], csv.length - 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli rejects an unknown option with the command's usage and exit 2", async () => {
  const { code, stderr } = await cli(["info", "--bogus"]);
  equal(code, 2);
  match(stderr, /usage: deno run -A cli.ts info/);
});
