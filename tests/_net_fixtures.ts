/**
 * The PyTorch network fixtures of `tests/fixtures/nets/` (made by its `make_fixtures.py`): the
 * manifest and readers of its files, shared by the weights-file and the network tests.
 *
 * @module
 */

import assert from "node:assert";
import { fileURLToPath } from "node:url";
import { readHdf5Datasets, readHdf5Tree } from "../io/hdf5.ts";
import { readNpy } from "../io/npy.ts";

/** The fixtures' folder. */
export const NET_FIXTURES = new URL("./fixtures/nets/", import.meta.url);

/** One net's entry of `MANIFEST.json`. */
export interface NetFixture {
  /** A built-in spec's name, or a spec file's path relative to the repository root. */
  spec: string;
  /** Trainable parameters (batch-norm running statistics not counted). */
  parameters: number;
  /** Its files. */
  files: {
    weights: { file: string };
    input: { file: string; shape: number[] };
    eval: { file: string; shape: number[] };
    train: { file: string; datasets: Record<string, number[]> };
  };
}

/** `MANIFEST.json`. */
export interface NetManifest {
  /** The torch version that made the files. */
  torch: string;
  /** Each net by name. */
  nets: Record<string, NetFixture>;
}

/** The manifest. */
export const netManifest: NetManifest = JSON.parse(
  await Deno.readTextFile(new URL("MANIFEST.json", NET_FIXTURES)),
);

/** A fixture file's path on disk. */
export function fixturePath(file: string): string {
  return fileURLToPath(new URL(file, NET_FIXTURES));
}

/** What `ConvNet.fromSpec` takes for a fixture: a built-in name or an absolute `.json` path. */
export function fixtureSpec(net: NetFixture): string {
  return net.spec.endsWith(".json")
    ? fileURLToPath(new URL(`../${net.spec}`, import.meta.url))
    : net.spec;
}

/** A float32 `.npy` of the fixture, checked against the manifest's shape. */
export async function readFixtureNpy(
  file: { file: string; shape: number[] },
): Promise<{ data: Float32Array; shape: number[] }> {
  const a = await readNpy(fixturePath(file.file));
  assert.strictEqual(a.dtype, "float32", file.file);
  assert.deepStrictEqual(a.shape, file.shape, `${file.file} shape`);
  return { data: a.data as Float32Array, shape: a.shape };
}

/** Every dataset of a net's `train.h5` by path without the leading `/`, shapes checked. */
export async function readTrainFixture(
  net: NetFixture,
): Promise<Map<string, { data: Float32Array; shape: number[] }>> {
  const path = fixturePath(net.files.train.file);
  const names = (await readHdf5Tree(path)).datasets.map((d) => d.path.slice(1));
  assert.deepStrictEqual(names.sort(), Object.keys(net.files.train.datasets).sort());
  const read = await readHdf5Datasets(path, names);
  return new Map(names.map((name, i) => {
    assert(read[i].data instanceof Float32Array, `${name} is float32`);
    assert.deepStrictEqual(read[i].shape, net.files.train.datasets[name], `${name} shape`);
    return [name, { data: read[i].data as Float32Array, shape: read[i].shape }];
  }));
}

/** The names under `prefix/` of a net's training datasets (`grad`, `running`), prefix dropped. */
export function trainNames(net: NetFixture, prefix: "grad" | "running"): string[] {
  return Object.keys(net.files.train.datasets)
    .filter((k) => k.startsWith(`${prefix}/`))
    .map((k) => k.slice(prefix.length + 1));
}
