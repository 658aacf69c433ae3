import assert from "node:assert";
import { readNpy, writeNpy } from "../io/npy.ts";
import { readHdf5Dataset, writeHdf5 } from "../io/hdf5.ts";
import { randomF32 } from "../synth/uniform.ts";
import { ConvNet } from "../nn/convnet.ts";
import { inTempDir } from "./_io_helpers.ts";
import { runWhole } from "./_tiny_nets.ts";
import { runCli } from "./_cli_helpers.ts";

/** The CLI in a subprocess, as a user runs it. */
const cli = (...args: string[]) => runCli(args);

Deno.test({
  name: "cli conv: small net over a .npy image to .npy and .h5 equals the whole-image run",
  async fn() {
    const net = await ConvNet.fromSpec("small", { seed: 3 });
    const image = { data: randomF32(70 * 45 * 6, 5), shape: [70, 45, 6] };
    const whole = await runWhole(net, image);
    await inTempDir(async (dir) => {
      await net.save(`${dir}/w.h5`);
      await writeNpy(`${dir}/in.npy`, image);
      await writeHdf5(`${dir}/in.h5`, { datasets: [{ path: "img", ...image }] });
      const spec = new URL("../nn/specs/small.json", import.meta.url).pathname;
      // A built-in name with .npy in; a spec file with an HDF5 dataset in.
      const inputs = {
        "out.npy": ["--model", "small", "--input", `${dir}/in.npy`],
        "out.h5": ["--model", spec, "--input", `${dir}/in.h5`, "--dataset", "/img"],
      };
      for (const [out, args] of Object.entries(inputs)) {
        const r = await cli(
          "conv",
          ...args,
          ...["--weights", `${dir}/w.h5`, "--out", `${dir}/${out}`],
          ...["--tile-size", "32", "--batch-size", "2"],
        );
        assert.strictEqual(r.code, 0, r.err);
        assert(r.out.includes("[70 x 45 x 6] -> [70 x 45 x 6]"), r.out);
        const got = out.endsWith("npy")
          ? (await readNpy(`${dir}/${out}`)).data
          : (await readHdf5Dataset(`${dir}/${out}`, "output")).data;
        assert.strictEqual(got.length, whole.data.length);
        for (let i = 0; i < got.length; i++) {
          const tol = 1e-5 * Math.max(1, Math.abs(whole.data[i]));
          assert(Math.abs(Number(got[i]) - whole.data[i]) <= tol, `${out}[${i}]`);
        }
      }
    });
    net.dispose();
  },
});

Deno.test("cli conv: a tile smaller than the refiner's receptive field is a clear error", async () => {
  await inTempDir(async (dir) => {
    await writeNpy(`${dir}/in.npy`, { data: new Float32Array(40 * 40 * 4), shape: [40, 40, 4] });
    const r = await cli(
      "conv",
      ...["--model", "refiner", "--input", `${dir}/in.npy`, "--out", `${dir}/o.npy`],
      ...["--tile-size", "128"],
    );
    assert.strictEqual(r.code, 1, r.err);
    assert(/smaller than the receptive field .*at least 224/.test(r.err), r.err);
    assert(r.out.includes("seeded random weights"), r.out);
    assert.deepStrictEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["in.npy"]);
  });
});

Deno.test("cli conv: bad arguments are usage errors (exit 2) that name the option", async () => {
  for (
    const [args, text] of <[string[], string][]> [
      [["--input", "a.npy", "--out", "b.npy"], "--model is required"],
      [["--model", "small", "--input", "a.npy", "--out", "b.png"], "use a .npy, .h5"],
      [
        ["--model", "small", "--input", "a.npy", "--out", "b.npy", "--tile-size", "0"],
        "--tile-size",
      ],
      [
        ["--model", "small", "--input", "a.npy", "--out", "b.npy", "--precision", "f64"],
        "--precision",
      ],
    ]
  ) {
    const r = await cli("conv", ...args);
    assert.strictEqual(r.code, 2, r.err);
    assert(r.err.includes(text), r.err);
  }
});
