/**
 * `deno run -A cli.ts synth --scale small --out cubes.(h5|npy)`: writes a synthetic dataset of
 * the RX stress suite's reference generator sample by sample, never holding more than one sample.
 *
 * HDF5 output holds datasets `cube` (N × H × W × C float32), `labels` (N × H × W int32) and
 * `mask` (N × H × W uint8), chunked one sample per chunk. `.npy` output holds the cube only.
 *
 * @module
 */

import { statfs } from "node:fs/promises";
import { type Command, UsageError } from "./_command.ts";
import { numberOption, parseCommandArgs } from "./_args.ts";
import { checkOutputPath } from "./_out_path.ts";
import { type ScaleName, SCALES, synthDataset } from "../synth/datasets.ts";
import { withAtomicPath } from "../io/atomic.ts";
import { loadH5wasm } from "../io/_h5wasm.ts";
import { yieldToSignals } from "./_signals.ts";

const USAGE = `usage: deno run -A cli.ts synth --scale NAME --out OUT [options]

Writes a seeded synthetic hyperspectral dataset (the RX stress suite's reference generator), one sample at a time.

  --scale NAME    small (10 x 64x64x10), medium (100 x 128x128x50),
                  large (1000 x 256x256x100), extra-large (10000 x 512x512x200)
  --samples N     write only the first N samples
  --seed S        dataset seed (default 0)
  --out OUT       .h5 (cube, labels, mask) or .npy (cube only, N x H x W x C float32)`;

/** The `synth` command. */
export const synthCommand: Command = {
  name: "synth",
  summary: "write a synthetic hyperspectral dataset (.h5 or .npy), streamed",
  example: "deno run -A cli.ts synth --scale small --samples 2 --out cube.npy",
  usage: USAGE,
  async run(args, out) {
    const { values } = parseCommandArgs(args, {
      scale: { type: "string" },
      samples: { type: "string" },
      seed: { type: "string" },
      out: { type: "string" },
    });
    if (!values.scale || !(values.scale in SCALES)) {
      throw new UsageError(`--scale must be one of ${Object.keys(SCALES).join(", ")}`);
    }
    if (!values.out) throw new UsageError("--out is required");
    const format = await checkOutputPath(values.out, { allowed: ["h5", "npy"] });
    const scale = SCALES[values.scale as ScaleName];
    const samples = numberOption("samples", { value: values.samples, fallback: scale.samples });
    if (!Number.isInteger(samples) || samples < 1 || samples > scale.samples) {
      throw new UsageError(`--samples must be a whole number in 1..${scale.samples}`);
    }
    const seed = numberOption("seed", { value: values.seed, fallback: 0 });
    const { height: H, width: W, bands: C } = scale;
    const perSample = H * W * (C * 4 + (format === "h5" ? 5 : 0));
    const free = await freeBytes(values.out);
    if (free === undefined) {
      console.error(
        `synth: could not read the free space at ${values.out}; going on to write ` +
          `${gb(samples * perSample)}`,
      );
    }
    if (free !== undefined && samples * perSample > free * 0.95) {
      const fit = Math.floor(free * 0.95 / perSample);
      throw new UsageError(
        `${values.scale} needs ${gb(samples * perSample)} but the output's file system has ` +
          `${gb(free)} free; pass --samples ${Math.max(1, fit)} or less` +
          (fit < 1 ? " (not even one sample fits: free some space)" : ""),
      );
    }
    const progress = out.progress("synth");
    const t0 = performance.now();
    const gen = synthDataset(values.scale as ScaleName, { seed, count: samples });
    await withAtomicPath(values.out, async (tmp) => {
      if (format === "npy") {
        using file = await Deno.open(tmp, { write: true, create: true, truncate: true });
        // The header of an N x H x W x C float32 array, then the samples in order.
        const full = encodeNpyHeader([samples, H, W, C]);
        await writeAll(file, full);
        for await (const s of gen) {
          await writeAll(
            file,
            new Uint8Array(s.cube.data.buffer, s.cube.data.byteOffset, s.cube.data.byteLength),
          );
          progress(s.index + 1, samples, "samples");
          await yieldToSignals();
        }
      } else {
        const h5 = await loadH5wasm();
        const file = new h5.File(tmp, "w");
        try {
          const make = (name: string, dtype: string, extra: number[]) =>
            file.create_dataset({
              name,
              data: new (dtype === "<f" ? Float32Array : dtype === "<i" ? Int32Array : Uint8Array)(
                0,
              ),
              shape: [0, H, W, ...extra],
              maxshape: [null, H, W, ...extra],
              chunks: [1, H, W, ...extra],
              dtype,
            });
          const cube = make("cube", "<f", [C]);
          const labels = make("labels", "<i", []);
          const mask = make("mask", "<B", []);
          file.create_attribute("scale", values.scale!);
          file.create_attribute("seed", seed);
          for await (const s of gen) {
            const n = s.index + 1;
            for (const d of [cube, labels, mask]) d.resize([n, H, W, ...(d === cube ? [C] : [])]);
            cube.write_slice([[s.index, n]], s.cube.data);
            labels.write_slice([[s.index, n]], s.labels);
            mask.write_slice([[s.index, n]], s.mask);
            progress(n, samples, "samples");
            await yieldToSignals();
          }
        } finally {
          file.close();
        }
      }
    });
    const secs = (performance.now() - t0) / 1000;
    out.summary({
      scale: values.scale,
      samples,
      seed,
      shape: [samples, H, W, C],
      outputs: [values.out],
      seconds: secs,
    });
    out.say(
      `synth ${values.scale}: ${samples} samples of ${H}x${W}x${C} in ${secs.toFixed(2)} s ` +
        `(${(samples / secs).toFixed(2)} samples/s) -> ${values.out}`,
    );
    return 0;
  },
};

function gb(bytes: number): string {
  return `${(bytes / 1e9).toFixed(2)} GB`;
}

/** The `.npy` header of a C-order float32 array of `shape` (v1, padded to 64 bytes). */
function encodeNpyHeader(shape: number[]): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(", ")}), }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const text = dict.padEnd(total - 10 - 1, " ") + "\n";
  const out = new Uint8Array(total);
  out.set([0x93, ...new TextEncoder().encode("NUMPY"), 1, 0]);
  new DataView(out.buffer).setUint16(8, text.length, true);
  out.set(new TextEncoder().encode(text), 10);
  return out;
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
}

/**
 * Free bytes of the file system holding `path`, or undefined when unknown. `statfs` asks the
 * kernel directly: no `df` on PATH is needed, so an unknown answer is rare.
 */
async function freeBytes(path: string): Promise<number | undefined> {
  const slash = path.lastIndexOf("/");
  const dir = slash > 0 ? path.slice(0, slash) : slash === 0 ? "/" : ".";
  try {
    const fs = await statfs(dir);
    const n = fs.bavail * fs.bsize;
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}
