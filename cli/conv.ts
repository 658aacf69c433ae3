/**
 * `deno run -A cli.ts conv --model small --input image.npy --out out.npy`: a convolutional
 * network over an image of any size, tile by tile (`runTiled`), streamed from the input file to
 * the output file so neither has to fit in memory.
 *
 * @module
 */

import { type Command, UsageError } from "./_command.ts";
import { numberOption, parseCommandArgs } from "./_args.ts";
import { checkBackend } from "./_backend_flag.ts";
import { checkOutputPath } from "./_out_path.ts";
import { chooseDataset } from "./_dataset.ts";
import { openImageSource } from "../io/image_source.ts";
import { ConvNet } from "../nn/convnet.ts";
import { runTiled } from "../nn/tiled.ts";
import { outputExtent } from "../nn/tiling.ts";
import { releaseGpu } from "../gpu/device.ts";

const USAGE = `usage: deno run -A cli.ts conv --model M --input FILE --out OUT [options]

Runs a convolutional network over an image [h, w, c] of any size in tiles whose output equals
one pass over the whole image, streaming rows from FILE to OUT.

  --model M          small | refiner | convnext-head | mlp, or a spec .json file
  --weights W        weights .h5 (one dataset per parameter); default: seeded random weights
  --input FILE       .npy or .h5/.hdf5 (with --dataset), [h, w, c] or [h, w]
  --dataset PATH     the image's dataset inside an HDF5 input, e.g. /image (default: its
                     only numeric dataset of 2 or 3 axes, else the only float one)
  --out OUT          .npy or .h5 (dataset /output, chunked, gzip)
  --tile-size N      output-aligned input pixels per tile side, without the halo (default 256)
  --batch-size N     tiles per forward pass (default 1)
  --backend B        auto | wasm | webgpu (default auto)
  --precision P      f32 | f16 (f16 on WebGPU only; default f32)`;

/** The `conv` command. */
export const convCommand: Command = {
  name: "conv",
  summary: "a convolutional network over an image of any size, in seamless tiles",
  example: "deno run -A cli.ts conv --model small --input image.npy --out refined.npy",
  usage: USAGE,
  async run(args, out) {
    const { values } = parseCommandArgs(args, {
      model: { type: "string" },
      weights: { type: "string" },
      input: { type: "string" },
      dataset: { type: "string" },
      out: { type: "string" },
      "tile-size": { type: "string" },
      "batch-size": { type: "string" },
      backend: { type: "string", default: "auto" },
      precision: { type: "string", default: "f32" },
    });
    if (!values.model) throw new UsageError("--model is required (small, refiner or a .json)");
    if (!values.input) throw new UsageError("--input is required");
    if (!values.out) throw new UsageError("--out is required");
    await checkOutputPath(values.out, { allowed: ["npy", "h5"] });
    const backend = checkBackend(values.backend);
    const precision = values.precision;
    if (precision !== "f32" && precision !== "f16") {
      throw new UsageError(`--precision must be f32 or f16, got "${precision}"`);
    }
    const tileSize = wholeOption("tile-size", values["tile-size"], 256);
    const batchSize = wholeOption("batch-size", values["batch-size"], 1);
    const net = await ConvNet.fromSpec(values.model);
    try {
      if (values.weights) await net.load(values.weights);
      else out.say(`no --weights: ${net.spec.name} runs with seeded random weights`);
      const dataset = await chooseDataset(values.input, { dataset: values.dataset, axes: [2, 3] });
      using source = await openImageSource(values.input, { dataset });
      const progress = out.progress("conv");
      const t0 = performance.now();
      await runTiled(net, source, {
        tileSize,
        batchSize,
        backend,
        precision,
        output: values.out,
        onProgress: (done, total) => progress(done, total, "tiles"),
      });
      const secs = (performance.now() - t0) / 1000;
      const { height, width, channels } = source;
      const outShape = [
        outputExtent(net.spec, 0, height),
        outputExtent(net.spec, 1, width),
        net.outputChannels,
      ];
      out.summary({
        model: net.spec.name,
        parameters: net.parameterCount,
        input: values.input,
        ...(dataset === undefined ? {} : { dataset }),
        inputShape: [height, width, channels],
        outputShape: outShape,
        outputs: [values.out],
        seconds: secs,
      });
      out.say(
        `conv ${net.spec.name} (${net.parameterCount} parameters): [${height} x ${width} x ` +
          `${channels}] -> [${outShape.join(" x ")}] in ${values.out}, time ${
            secs.toFixed(2)
          } s, ` +
          `${(height * width / secs / 1e6).toFixed(3)} Mpixel/s`,
      );
    } finally {
      net.dispose();
      await releaseGpu();
    }
    return 0;
  },
};

function wholeOption(name: string, value: string | undefined, fallback: number): number {
  const n = numberOption(name, { value, fallback });
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`--${name} must be a whole number ≥ 1, got "${value}"`);
  }
  return n;
}
