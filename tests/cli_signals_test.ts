import assert from "node:assert/strict";
import { describeFailure, UsageError } from "../cli/_command.ts";
import { inTempDir, listDir } from "./_io_helpers.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

/**
 * Starts `synth --scale medium` writing into `dir`, waits until its temporary file exists, sends
 * `signal`, and returns the exit code and stderr. The wait is bounded by the child itself: when
 * it ends before a temporary file appears, the loop stops and the assertions below fail.
 */
async function interruptSynth(
  dir: string,
  signal: "SIGINT" | "SIGTERM",
): Promise<{ code: number; stderr: string; sawTmp: boolean }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "synth", "--scale", "medium", "--out", `${dir}/x.h5`],
    env: { XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let ended = false;
  const status = child.status.then((s) => (ended = true, s));
  const stderrText = new Response(child.stderr).text();
  let sawTmp = false;
  while (!ended && !sawTmp) {
    sawTmp = (await listDir(dir)).some((n) => n.endsWith(".tmp"));
    if (!sawTmp) await new Promise((r) => setTimeout(r, 20));
  }
  if (sawTmp) child.kill(signal);
  const { code } = await status;
  return { code, stderr: await stderrText, sawTmp };
}

for (const [signal, expected] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(
    `cli synth interrupted by ${signal} exits ${expected}, removes its temp file, says so`,
    {
      ignore: Deno.build.os === "windows",
    },
    () =>
      inTempDir(async (dir) => {
        const { code, stderr, sawTmp } = await interruptSynth(dir, signal);
        assert.ok(sawTmp, `synth ended before writing its temporary file: ${stderr}`);
        assert.equal(code, expected, stderr);
        assert.deepEqual(await listDir(dir), [], "no .tmp (and no x.h5) may be left");
        assert.match(stderr, new RegExp(`prism synth: interrupted by ${signal}`));
        assert.match(
          stderr,
          /removed the unfinished .*\.x\.h5\.[0-9a-f]{8}\.tmp; .*x\.h5 was not written/,
        );
        assert.match(stderr, /kept: nothing/);
      }),
  );
}

Deno.test("cli synth to a folder says the output path is a folder, exit 1, no temp file", () =>
  inTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/out.h5`);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        CLI,
        "synth",
        "--scale",
        "small",
        "--samples",
        "1",
        "--out",
        `${dir}/out.h5`,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, stderr);
    assert.match(stderr, /the output path .*out\.h5 is a folder; give a file name/);
    assert.doesNotMatch(stderr, /Uncaught|\.tmp/);
    assert.deepEqual(await listDir(dir), ["out.h5"]);
  }));

Deno.test("cli never prints Uncaught: a failure is one line, exit 1; stack only with PRISM_DEBUG=1", () =>
  inTempDir(async (dir) => {
    // Not an HDF5 file at all: whatever the reader throws must come out as one report.
    await Deno.writeTextFile(`${dir}/bad.h5`, "not hdf5");
    for (const debug of ["0", "1"]) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          CLI,
          "cov",
          "--input",
          `${dir}/bad.h5`,
          "--dataset",
          "x",
          "--out",
          `${dir}/o.json`,
        ],
        env: { PRISM_DEBUG: debug },
        stdout: "null",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 1, stderr);
      assert.match(stderr, /^prism cov: /);
      assert.doesNotMatch(stderr, /Uncaught/);
      assert.equal(/\n\s+at /.test(stderr), debug === "1", stderr);
    }
  }));

Deno.test("cli usage mistakes exit 2 with the usage", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "synth", "--scale", "nope"],
    stdout: "null",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 2);
  assert.match(stderr, /^prism synth: --scale must be one of/);
  assert.match(stderr, /usage: deno run -A cli.ts synth/);
});

Deno.test("describeFailure() cuts a library's kilobytes of diagnostics and adds stacks in debug", () => {
  const diagnostics = new Error(
    "H5Dread failed\n" + "  #001: H5D.c line 1 in H5Dread\n".repeat(200),
  );
  const short = describeFailure("cov", { error: diagnostics });
  assert.equal(short.code, 1);
  assert.ok(short.text.startsWith("prism cov: Error: H5Dread failed"));
  assert.ok(short.text.length < 700, short.text);
  assert.match(short.text, /PRISM_DEBUG=1/);
  const wrapped = new RangeError("bands out of range", { cause: diagnostics });
  const debug = describeFailure("cov", { error: wrapped, debug: true });
  assert.match(debug.text, /^prism cov: RangeError: bands out of range\n/);
  assert.match(debug.text, /caused by:\nError: H5Dread failed/);
  assert.equal(describeFailure("cov", { error: "a string" }).text, "prism cov: string: a string");
  assert.equal(describeFailure("x", { error: new UsageError("bad") }).code, 2);
});
