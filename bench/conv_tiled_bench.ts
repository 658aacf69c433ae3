/**
 * The overhead of seamless tiling: `runTiled` over a 2048² image in 256-pixel tiles (plus the
 * halo), per output pixel, against one untiled forward pass of a 256² tile, same net, same run
 * (the issue's target: at most 1.10). The halo's extra input, the band reads, the batch copies
 * and the stitching are the overhead measured.
 *
 * Nets: `ConvNet`'s `small` and `refiner` (seeded weights; the refiner over 1024²). The refiner's halo of 128 input
 * pixels makes a 256-pixel tile read up to 512², so its ratio is set by the halo (the receptive
 * field), not by runTiled's own work.
 *
 * Times are the least of several runs, wall and CPU time (the machine is shared).
 * Run: `deno bench -A --frozen bench/conv_tiled_bench.ts` (quick mode `PRISM_BENCH_QUICK=1`:
 * 256² in 64-pixel tiles). Each net prints its medians and the ratio before Deno's table. Name
 * the CPU (`lscpu`) beside any figure quoted.
 *
 * @module
 */

import process from "node:process";
import { ConvNet } from "../nn/convnet.ts";
import { runTiled } from "../nn/tiled.ts";
import { randomF32 } from "../synth/uniform.ts";
import { size } from "./_config.ts";

/** Per net: image side, tile size (the refiner's needs ≥ 224, its receptive field), reps, batches. */
interface Case {
  name: string;
  net: ConvNet;
  image: number;
  tile: number;
  reps: number;
  batches: number[];
}

const cases: Case[] = [
  {
    name: "small",
    net: await ConvNet.fromSpec("small"),
    image: size(2048, 256),
    tile: size(256, 64),
    reps: size(3, 1),
    batches: [1, 4],
  },
  {
    name: "refiner",
    net: await ConvNet.fromSpec("refiner"),
    // 1024² (16 tiles of up to 512² with the halo): 2048² takes many minutes on 2 cores.
    image: size(1024, 512),
    tile: 256,
    reps: 1,
    batches: [1],
  },
];

/** Wall and CPU (all threads of this process: main and pool workers) milliseconds. */
interface Cost {
  wall: number;
  cpu: number;
}

/**
 * The least wall time and the least CPU time of `reps` runs after a warm-up. On a shared machine
 * other work only ever adds wall time, so the least is the steadiest wall figure; CPU time of
 * this process is nearly blind to other processes, so its ratio is the steadier of the two.
 */
async function time(fn: () => Promise<unknown>, reps: number): Promise<Cost> {
  await fn(); // warm-up: kernels compiled, weights packed
  const best = { wall: Infinity, cpu: Infinity };
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    best.wall = Math.min(best.wall, wall);
    best.cpu = Math.min(best.cpu, (c.user + c.system) / 1000);
  }
  return best;
}

for (const { name, net, image: side, tile: TILE, reps, batches } of cases) {
  const c = net.inputChannels;
  const image = { data: randomF32(side * side * c, 1), shape: [side, side, c] };
  const tile = { data: randomF32(TILE * TILE * c, 2), shape: [1, TILE, TILE, c] };
  const untiledRun = async () => (await net.forward(tile)).dispose();
  const outTile = TILE * TILE * net.scale * net.scale;
  const outImage = side * side * net.scale * net.scale;
  for (const batchSize of batches) {
    // The untiled tile is timed before and after the tiled image, so a change of load between
    // the two is seen by both.
    const before = await time(untiledRun, size(10, 2));
    const tiled = await time(() => runTiled(net, image, { tileSize: TILE, batchSize }), reps);
    const after = await time(untiledRun, size(10, 2));
    const untiled = {
      wall: Math.min(before.wall, after.wall),
      cpu: Math.min(before.cpu, after.cpu),
    };
    const ratio = (k: keyof Cost) => ((tiled[k] / outImage) / (untiled[k] / outTile)).toFixed(3);
    console.log(
      `${name}: untiled ${TILE}² tile ${untiled.wall.toFixed(1)} ms (cpu ${
        untiled.cpu.toFixed(0)
      }); ` +
        `tiled ${side}² (tile ${TILE}, batch ${batchSize}) ${tiled.wall.toFixed(0)} ms (cpu ` +
        `${tiled.cpu.toFixed(0)}); per output pixel tiled/untiled: wall ${ratio("wall")}, cpu ` +
        `${ratio("cpu")} (target ≤ 1.10; least of ${reps} runs)`,
    );
  }
}

// Deno's table: the small net only (a refiner pass over 2048² takes minutes here).
{
  const { net, image: side, tile } = cases[0];
  const image = { data: randomF32(side * side * 6, 1), shape: [side, side, 6] };
  const x = { data: image.data.subarray(0, tile * tile * 6), shape: [1, tile, tile, 6] };
  Deno.bench(`small untiled ${tile}² tile`, { group: "small", baseline: true }, async () => {
    (await net.forward(x)).dispose();
  });
  Deno.bench(`small tiled ${side}² / ${(side / tile) ** 2}`, { group: "small", n: 2 }, async () => {
    await runTiled(net, image, { tileSize: tile });
  });
}
