/**
 * The import graph of the package's own `.ts` files (everything but `tests/` and `bench/`) runs
 * one way and has no cycles:
 *
 * ```
 * cli -> harness -> mod -> track -> nn -> ops -> tensor -> wasm | gpu -> core
 * ```
 *
 * `track`, `nn` and `ops` are the operation layer; inside it the code shows an order: the tracker
 * measures with `ops/spectrum.ts` and trains `nn/`'s MLP in its experiment, and `nn` may build on
 * operations, but no operation knows about training or tracking.
 *
 * Where `io/` and `synth/` go, from what they import and who imports them:
 *
 * - `io/` (npy, HDF5, ENVI, CSV, atomic writes) needs only `core/` types and errors, and is used
 *   by `ops` (RX model files), `nn` (weights files, tiled inference streaming images), `track`
 *   (exports) and `cli`. It sits just above `core`, beside the backends: an operation may read
 *   and write files, a file format never runs an operation.
 * - `synth/` (seeded generators) needs only `core/`, and is used by `nn` (weight initialisation),
 *   `track` (the experiment's data set), `cli`, tests and benches. It sits just above `core` too;
 *   `ops` does not generate data, so it may not import `synth`.
 * - `wasm/` and `gpu/` are independent backends: neither imports the other.
 * - `scripts/` (the kernel build) may use `wasm/` and `core/` only.
 * - `harness/` (timing, sweeps, records, plots of the experiments) runs the module's operations
 *   and is run by `cli` and `bench/`; no operation knows about it.
 *
 * `bench/` never imports `tests/`: shared data generators live in `synth/`.
 *
 * @module
 */

import assert from "node:assert";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** For each layer, the layers it may import (its own files are always allowed). */
const ALLOWED: Record<string, readonly string[]> = {
  cli: ["harness", "mod", "track", "nn", "ops", "io", "synth", "tensor", "wasm", "gpu", "core"],
  harness: ["mod", "track", "nn", "ops", "io", "synth", "tensor", "wasm", "gpu", "core"],
  mod: ["track", "nn", "ops", "io", "synth", "tensor", "wasm", "gpu", "core"],
  track: ["nn", "ops", "io", "synth", "tensor", "wasm", "gpu", "core"],
  nn: ["ops", "io", "synth", "tensor", "wasm", "gpu", "core"],
  ops: ["io", "tensor", "wasm", "gpu", "core"],
  tensor: ["wasm", "gpu", "core"],
  wasm: ["core"],
  gpu: ["core"],
  io: ["core"],
  synth: ["core"],
  core: [],
  scripts: ["wasm", "core"],
  // The pages `cli.ts serve` bundles: users of the published module, like any page.
  web: ["harness", "mod"],
};

/** The layer of a repository-relative path: its top folder, or `cli`/`mod` for the roots. */
function layerOf(path: string): string {
  if (path === "cli.ts") return "cli";
  if (path === "mod.ts") return "mod";
  const top = path.split("/")[0];
  return top === path ? "meta" : top;
}

/** Every `.ts` file under `dir`, repository-relative, skipping build output. */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(join(ROOT, dir))) {
    const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory) {
      if (entry.name === "node_modules" || entry.name === "target" || entry.name.startsWith(".")) {
        continue;
      }
      out.push(...tsFiles(path));
    } else if (entry.isFile && entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/**
 * The relative `.ts` files `source` imports or re-exports (static and dynamic), comments
 * stripped so doc examples do not count.
 */
function importsOf(path: string, source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const specifiers = [
    ...code.matchAll(/\b(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']/g),
    ...code.matchAll(/\bimport\s*["']([^"']+)["']/g),
    ...code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1]);
  return specifiers
    .filter((s) => s.startsWith(".") && s.endsWith(".ts"))
    .map((s) => relative(ROOT, resolve(ROOT, dirname(path), s)).replaceAll("\\", "/"));
}

/** The graph of every package file (not tests/, bench/) to the package files it imports. */
function packageGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const path of tsFiles("")) {
    const top = path.split("/")[0];
    if (top === "tests" || top === "bench") continue;
    graph.set(path, importsOf(path, Deno.readTextFileSync(join(ROOT, path))));
  }
  return graph;
}

/** Every import against {@linkcode ALLOWED}, as `from -> to (layer -> layer)`. */
function layerViolations(graph: Map<string, string[]>): string[] {
  const bad: string[] = [];
  for (const [from, targets] of graph) {
    const a = layerOf(from);
    for (const to of targets) {
      const b = layerOf(to);
      if (a === b) continue;
      const allowed = ALLOWED[a];
      if (allowed === undefined) bad.push(`${from}: layer "${a}" is not in the layer table`);
      else if (!allowed.includes(b)) bad.push(`${from} -> ${to} (${a} may not import ${b})`);
    }
  }
  return bad;
}

/** The first import cycle found by depth-first search, as a path `a -> b -> … -> a`, or none. */
function findCycle(graph: Map<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") return [...stack.slice(stack.indexOf(next)), next];
      if (state.get(next) === undefined) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of graph.keys()) {
    if (state.get(node) === undefined) {
      const cycle = visit(node);
      if (cycle) return cycle;
    }
  }
  return undefined;
}

Deno.test("layering: every package import runs down the layer order", () => {
  const graph = packageGraph();
  assert(graph.size > 50, `expected the package's files, found ${graph.size}`);
  assert(graph.get("mod.ts")!.length > 10, "mod.ts's imports were not parsed");
  assert.deepStrictEqual(layerViolations(graph), []);
});

Deno.test("layering: the package's import graph has no cycle", () => {
  const cycle = findCycle(packageGraph());
  assert.strictEqual(cycle?.join(" -> "), undefined);
});

Deno.test("layering: what mod.ts loads imports no Node built-in statically (a fast, permission-free import)", () => {
  // Importing any `node:` module starts Deno's Node compatibility layer, tens of milliseconds:
  // the library keeps them to dynamic imports where it needs one (h5wasm's start-up).
  const graph = packageGraph();
  const reached = new Set<string>();
  const walk = (path: string) => {
    if (reached.has(path)) return;
    reached.add(path);
    for (const next of graph.get(path) ?? []) walk(next);
  };
  walk("mod.ts");
  assert(reached.size > 50, `expected mod.ts's graph, found ${reached.size} files`);
  const bad = [...reached].filter((path) => {
    const code = Deno.readTextFileSync(join(ROOT, path))
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/^\s*\/\/.*$/gm, "");
    return /\b(?:import|export)\s[^;]*?\bfrom\s*["']node:/.test(code);
  });
  assert.deepStrictEqual(bad, []);
});

Deno.test("layering: bench/ never imports tests/", () => {
  const bad = tsFiles("bench").flatMap((path) =>
    importsOf(path, Deno.readTextFileSync(join(ROOT, path)))
      .filter((to) => to.startsWith("tests/"))
      .map((to) => `${path} -> ${to}`)
  );
  assert.deepStrictEqual(bad, []);
});

Deno.test("layering: the checks catch an upward import and a cycle", () => {
  const graph = new Map<string, string[]>([
    ["ops/a.ts", ["track/b.ts", "core/c.ts"]],
    ["track/b.ts", ["ops/a.ts"]],
    ["core/c.ts", []],
  ]);
  assert.deepStrictEqual(layerViolations(graph), [
    "ops/a.ts -> track/b.ts (ops may not import track)",
  ]);
  assert.deepStrictEqual(findCycle(graph), ["ops/a.ts", "track/b.ts", "ops/a.ts"]);
  const multiline =
    'import {\n  a,\n  b,\n} from "../io/hdf5.ts";\n/** import { x } from "./y.ts"; */';
  assert.deepStrictEqual(importsOf("ops/z.ts", multiline), ["io/hdf5.ts"]);
});
