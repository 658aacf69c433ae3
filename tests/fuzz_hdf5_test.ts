import assert from "node:assert";
import { writeHdf5 } from "../io/hdf5.ts";
import { seededUniform } from "../core/seeded_uniform.ts";

// A seeded mutation fuzz of the HDF5 readers: a few hundred files made here from small valid
// ones (byte flips, truncations, overwritten fields in the superblock and object headers), each
// read through every public reader in a subprocess with a small memory budget. It fails on any
// error that is not a prism error, on a file that takes longer than PER_FILE_MS (the subprocess
// is killed and restarted after it), and on an allocation over the budget.

const FILES = 500;
const SEED = 0x5eed_0405;
const PER_FILE_MS = 10_000;
const BUDGET = "64M";

interface Seed {
  bytes: Uint8Array;
  datasets: string[];
}

async function prismSeeds(dir: string): Promise<Seed[]> {
  const ramp = (n: number) => new Float32Array(n).map((_, i) => i * 0.5 - 3);
  await writeHdf5(`${dir}/a.h5`, {
    attrs: { title: "seed a", bands: [400, 500, 600], scale: 0.25 },
    groups: [{ path: "g", attrs: { names: ["x", "y"] } }],
    datasets: [
      { path: "g/cube", data: ramp(16 * 3), shape: [16, 3], attrs: { unit: "W" } },
      { path: "g/z", data: ramp(64 * 4), shape: [64, 4], gzip: 6, chunks: [8, 4] },
      { path: "n", data: new Int32Array([1, -2, 3, 4, 5]), shape: [5] },
      { path: "s", data: new Float64Array([2.5]), shape: [] },
    ],
  });
  await writeHdf5(`${dir}/b.h5`, {
    datasets: [
      {
        path: "img",
        data: new Uint8Array(4 * 4 * 2).map((_, i) => i),
        shape: [4, 4, 2],
        chunks: [2, 4, 2],
      },
      { path: "d/m", data: new Float64Array(9).map((_, i) => i), shape: [3, 3], gzip: 1 },
      { path: "d/q", data: new BigInt64Array([1n, 2n, 3n]), shape: [3] },
    ],
  });
  return [
    { bytes: await Deno.readFile(`${dir}/a.h5`), datasets: ["/g/cube", "/g/z", "/n", "/s"] },
    { bytes: await Deno.readFile(`${dir}/b.h5`), datasets: ["/img", "/d/m", "/d/q"] },
  ];
}

/** Files in HDF5's earliest formats (v0 superblock, symbol tables, v1 B-trees), from h5py. */
async function h5pySeeds(dir: string): Promise<Seed[]> {
  const script = `
import h5py, numpy as np, sys
with h5py.File(sys.argv[1] + "/c.h5", "w", libver="earliest") as f:
    f.attrs["v"] = 3
    f.create_dataset("x", data=np.arange(60, dtype="<f4").reshape(20, 3))
    f.create_dataset("g/y", data=np.arange(40, dtype="<i2").reshape(10, 4), chunks=(3, 4),
                     compression="gzip", shuffle=True, fletcher32=True)
    f.create_dataset("g/r", data=np.arange(8, dtype="<f8"), maxshape=(None,), chunks=(4,))
    f["g"].attrs["s"] = "text"
`;
  try {
    const out = await new Deno.Command("python3", { args: ["-c", script, dir], stderr: "piped" })
      .output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr).slice(-200));
  } catch (error) {
    console.log(`fuzz: skipping the h5py seed (python3 with h5py unavailable: ${error})`);
    return [];
  }
  return [{ bytes: await Deno.readFile(`${dir}/c.h5`), datasets: ["/x", "/g/y", "/g/r"] }];
}

const SIGNATURES = [
  "OHDR",
  "OCHK",
  "TREE",
  "BTHD",
  "BTLF",
  "FRHP",
  "FHDB",
  "FSHD",
  "HEAP",
  "SNOD",
  "GCOL",
]
  .map((s) => new TextEncoder().encode(s));

/** Offsets of the superblock and of every structure signature in the file. */
function structureOffsets(bytes: Uint8Array): number[] {
  const at = [0];
  for (let i = 0; i + 4 <= bytes.length; i++) {
    if (SIGNATURES.some((s) => s.every((b, k) => bytes[i + k] === b))) at.push(i);
  }
  return at;
}

function mutate(seed: Uint8Array, next: () => number): { bytes: Uint8Array; kind: string } {
  const pick = (n: number) => Math.floor(next() * n);
  const bytes = seed.slice();
  const kind = ["flip", "truncate", "field", "field"][pick(4)];
  if (kind === "flip") {
    for (let k = 1 + pick(8); k > 0; k--) bytes[pick(bytes.length)] ^= 1 + pick(255);
    return { bytes, kind };
  }
  if (kind === "truncate") return { bytes: bytes.slice(0, pick(bytes.length)), kind };
  // Overwrite a field of 1, 2, 4 or 8 bytes near a structure's start with 0, all-ones, a large
  // value or random bytes: sizes, addresses, counts and versions.
  const offsets = structureOffsets(seed);
  const base = offsets[pick(offsets.length)];
  const width = [1, 2, 4, 8][pick(4)];
  const at = Math.min(bytes.length - width, base + pick(48));
  const style = pick(4);
  for (let k = 0; k < width; k++) {
    bytes[at + k] = style === 0
      ? 0
      : style === 1
      ? 0xff
      : style === 2
      ? (k === width - 1 ? 0x7f : 0xff)
      : pick(256);
  }
  return { bytes, kind };
}

interface Outcome {
  ok: number;
  prism: number;
  uncaught: string[];
  hangs: number[];
  over: string[];
}

/** Runs the worker over entries `from` to `total - 1`, restarting it after a hang. */
async function runWorker(
  listPath: string,
  range: { from: number; total: number },
  outcome: Outcome,
): Promise<void> {
  const { total } = range;
  let first = range.from;
  while (first < total) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--frozen",
        new URL("./_fuzz_hdf5_worker.ts", import.meta.url).pathname,
        listPath,
        String(first),
        String(total),
      ],
      env: { PRISM_MEMORY_BUDGET: BUDGET },
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let current = first;
    let hung = false;
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), PER_FILE_MS);
      });
      const read = await Promise.race([lines.read(), timeout]);
      clearTimeout(timer);
      if (read === "timeout") {
        hung = true;
        break;
      }
      if (read.done) break;
      buffer += read.value;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const [tag, index, verdict, ...rest] = line.split(" ");
        if (tag === "B") current = Number(index);
        if (tag !== "E") continue;
        current = Number(index) + 1;
        if (verdict === "ok") outcome.ok++;
        else if (verdict === "prism") outcome.prism++;
        else if (verdict === "over") outcome.over.push(`${index}: ${rest.join(" ")}`);
        else outcome.uncaught.push(`${index}: ${rest.join(" ")}`);
      }
    }
    if (hung) {
      child.kill("SIGKILL");
      outcome.hangs.push(current);
    } else if (current < total) {
      // The worker died on file `current` (a crash of the process itself): count it as uncaught.
      outcome.uncaught.push(`${current}: the worker process exited`);
    }
    await lines.cancel().catch(() => {});
    await child.status;
    first = current + 1;
    if (!hung && current >= total) break;
  }
}

Deno.test(`HDF5 readers survive ${FILES} mutated files: no uncaught error, hang or over-budget allocation`, async () => {
  const started = performance.now();
  const dir = await Deno.makeTempDir({ prefix: "prism_fuzz_h5_" });
  try {
    const seeds = [...await prismSeeds(dir), ...await h5pySeeds(dir)];
    const next = seededUniform(SEED);
    const list: { path: string; datasets: string[]; kind: string }[] = [];
    for (let i = 0; i < FILES; i++) {
      const seed = seeds[i % seeds.length];
      const { bytes, kind } = mutate(seed.bytes, next);
      const path = `${dir}/m${String(i).padStart(4, "0")}.h5`;
      await Deno.writeFile(path, bytes);
      list.push({ path, datasets: seed.datasets, kind });
    }
    const listPath = `${dir}/list.json`;
    await Deno.writeTextFile(listPath, JSON.stringify(list));
    const outcome: Outcome = { ok: 0, prism: 0, uncaught: [], hangs: [], over: [] };
    // Two workers, each on half of the files.
    const half = Math.ceil(list.length / 2);
    await Promise.all([
      runWorker(listPath, { from: 0, total: half }, outcome),
      runWorker(listPath, { from: half, total: list.length }, outcome),
    ]);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `fuzz: ${list.length} HDF5 files from ${seeds.length} seeds: ${outcome.ok} read, ` +
        `${outcome.prism} refused with a prism error, ${outcome.uncaught.length} uncaught, ` +
        `${outcome.hangs.length} hangs, ${outcome.over.length} over the ${BUDGET} budget (${seconds} s)`,
    );
    const kindOf = (entry: string) => list[Number(entry.split(":")[0])]?.kind;
    assert.deepStrictEqual(outcome.uncaught.map((u) => `${u} [${kindOf(u)}]`), []);
    assert.deepStrictEqual(outcome.hangs.map((h) => `${h} [${list[h]?.kind}]`), []);
    assert.deepStrictEqual(outcome.over, []);
    assert.strictEqual(outcome.ok + outcome.prism, list.length);
  } finally {
    if (Deno.env.get("PRISM_FUZZ_KEEP") === undefined) await Deno.remove(dir, { recursive: true });
    else console.log(`fuzz: files kept in ${dir}`);
  }
});
