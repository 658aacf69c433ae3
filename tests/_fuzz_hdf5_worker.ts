/**
 * The subprocess of `fuzz_hdf5_test.ts`: reads each listed HDF5 file through every public reader
 * and prints one line per file, so the parent can tell a hang (no line for too long), an uncaught
 * error (anything that is not a prism error) and an allocation over the budget.
 *
 * Usage: `deno run -A tests/_fuzz_hdf5_worker.ts <list.json> <first> [<end>]` reads entries
 * `first` to `end - 1` of the list, which holds
 * `{ path, datasets }` entries (`datasets`: the dataset names of the file it was mutated from).
 * Lines: `B <i>` before a file, `E <i> <ok|prism|uncaught|over> <detail>` after it.
 *
 * @module
 */

import { memoryBudget } from "../core/budget.ts";
import { PrismError } from "../core/errors.ts";
import { h5wasmHeapBytes } from "../io/_h5wasm.ts";
import { openHdf5Dataset, readHdf5Dataset, readHdf5Datasets, readHdf5Tree } from "../io/hdf5.ts";

const [listPath, firstArg, endArg] = Deno.args;
const list: { path: string; datasets: string[] }[] = JSON.parse(await Deno.readTextFile(listPath));
const budget = memoryBudget();
const encoder = new TextEncoder();
const say = (line: string) => Deno.stdout.writeSync(encoder.encode(line + "\n"));

/** A prism error: a named error, a validation TypeError/RangeError, or a missing dataset. */
function isPrismError(error: unknown): boolean {
  return error instanceof PrismError || error instanceof TypeError ||
    error instanceof RangeError || error instanceof Deno.errors.NotFound;
}

async function attempt(run: () => Promise<unknown>, seen: unknown[]): Promise<void> {
  try {
    await run();
  } catch (error) {
    seen.push(error);
  }
}

const end = Math.min(list.length, Number(endArg ?? list.length));
for (let i = Number(firstArg); i < end; i++) {
  const { path, datasets } = list[i];
  say(`B ${i}`);
  const rssBefore = Deno.memoryUsage().rss;
  const errors: unknown[] = [];
  let names = datasets;
  await attempt(async () => {
    const tree = await readHdf5Tree(path);
    names = [...new Set([...tree.datasets.map((d) => d.path), ...datasets])];
  }, errors);
  // Each dataset through the streaming reader (first rows and the last one), the first also
  // whole; then the seed's datasets all at once.
  for (const [k, name] of names.slice(0, 4).entries()) {
    if (k === 0) await attempt(() => readHdf5Dataset(path, name), errors);
    await attempt(async () => {
      const reader = await openHdf5Dataset(path, name);
      try {
        await reader.readRows(0, Math.min(reader.rows, 3));
        if (reader.rows > 3) await reader.readRows(reader.rows - 1, 1);
      } finally {
        reader.close();
      }
    }, errors);
  }
  await attempt(() => readHdf5Datasets(path, datasets), errors);
  const heap = await h5wasmHeapBytes();
  const grown = Deno.memoryUsage().rss - rssBefore;
  const bad = errors.find((e) => !isPrismError(e));
  if (heap > budget || grown > budget) {
    say(`E ${i} over heap=${heap} rss+=${grown}`);
  } else if (bad !== undefined) {
    const e = bad as Error;
    say(`E ${i} uncaught ${e?.name}: ${String(e?.message).slice(0, 300).replace(/\s+/g, " ")}`);
  } else {
    say(`E ${i} ${errors.length === 0 ? "ok" : "prism"}`);
  }
}
