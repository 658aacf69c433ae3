import assert from "node:assert";
import { readNpy, writeNpy } from "../io/npy.ts";
import { readHdf5Dataset } from "../io/hdf5.ts";
import { randomF32 } from "../synth/uniform.ts";
import type { TiledNet } from "../nn/tiled.ts";
import { inTempDir } from "./_io_helpers.ts";
import { runWhole } from "./_tiny_nets.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    env: { XDG_RUNTIME_DIR: "/tmp" },
  }).output();
  const t = new TextDecoder();
  return { code: r.code, out: t.decode(r.stdout), err: t.decode(r.stderr) };
}

// The command runs ConvNet (helper "net"); until it is merged the end-to-end test is skipped.
const CONVNET = new URL("../nn/convnet.ts", import.meta.url);
const hasConvNet = await Deno.stat(CONVNET).then(() => true, () => false);
if (!hasConvNet) console.log("cli_conv_test: nn/convnet.ts is not in this build; skipping the run");

interface ConvNetLike extends TiledNet {
  save(path: string): Promise<void>;
  dispose(): void;
}

Deno.test({
  name: "cli conv: small net over a .npy image to .npy and .h5 equals the whole-image run",
  ignore: !hasConvNet,
  async fn() {
    const { ConvNet } = await import(CONVNET.href) as {
      ConvNet: { fromSpec(m: string, o?: { seed?: number }): Promise<ConvNetLike> };
    };
    const net = await ConvNet.fromSpec("small", { seed: 3 });
    const image = { data: randomF32(70 * 45 * 6, 5), shape: [70, 45, 6] };
    const whole = await runWhole(net, image);
    await inTempDir(async (dir) => {
      await net.save(`${dir}/w.h5`);
      await writeNpy(`${dir}/in.npy`, image);
      for (const out of ["out.npy", "out.h5"]) {
        const r = await cli(
          "conv",
          ...["--model", "small", "--weights", `${dir}/w.h5`, "--input", `${dir}/in.npy`],
          ...["--out", `${dir}/${out}`, "--tile-size", "32", "--batch-size", "2"],
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
