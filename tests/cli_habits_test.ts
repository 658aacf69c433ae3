/**
 * Issue 9 item 7, the CLI's habits: `--version`, "did you mean" for commands and flags, `--json`
 * on every command, `--quiet`, output paths checked before any work, and one rule for HDF5
 * inputs without `--dataset`.
 */
import assert from "node:assert/strict";
import meta from "../deno.json" with { type: "json" };
import { writeNpy } from "../io/npy.ts";
import { writeHdf5 } from "../io/hdf5.ts";
import { synthCube } from "../synth/cube.ts";
import { inTempDir, listDir } from "./_io_helpers.ts";
import { runCli, runMain } from "./_cli_helpers.ts";
import { closestNames, editDistance } from "../cli/_suggest.ts";

const { cube } = synthCube({ height: 11, width: 7, bands: 5, seed: 9 });

Deno.test("--version prints deno.json's version, as text or JSON, before or after a command", async () => {
  let r = await runCli(["--version"]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, `prism ${meta.version}\n`);
  r = await runCli(["cov", "--version", "--json"]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(r.out), { name: meta.name, version: meta.version });
});

Deno.test("editDistance counts insertions, deletions, substitutions and neighbour swaps", () => {
  const cases: [string, string, number][] = [
    ["", "", 0],
    ["", "abc", 3],
    ["kitten", "sitting", 3],
    ["covv", "cov", 1],
    ["ca", "ac", 1],
    ["spectrum", "sepctrum", 1],
    ["abc", "cba", 2],
    ["out", "out", 0],
  ];
  for (const [a, b, d] of cases) {
    assert.equal(editDistance(a, b), d, `${a} / ${b}`);
    assert.equal(editDistance(b, a), d, `${b} / ${a}`);
  }
  assert.deepEqual(closestNames("spectrm", ["spectrum", "synth", "rx"]), ["spectrum"]);
  assert.deepEqual(closestNames("x", ["rx", "cov"]), []);
  assert.deepEqual(closestNames("track", ["track-demo", "tour"]), ["track-demo"]);
});

Deno.test("a misspelled command or flag gets the nearest names; a far-off one gets none", async () => {
  let r = await runMain(["covv"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown command "covv"; did you mean cov\b/);
  r = await runMain(["cov", "--outt", "x.json"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown option --outt; did you mean --out\?/);
  r = await runMain(["rx", "--inptu", "a.npy"]);
  assert.match(r.err, /did you mean --input\?/);
  r = await runMain(["spectrum", "--jsno"]);
  assert.match(r.err, /did you mean --json\?/);
  r = await runMain(["zzzzzzzz"]);
  assert.equal(r.code, 2);
  assert.doesNotMatch(r.err, /did you mean/);
  r = await runMain(["cov", "--qqqqqq"]);
  assert.equal(r.code, 2);
  assert.doesNotMatch(r.err, /did you mean/);
});

/** Parses the one JSON document on stdout and checks the human text went to stderr. */
function summaryOf(r: { code: number; out: string; err: string }, command: string) {
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out);
  assert.equal(doc.command, command);
  assert.equal(doc.ok, true);
  return doc;
}

Deno.test("--json on every command prints one JSON summary on stdout, the report on stderr", () =>
  inTempDir(async (dir) => {
    await writeNpy(`${dir}/c.npy`, { data: cube.data, shape: [11, 7, 5] });
    let doc = summaryOf(await runMain(["info", "--json"]), "info");
    assert.equal(typeof doc.wasm.simd, "boolean");

    let r = await runMain(["cov", "--input", `${dir}/c.npy`, "--out", `${dir}/s.json`, "--json"]);
    doc = summaryOf(r, "cov");
    assert.equal(doc.count, 77);
    assert.match(r.err, /cov: 77 pixels x 5 bands/);

    r = await runMain(["rx", "--json", "--input", `${dir}/c.npy`, "--out", `${dir}/s.npy`]);
    doc = summaryOf(r, "rx");
    assert.deepEqual([doc.rank, doc.shape], [5, [11, 7]]);
    assert.deepEqual(doc.outputs, [`${dir}/s.npy`]);

    await writeNpy(`${dir}/a.npy`, { data: cube.data, shape: [77, 5] });
    doc = summaryOf(await runMain(["spectrum", "--input", `${dir}/a.npy`, "--json"]), "spectrum");
    assert.equal(doc.count, 5);
    assert(doc.metrics.stable_rank >= 1);

    r = await runMain([
      "synth",
      "--scale",
      "small",
      "--samples",
      "1",
      "--out",
      `${dir}/d.npy`,
      "--json",
    ]);
    assert.deepEqual(summaryOf(r, "synth").shape, [1, 64, 64, 10]);

    await writeNpy(`${dir}/img.npy`, {
      data: new Float32Array(5 * 3 * 6).fill(0.5),
      shape: [5, 3, 6],
    });
    r = await runMain([
      "conv",
      "--model",
      "small",
      "--input",
      `${dir}/img.npy`,
      "--out",
      `${dir}/o.npy`,
      "--json",
    ]);
    assert.deepEqual(summaryOf(r, "conv").outputShape, [5, 3, 6]);

    r = await runMain([
      "track-demo",
      "--steps",
      "4",
      "--sampling",
      "2",
      "--out-dir",
      dir,
      "--json",
    ]);
    doc = summaryOf(r, "track-demo");
    assert.equal(doc.files.length, 3);
    assert.equal(doc.frequencies[0].samplingFrequency, 2);

    r = await runMain(["tour", "--no-gpu", "--out-dir", `${dir}/tour`, "--json"]);
    doc = summaryOf(r, "tour");
    assert(doc.steps.length > 3 && doc.files.length > 0);

    // A failure is a JSON document too, with the exit code and the error; the message on stderr.
    r = await runMain(["bench", "--json", "no-such-report"]);
    assert.equal(r.code, 2);
    doc = JSON.parse(r.out);
    assert.deepEqual([doc.command, doc.ok, doc.exitCode, doc.error.kind], [
      "bench",
      false,
      2,
      "UsageError",
    ]);
    assert.match(r.err, /unknown report "no-such-report"/);
    assert.match((await runMain(["bench", "spectrm"])).err, /did you mean spectrum\?/);
  }));

Deno.test("--quiet prints nothing on stdout; errors still go to stderr", () =>
  inTempDir(async (dir) => {
    await writeNpy(`${dir}/c.npy`, { data: cube.data, shape: [11, 7, 5] });
    let r = await runCli(["rx", "--quiet", "--input", `${dir}/c.npy`, "--out", `${dir}/s.h5`]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, "");
    assert.equal(r.err, "");
    assert((await Deno.stat(`${dir}/s.h5`)).size > 0);
    r = await runCli(["rx", "--quiet", "--input", `${dir}/none.npy`, "--out", `${dir}/t.npy`]);
    assert.equal(r.code, 1);
    assert.equal(r.out, "");
    assert.match(r.err, /^prism rx: NotFound: .*none\.npy/);
    // With --json as well, stdout holds just the JSON.
    r = await runCli([
      "cov",
      "--quiet",
      "--json",
      "--input",
      `${dir}/c.npy`,
      "--out",
      `${dir}/s.json`,
    ]);
    assert.equal(JSON.parse(r.out).count, 77);
    assert.equal(r.err, "");
  }));

Deno.test("a bad output path is refused before any work, and nothing is written", () =>
  inTempDir(async (dir) => {
    // The input does not exist: a command that started work would fail on it, not on --out.
    const input = `${dir}/missing.npy`;
    await Deno.writeTextFile(`${dir}/file`, "x");
    await Deno.mkdir(`${dir}/folder.npy`);
    const before = await listDir(dir);
    for (const command of ["rx", "cov", "spectrum", "conv", "synth"]) {
      const ext = command === "spectrum" || command === "cov" ? "json" : "npy";
      const cases: [string, number, RegExp][] = [
        [`${dir}/nope/o.${ext}`, 1, /--out .*nope\/o\.\w+: the folder .* does not exist/],
        [`${dir}/file/o.${ext}`, 1, /is a file, not a directory/],
        [`${dir}/folder.npy`, 1, /--out .*folder\.npy: the output path .* is a folder/],
        [`${dir}/o.txt`, 2, /unknown output extension \.txt/],
      ];
      for (const [out, code, message] of cases) {
        const args = command === "synth"
          ? ["synth", "--scale", "small", "--out", out]
          : command === "conv"
          ? ["conv", "--model", "small", "--input", input, "--out", out]
          : [command, "--input", input, "--out", out];
        const r = await runMain(args);
        assert.equal(r.code, code, `${args.join(" ")}: ${r.err}`);
        assert.match(r.err, message, args.join(" "));
      }
    }
    const r = await runMain([
      "rx",
      "--input",
      input,
      "--out",
      `${dir}/o.npy`,
      "--top",
      "3",
      "--top-out",
      `${dir}/nope/t.csv`,
    ]);
    assert.match(r.err, /--top-out .*nope\/t\.csv: the folder/);
    // A --out-dir that is a file fails before the training runs.
    const t = await runMain(["track-demo", "--steps", "2", "--out-dir", `${dir}/file`]);
    assert.equal(t.code, 1, t.err);
    assert.doesNotMatch(t.err, /twin runs x 2 steps/);
    assert.deepEqual(await listDir(dir), before);
  }));

Deno.test("HDF5 input without --dataset: every command takes the only candidate, else lists them", () =>
  inTempDir(async (dir) => {
    await writeHdf5(`${dir}/one.h5`, {
      datasets: [
        { path: "data/cube", data: cube.data, shape: [11, 7, 5] },
        { path: "labels", data: new Int32Array(77), shape: [11, 7] },
        { path: "name", data: new Float32Array(1), shape: [1] },
      ],
    });
    await writeHdf5(`${dir}/two.h5`, {
      datasets: [
        { path: "a", data: cube.data, shape: [11, 7, 5] },
        { path: "b", data: cube.data, shape: [77, 5] },
      ],
    });
    const ref = await runMain([
      "cov",
      "--input",
      `${dir}/one.h5`,
      "--dataset",
      "/data/cube",
      "--out",
      `${dir}/ref.json`,
    ]);
    assert.equal(ref.code, 0, ref.err);
    for (
      const [command, out] of [["cov", "c.json"], ["rx", "r.npy"], ["spectrum", "s.json"]]
    ) {
      const r = await runMain([
        command,
        "--input",
        `${dir}/one.h5`,
        "--out",
        `${dir}/${out}`,
        "--json",
      ]);
      assert.equal(r.code, 0, `${command}: ${r.err}`);
      if (command !== "spectrum") assert.equal(JSON.parse(r.out).dataset, "/data/cube");
      const two = await runMain([
        command,
        "--input",
        `${dir}/two.h5`,
        "--out",
        `${dir}/x.${out.split(".")[1]}`,
      ]);
      assert.equal(two.code, 2, `${command}: ${two.err}`);
      assert.match(
        two.err,
        /holds 2 numeric datasets .*choose one with --dataset: \/a \[11, 7, 5\] float32, \/b \[77, 5\] float32/,
      );
    }
    assert.deepEqual(
      JSON.parse(await Deno.readTextFile(`${dir}/c.json`)),
      JSON.parse(await Deno.readTextFile(`${dir}/ref.json`)),
    );
  }));
