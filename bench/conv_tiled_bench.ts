/**
 * The overhead of seamless tiling: `runTiled` over a 2048² image in 256-pixel tiles (plus the
 * halo), per output pixel, against one untiled forward pass of a 256² tile, same net, same run
 * (the target: at most 1.10). The halo's extra input, the band reads, the batch copies
 * and the stitching are the overhead measured.
 *
 * Nets: `small` (through `ConvNet` when `nn/convnet.ts` is in the build, else the same layers
 * through `conv2d` with the seeded weights of `_conv_small_net.ts`) and, with `ConvNet`, the
 * `refiner` (its halo of 128 input pixels makes a 256-pixel tile read 512², so its ratio is
 * dominated by the halo, not by runTiled).
 *
 * Run: `deno bench -A --frozen bench/conv_tiled_bench.ts` (quick mode `PRISM_BENCH_QUICK=1`:
 * 256² in 64-pixel tiles). Each net prints its medians and the ratio before Deno's table. Name
 * the CPU (`lscpu`) beside any figure quoted.
 *
 * @module
 */

import { runTiled, type TiledNet } from "../nn/tiled.ts";
import { randomF32 } from "../synth/uniform.ts";
import { DeviceTensor, toDevice } from "../tensor/device_tensor.ts";
import type { ImageLike } from "../ops/conv2d.ts";
import spec from "../nn/specs/small.json" with { type: "json" };
import { size } from "./_config.ts";
import { smallNetForward, smallNetLayers } from "./_conv_small_net.ts";

const IMAGE = size(2048, 256);
const TILE = size(256, 64);
const REPS = size(3, 1);

interface BenchNet extends TiledNet {
  dispose?(): void;
}

/** `small` through `conv2d` on WASM, as a `TiledNet`. */
function smallStandIn(): BenchNet {
  const layers = smallNetLayers();
  return {
    spec,
    inputChannels: 6,
    outputChannels: 6,
    scale: 1,
    async forward(x: ImageLike) {
      if (x instanceof DeviceTensor) return await smallNetForward(x, layers, "wasm");
      using input = await toDevice(x.data, { shape: x.shape });
      return await smallNetForward(input, layers, "wasm");
    },
  };
}

async function nets(): Promise<[string, BenchNet][]> {
  const path = "../nn/convnet.ts";
  try {
    const { ConvNet } = await import(path) as {
      ConvNet: { fromSpec(name: string): Promise<BenchNet> };
    };
    return [["small", await ConvNet.fromSpec("small")], [
      "refiner",
      await ConvNet.fromSpec("refiner"),
    ]];
  } catch {
    console.log("nn/convnet.ts is not in this build: small through conv2d, no refiner");
    return [["small (conv2d)", smallStandIn()]];
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function time(fn: () => Promise<unknown>, reps: number): Promise<number> {
  await fn(); // warm-up: kernels compiled, weights packed
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

const cases: [string, BenchNet][] = await nets();
const images = new Map<number, Float32Array>();
for (const [name, net] of cases) {
  const c = net.inputChannels;
  const image = { data: randomF32(IMAGE * IMAGE * c, 1), shape: [IMAGE, IMAGE, c] };
  images.set(c, image.data);
  const tile = { data: randomF32(TILE * TILE * c, 2), shape: [1, TILE, TILE, c] };
  const untiled = await time(async () => (await net.forward(tile)).dispose(), size(10, 2));
  const outTile = TILE * TILE * net.scale * net.scale;
  for (const batchSize of [1, 4]) {
    const tiled = await time(() => runTiled(net, image, { tileSize: TILE, batchSize }), REPS);
    const outImage = IMAGE * IMAGE * net.scale * net.scale;
    const ratio = (tiled / outImage) / (untiled / outTile);
    console.log(
      `${name}: untiled ${TILE}² tile ${untiled.toFixed(1)} ms; tiled ${IMAGE}² (tile ` +
        `${TILE}, batch ${batchSize}) ${tiled.toFixed(0)} ms; per output pixel tiled/untiled ` +
        `${ratio.toFixed(3)} (target ≤ 1.10)`,
    );
  }
}

for (const [name, net] of cases) {
  const c = net.inputChannels;
  const image = { data: images.get(c)!, shape: [IMAGE, IMAGE, c] };
  Deno.bench(`${name} untiled ${TILE}² tile`, { group: name, baseline: true }, async () => {
    (await net.forward({
      data: image.data.subarray(0, TILE * TILE * c),
      shape: [1, TILE, TILE, c],
    }))
      .dispose();
  });
  Deno.bench(
    `${name} tiled ${IMAGE}² / ${(IMAGE / TILE) ** 2}`,
    { group: name, n: 2 },
    async () => {
      await runTiled(net, image, { tileSize: TILE });
    },
  );
}
