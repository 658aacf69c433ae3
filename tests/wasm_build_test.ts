import assert from "node:assert/strict";
import { appendCustomSection, readCustomSection } from "../scripts/_custom_section.ts";
import { SOURCE_SECTION, sourceHash, type SourceRecord } from "../scripts/_source_hash.ts";

const ROOT = new URL("../", import.meta.url);
const SOURCES = new URL("kernels/src/", ROOT);
const WASM = new URL("wasm/prism.wasm", ROOT);

async function committedRecord(): Promise<SourceRecord> {
  const section = readCustomSection(await Deno.readFile(WASM), SOURCE_SECTION);
  assert.ok(section, `wasm/prism.wasm has no ${SOURCE_SECTION} section: rebuild it`);
  return JSON.parse(new TextDecoder().decode(section));
}

Deno.test("wasm/prism.wasm was built from the current kernels/src", async () => {
  const record = await committedRecord();
  assert.match(record.rustc, /^rustc \d+\.\d+\.\d+/);
  const hash = await sourceHash(SOURCES, record.rustc);
  assert.equal(
    record.hash,
    hash,
    "wasm/prism.wasm is stale: run `deno task build:wasm` and commit it with kernels/src",
  );
});

Deno.test("sourceHash() changes with any source byte, a new file, or the compiler", async () => {
  const dir = await Deno.makeTempDir({ prefix: "prism-hash-test-" });
  try {
    const copy = new URL(`file://${dir}/`);
    for await (const e of Deno.readDir(SOURCES)) {
      if (e.isFile) await Deno.copyFile(new URL(e.name, SOURCES), new URL(e.name, copy));
    }
    const base = await sourceHash(copy, "rustc 1.63.0");
    assert.equal(await sourceHash(copy, "rustc 1.63.0"), base, "the hash must be stable");
    assert.notEqual(await sourceHash(copy, "rustc 1.64.0"), base);
    const lib = new URL("lib.rs", copy);
    const text = await Deno.readTextFile(lib);
    await Deno.writeTextFile(lib, text.replace("ABI_VERSION: u32 = ", "ABI_VERSION: u32 =  "));
    const edited = await sourceHash(copy, "rustc 1.63.0");
    assert.notEqual(edited, base);
    await Deno.mkdir(new URL("sub/", copy));
    await Deno.writeTextFile(new URL("sub/extra.rs", copy), "");
    assert.notEqual(await sourceHash(copy, "rustc 1.63.0"), edited);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("appendCustomSection() keeps the module valid and readCustomSection() finds it", async () => {
  const bytes = await Deno.readFile(WASM);
  const payload = new TextEncoder().encode("x".repeat(300)); // a two-byte LEB128 size
  const out = appendCustomSection(bytes, "prism.test", payload);
  assert.ok(WebAssembly.validate(out));
  assert.deepEqual(readCustomSection(out, "prism.test"), payload);
  const module = new WebAssembly.Module(out);
  assert.equal(WebAssembly.Module.customSections(module, "prism.test")[0].byteLength, 300);
  assert.throws(() => readCustomSection(new Uint8Array(8), "x"), /not a WebAssembly module/);
  assert.throws(() => readCustomSection(out.subarray(0, out.length - 5), "zzz"), /past the end/);
});

const hasRustc = await Deno.stat("/usr/bin/rustc").then(() => true, () => false);

Deno.test({
  name: "build_wasm.ts --check rebuilds byte-identically to the committed binary",
  ignore: !hasRustc,
  async fn() {
    const result = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-run",
        new URL("scripts/build_wasm.ts", ROOT).pathname,
        "--check",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, text);
    assert.match(text, /up to date/);
  },
});
