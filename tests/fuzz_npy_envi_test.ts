/**
 * A seeded mutation fuzz of the `.npy` and ENVI readers (issue 10): a few hundred files of each,
 * mutated from small valid ones made here, are read every way a user can (whole, by rows, as a
 * cube source in chunks, then a covariance). The test fails on any error that is not one of
 * prism's (an engine `TypeError`, a crash), on a file that takes more than
 * {@linkcode HANG_MS} (a hang), on a file that grows the process's peak memory by more than the
 * memory budget, and on a read that returns bytes of a file outside the input's folder.
 *
 * The files are read by a child process (this file run with `--fuzz-child`) that reports each
 * file's start and end, so a hang is killed and counted, and the run goes on with the next file.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Rng } from "../synth/rng.ts";
import { encodeNpy, openNpy, readNpy } from "../io/npy.ts";
import { readEnvi, readEnviHeader } from "../io/envi.ts";
import { openCubeSource } from "../io/cube_source.ts";
import { covariance } from "../ops/covariance.ts";
import { PrismError } from "../core/errors.ts";
import { npyWithHeader } from "./_untrusted_helpers.ts";

const SEED = 10;
const FILES_PER_FORMAT = 350;
/** A file that takes longer than this is a hang. */
const HANG_MS = 10_000;
/** The child's memory budget; a file may not grow its peak memory by more. */
const BUDGET = 64 * 2 ** 20;
/** A value only the file outside the inputs' folders holds: reading it back is an escape. */
const SENTINEL = Math.fround(12345.678);
const SELF = new URL(import.meta.url).pathname;

/** One fuzz file: its format and path (the `.npy`, or the ENVI `.hdr`). */
interface Case {
  kind: "npy" | "envi";
  path: string;
}

/** What reading one file came to. */
interface Outcome {
  index: number;
  /** `ok`, `refused` (a prism error), `uncaught`, `hang`, `crash` or `escape`. */
  result: string;
  /** Peak memory growth while reading it, in bytes (-1 where unknown). */
  grew: number;
  detail: string;
}

// ---------------------------------------------------------------------------------------------
// The files.

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(0, items.length - 1)];

const EXTREMES = [0, 1, 2, 3, 7, 1e15, 2 ** 31, 2 ** 32, 2 ** 53 + 2, "99999999999999999999"];

/** A small valid `.npy` (one of several dtypes, orders and versions), then 1–3 mutations. */
function fuzzNpy(rng: Rng): Uint8Array {
  const shape = Array.from({ length: rng.int(1, 4) }, () => rng.int(1, 4));
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, (_, i) => i * 0.5);
  const type = pick(rng, ["f4", "f8", "i2", "u2", "i4", "u1"] as const);
  const data = {
    f4: () => new Float32Array(values),
    f8: () => new Float64Array(values),
    i2: () => new Int16Array(values),
    u2: () => new Uint16Array(values),
    i4: () => new Int32Array(values),
    u1: () => new Uint8Array(values),
  }[type]();
  let bytes = encodeNpy(data, shape);
  const body = bytes.subarray(bytes.length - data.byteLength);
  const mutations = rng.int(1, 3);
  for (let m = 0; m < mutations; m++) {
    const what = rng.int(0, 8);
    if (what === 8) { // few pixels, many bands: a covariance of bands² float64
      const wide = pick(rng, [300, 1000, 3000, 5000]);
      bytes = encodeNpy(new Float32Array(2 * wide).map((_, i) => i % 3), [2, wide]);
      continue;
    }
    if (bytes.length === 0) break;
    if (what === 0) { // flip bytes anywhere
      bytes = bytes.slice();
      for (let k = rng.int(1, 8); k > 0; k--) {
        bytes[rng.int(0, bytes.length - 1)] ^= rng.int(1, 255);
      }
    } else if (what === 1) { // flip bytes of the header
      bytes = bytes.slice();
      for (let k = rng.int(1, 4); k > 0; k--) {
        bytes[rng.int(0, Math.min(127, bytes.length - 1))] = rng.int(0, 255);
      }
    } else if (what === 2) { // truncate
      bytes = bytes.slice(0, rng.int(0, bytes.length));
    } else if (what === 3) { // append
      const tail = Uint8Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 255));
      const out = new Uint8Array(bytes.length + tail.length);
      out.set(bytes);
      out.set(tail, bytes.length);
      bytes = out;
    } else if (what === 4 || what === 5) { // a new header: extreme shapes, odd dtypes, orders
      const ndim = rng.int(0, 20) === 0 ? 70 : rng.int(0, 5);
      const dims = Array.from({ length: ndim }, () => String(pick(rng, EXTREMES)));
      const descr = pick(rng, [
        "<f4",
        ">f8",
        "|u1",
        "<i2",
        ">u2",
        "<i8",
        "<c8",
        "|O",
        "=f4",
        "<U9",
        "f4",
      ]);
      const fortran = pick(rng, ["False", "True", "Maybe"]);
      const shapeText = ndim === 1 ? `${dims[0]},` : dims.join(", ");
      const dict = `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': (${shapeText}), }`;
      bytes = npyWithHeader(dict, body, pick(rng, [1, 1, 2, 3]));
    } else if (what === 6 && bytes.length >= 12) { // the header length field
      bytes = bytes.slice();
      const view = new DataView(bytes.buffer);
      const value = pick(rng, [0, 1, 9, 63, 65, 65535, 2 ** 31, 2 ** 32 - 1]);
      if (bytes[6] === 1) view.setUint16(8, value & 0xffff, true);
      else view.setUint32(8, value >>> 0, true);
    } else if (bytes.length >= 8) { // the version
      bytes = bytes.slice();
      bytes[6] = rng.int(0, 4);
    }
  }
  return bytes;
}

/** A small valid ENVI image (header lines and data), then 1–3 mutations; written to `dir`. */
async function fuzzEnvi(rng: Rng, dir: string): Promise<string> {
  const lines = rng.int(1, 4), samples = rng.int(1, 5), bands = rng.int(1, 6);
  const type = pick(rng, [2, 4, 5, 12]);
  const size = type === 5 ? 8 : type === 4 ? 4 : 2;
  const offset = pick(rng, [0, 0, 16]);
  const fields: [string, string][] = [
    ["samples", String(samples)],
    ["lines", String(lines)],
    ["bands", String(bands)],
    ["header offset", String(offset)],
    ["data type", String(type)],
    ["interleave", pick(rng, ["bsq", "bil", "bip"])],
    ["byte order", String(rng.int(0, 1))],
  ];
  if (rng.int(0, 1) === 1) {
    const w = Array.from({ length: bands }, (_, b) => 400 + 10 * b);
    fields.push(["wavelength", `{${w.slice(0, 2).join(", ")},\n ${w.slice(2).join(", ")}}`]);
  }
  if (rng.int(0, 2) === 0) fields.push(["description", "{a fuzz case,\n made by a test}"]);
  let dataName = "a.img";
  if (rng.int(0, 3) === 0) {
    dataName = "data.raw";
    fields.push(["data file", dataName]);
  }
  let data = new Uint8Array(offset + lines * samples * bands * size);
  for (let i = offset; i < data.length; i += 2) data[i] = (i * 7) & 63; // small values
  let prefix = "ENVI\n";
  let eol = "\n";
  let extra = "";
  const mutations = rng.int(1, 3);
  for (let m = 0; m < mutations; m++) {
    const what = rng.int(0, 11);
    if (what <= 2) { // an extreme or malformed number
      const k = rng.int(0, 6);
      if (k !== 5) {
        fields[k][1] = String(
          pick(rng, [...EXTREMES, -1, "1.5", "", "abc", " 7 ", "0x10", "1e3"]),
        );
      }
    } else if (what === 3) {
      fields[5][1] = pick(rng, ["BIL", "xyz", "", "{bsq}"]);
    } else if (what === 4 && fields.length > 1) { // drop, duplicate or swap lines
      const i = rng.int(0, fields.length - 1);
      const op = rng.int(0, 2);
      if (op === 0) fields.splice(i, 1);
      else if (op === 1) fields.push([fields[i][0], pick(rng, ["0", "3", "{"])]);
      else [fields[0], fields[i]] = [fields[i], fields[0]];
    } else if (what === 5) { // a data file reference
      const named = pick(rng, [
        "/etc/hostname",
        "../outside.raw",
        "sub/../../outside.raw",
        `${dir}/../outside.raw`,
        "missing.raw",
        "",
        ".",
        "a.hdr",
        "/dev/zero",
        "a.img",
      ]);
      fields.push(["data file", named]);
    } else if (what === 6) { // the data file cut or grown
      data = rng.int(0, 1) === 0
        ? data.slice(0, rng.int(0, data.length))
        : new Uint8Array(data.length + rng.int(1, 64));
    } else if (what === 7) { // brace values: unclosed, or very long
      const r = rng.int(0, 9);
      if (r === 0) extra += `big = {${"1,\n".repeat(20000)}2}\n`;
      else if (r === 1) extra += `huge = {${"x".repeat(2 ** 20)}}\n`;
      else extra += pick(rng, ["open = {1,\n2\n", "x = }\n", "{ = 1\n", "= 3\n"]);
    } else if (what === 8) {
      prefix = pick(rng, ["", "\uFEFFENVI\n", "ENVI \r\n", "envi\n", "ENVI"]);
    } else if (what === 9) {
      eol = "\r\n";
    } else if (what === 10) {
      extra += pick(rng, ["__proto__ = 1\n", "constructor = {x}\n", "hasOwnProperty = 2\n"]);
    } else { // garbage in the header text
      extra += String.fromCharCode(
        ...Array.from({ length: rng.int(1, 40) }, () => rng.int(0, 255)),
      );
    }
  }
  const text = prefix + fields.map(([k, v]) => `${k} = ${v}`).join(eol) + eol + extra;
  await Deno.mkdir(`${dir}/sub`, { recursive: true });
  await Deno.writeTextFile(`${dir}/a.hdr`, text);
  await Deno.writeFile(`${dir}/${dataName}`, data);
  return `${dir}/a.hdr`;
}

/** Writes the seeded files under `root` and returns them in order. */
async function makeCases(root: string): Promise<Case[]> {
  const rng = new Rng(SEED);
  const cases: Case[] = [];
  await Deno.mkdir(`${root}/npy`);
  for (let i = 0; i < FILES_PER_FORMAT; i++) {
    const path = `${root}/npy/${i}.npy`;
    await Deno.writeFile(path, fuzzNpy(rng));
    cases.push({ kind: "npy", path });
  }
  // Bytes a confined reader must never return: outside every ENVI case's folder.
  const outside = new Float32Array(4096).fill(SENTINEL);
  await Deno.mkdir(`${root}/envi`);
  await Deno.writeFile(`${root}/envi/outside.raw`, new Uint8Array(outside.buffer));
  for (let i = 0; i < FILES_PER_FORMAT; i++) {
    cases.push({ kind: "envi", path: await fuzzEnvi(rng, `${root}/envi/${i}`) });
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------
// The child: reads each file every way, reports start and end.

// Messages of engine errors (a bug in prism), as opposed to the TypeError/RangeError prism throws
// on purpose with advice.
const ENGINE =
  /Cannot read prop|Cannot set prop|is not a function|is not iterable|is not defined|Invalid typed array length|Invalid array length|Array buffer allocation failed|Maximum call stack|out of memory|out of bounds|Offset is outside|Invalid DataView|Invalid string length|Start offset|should be a multiple/i;

function classify(error: unknown): string | undefined {
  if (error instanceof PrismError) return undefined;
  if (error instanceof Deno.errors.NotFound && /^The data file of ENVI/.test(error.message)) {
    return undefined;
  }
  if ((error instanceof TypeError || error instanceof RangeError) && !ENGINE.test(error.message)) {
    return undefined;
  }
  const e = error as Error;
  return `${e?.name ?? typeof error}: ${String(e?.message ?? error).slice(0, 300)}`;
}

function peakMemory(): number {
  try {
    const m = /VmHWM:\s*(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
    return m === null ? -1 : Number(m[1]) * 1024;
  } catch {
    return -1;
  }
}

/** Reads one file every way; returns the uncaught error's text, "escape", or "" / "refused". */
async function exercise(c: Case): Promise<{ result: string; detail: string }> {
  const steps: (() => Promise<Float32Array | ArrayLike<number> | void>)[] = c.kind === "npy"
    ? [
      async () => (await readNpy(c.path)).data,
      async () => {
        using r = await openNpy(c.path);
        return await r.readRows(0, Math.min(r.rows, 3));
      },
    ]
    : [
      async () => void await readEnviHeader(c.path),
      async () => (await readEnvi(c.path)).data,
    ];
  steps.push(async () => {
    const src = await openCubeSource(c.path);
    try {
      let last: Float32Array | undefined;
      for await (const m of src.chunks(7)) last = m.data;
      await covariance(src.chunks(64), { backend: "wasm" });
      return last;
    } finally {
      src.close();
    }
  });
  let refused = 0;
  for (const step of steps) {
    try {
      const values = await step();
      if (values && Array.prototype.some.call(values, (v: number) => v === SENTINEL)) {
        return { result: "escape", detail: "returned values of a file outside the folder" };
      }
    } catch (error) {
      const uncaught = classify(error);
      if (uncaught !== undefined) return { result: "uncaught", detail: uncaught };
      refused++;
    }
  }
  return { result: refused > 0 ? "refused" : "ok", detail: "" };
}

async function child(manifest: string, start: number): Promise<void> {
  const cases: Case[] = JSON.parse(await Deno.readTextFile(manifest));
  const out = (line: string) => Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));
  // Load the kernels first, so their memory is not charged to the first file.
  await covariance({ data: new Float32Array([1, 2, 3, 4]), rows: 2, cols: 2 }, { backend: "wasm" });
  for (let i = start; i < cases.length; i++) {
    out(`B ${i}`);
    const before = peakMemory();
    const { result, detail } = await exercise(cases[i]);
    const after = peakMemory();
    const grew = before < 0 || after < 0 ? -1 : after - before;
    out(`E ${JSON.stringify({ index: i, result, grew, detail })}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The parent: runs the child, kills it on a hang, restarts after the file that hung.

async function runChildren(manifest: string, count: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let next = 0;
  while (next < count) {
    const proc = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--frozen", SELF, "--fuzz-child", manifest, String(next)],
      stdout: "piped",
      stderr: "piped",
      env: { PRISM_MEMORY_BUDGET: String(BUDGET) },
    }).spawn();
    const stderr = new Response(proc.stderr).text();
    const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let current = -1;
    let deadline = Date.now() + 120_000; // start-up, kernels included
    let hung = false;
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()));
      });
      const got = await Promise.race([reader.read(), timeout]);
      clearTimeout(timer);
      if (got === "timeout") {
        hung = true;
        proc.kill("SIGKILL");
        await reader.cancel().catch(() => {});
        break;
      }
      if (got.done) break;
      buffer += got.value;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith("B ")) {
          current = Number(line.slice(2));
          deadline = Date.now() + HANG_MS;
        } else if (line.startsWith("E ")) {
          outcomes.push(JSON.parse(line.slice(2)));
          next = current + 1;
          current = -1;
          deadline = Date.now() + HANG_MS;
        }
      }
    }
    const status = await proc.status;
    const errText = (await stderr).slice(-2000);
    if (current >= 0) {
      outcomes.push({
        index: current,
        result: hung ? "hang" : "crash",
        grew: -1,
        detail: hung ? `no answer in ${HANG_MS} ms` : `exit ${status.code}: ${errText}`,
      });
      next = current + 1;
    } else if (next < count) {
      throw new Error(
        `the fuzz child stopped before file ${next} (exit ${status.code}): ${errText}`,
      );
    }
  }
  return outcomes;
}

if (Deno.args[0] === "--fuzz-child") {
  await child(Deno.args[1], Number(Deno.args[2]));
}

Deno.test({
  name: "fuzz: mutated .npy and ENVI files give prism errors only, never hang, stay in budget",
  // The child's stdout is read to its end or it is killed; its status is awaited.
  sanitizeResources: true,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "prism_fuzz_" });
    try {
      const t0 = performance.now();
      const cases = await makeCases(root);
      await Deno.writeTextFile(`${root}/cases.json`, JSON.stringify(cases));
      const made = performance.now();
      const outcomes = await runChildren(`${root}/cases.json`, cases.length);
      const secs = (performance.now() - t0) / 1000;
      const count = (kind: string, result: string) =>
        outcomes.filter((o) => cases[o.index].kind === kind && o.result === result).length;
      const overBudget = outcomes.filter((o) => o.grew > BUDGET);
      const memoryKnown = outcomes.some((o) => o.grew >= 0);
      if (!memoryKnown) console.log("no /proc/self/status here: the peak-memory check is skipped");
      for (const kind of ["npy", "envi"]) {
        console.log(
          `fuzz ${kind}: ${cases.filter((c) => c.kind === kind).length} files: ` +
            ["ok", "refused", "uncaught", "crash", "hang", "escape"]
              .map((r) => `${count(kind, r)} ${r}`).join(", ") +
            `, ${overBudget.filter((o) => cases[o.index].kind === kind).length} over budget`,
        );
      }
      console.log(
        `fuzz: ${cases.length} files in ${secs.toFixed(1)} s ` +
          `(${((made - t0) / 1000).toFixed(1)} s to make them)`,
      );
      const bad = outcomes.filter((o) => o.result !== "ok" && o.result !== "refused");
      for (const o of [...bad, ...overBudget].slice(0, 20)) {
        console.log(`  ${cases[o.index].path}: ${o.result} ${o.grew} ${o.detail}`);
      }
      assert.equal(outcomes.length, cases.length);
      assert.deepEqual(bad.map((o) => `${o.index} ${o.result}`), []);
      assert.deepEqual(overBudget.map((o) => `${o.index} grew ${o.grew}`), []);
      // The fuzz reaches both outcomes of each reader, not only refusals.
      assert(count("npy", "ok") > 20 && count("envi", "ok") > 20);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
