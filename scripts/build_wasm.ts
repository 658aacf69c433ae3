/**
 * Builds the two kernel modules from `kernels/src` with Debian's rustc and wasm-ld —
 * `wasm/prism_fma.wasm` (relaxed SIMD: fused multiply-adds, see `kernels/src/madd.rs` and
 * `scripts/_fuse_madd.ts`) and `wasm/prism.wasm` (plain SIMD, for engines without relaxed SIMD)
 * — and generates `wasm/kernel_exports.generated.ts` (the typed export table and the block sizes
 * of `kernels/src/params.rs`) from the same sources; installs nothing.
 *
 * ```sh
 * deno task build:wasm            # rebuild; write the three files atomically
 * deno task build:wasm --check    # rebuild into memory; exit 1 if a committed file differs
 * ```
 *
 * Each binary is byte-identical from any checkout folder (`--remap-path-prefix`), and carries a
 * `prism.source_hash` custom section (see `scripts/_source_hash.ts`) that tests compare with the
 * sources. `--check` compares a binary's bytes only when the installed rustc is the one its
 * record names: a Debian compiler update changes code generation, not the sources, so it is
 * reported (rebuild and commit to adopt it) rather than failed. The generated table is always
 * compared. The generated TypeScript depends on the sources alone, and the build fails when the
 * compiled module's exported functions and their WebAssembly types differ from the table.
 *
 * @module
 */

import { appendCustomSection, readCustomSection } from "./_custom_section.ts";
import { readKernelTable, tableMismatches } from "./_kernel_exports.ts";
import { GENERATED_FILE, renderKernelExports } from "./_render_exports.ts";
import { fuseMadd, REWRITER } from "./_fuse_madd.ts";
import {
  BUILD_FLAGS,
  SOURCE_SECTION,
  sourceHash,
  type SourceRecord,
  VARIANT_FLAGS,
} from "./_source_hash.ts";
import { exportedFunctions } from "./_wasm_signatures.ts";
import { VARIANT_FILES, type WasmVariant } from "../wasm/_variant.ts";

const RUSTC = "/usr/bin/rustc";
const LINKER = "wasm-ld-14";
const INSTALL = "apt-get install -y rustc libstd-rust-dev-wasm32 lld-14";
const ROOT = new URL("../", import.meta.url);
const SOURCES = new URL("kernels/src/", ROOT);
const VARIANTS: readonly WasmVariant[] = ["relaxed-simd", "simd"];
const target = (v: WasmVariant) => new URL(`wasm/${VARIANT_FILES[v]}`, ROOT);
const GENERATED = new URL(GENERATED_FILE, ROOT);

async function run(
  cmd: string,
  args: string[],
  cwd?: URL,
  env?: Record<string, string>,
): Promise<Deno.CommandOutput> {
  return await new Deno.Command(cmd, { args, cwd, env, stdout: "piped", stderr: "piped" })
    .output();
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Says what is missing from the toolchain; an empty list means the build can run. */
async function missingTools(): Promise<string[]> {
  if (!(await exists(RUSTC))) return [`${RUSTC} (Debian's rustc)`, `${LINKER} on PATH`];
  const missing: string[] = [];
  const libdir = await run(RUSTC, [
    "--print",
    "target-libdir",
    "--target",
    "wasm32-unknown-unknown",
  ]);
  const dir = new TextDecoder().decode(libdir.stdout).trim();
  let hasCore = false;
  if (libdir.success && dir !== "") {
    try {
      for await (const e of Deno.readDir(dir)) hasCore ||= /^libcore-.*\.rlib$/.test(e.name);
    } catch { /* a missing folder is reported below */ }
  }
  if (!hasCore) {
    missing.push(`the wasm32 standard library for ${RUSTC} (no libcore-*.rlib in ${dir || "?"})`);
  }
  // Running the linker finds it the way rustc will, through PATH, without env permission.
  const linker = await run(LINKER, ["--version"]).catch(() => undefined);
  if (linker === undefined || !linker.success) missing.push(`${LINKER} on PATH`);
  return missing;
}

/** The build outputs. */
interface Outputs {
  /** Each module, with its source record appended. */
  wasm: Record<WasmVariant, Uint8Array>;
  /** `wasm/kernel_exports.generated.ts`. */
  exports: Uint8Array;
  /** `rustc --version` of the installed compiler. */
  rustc: string;
}

/** Compiles both builds, generates the export table and checks that all three agree. */
async function build(): Promise<Outputs> {
  const table = await readKernelTable(SOURCES);
  const rustc = new TextDecoder().decode((await run(RUSTC, ["--version"])).stdout).trim();
  const wasm = {} as Record<WasmVariant, Uint8Array>;
  for (const variant of VARIANTS) {
    wasm[variant] = await compile(variant, rustc);
    const problems = tableMismatches(table, exportedFunctions(wasm[variant]));
    if (problems.length > 0) {
      throw new Error(
        `The built ${VARIANT_FILES[variant]} and the export table read from kernels/src ` +
          `disagree:\n  - ${problems.join("\n  - ")}\nWrite every export as \`#[no_mangle]\` ` +
          `above \`pub extern "C" fn prism_...(...)\` (see kernels/src/lib.rs).`,
      );
    }
  }
  return { wasm, exports: new TextEncoder().encode(renderKernelExports(table)), rustc };
}

/** Compiles one build and returns the module bytes with the source record appended. */
async function compile(variant: WasmVariant, rustc: string): Promise<Uint8Array> {
  const tmp = await Deno.makeTempDir({ prefix: "prism-wasm-" });
  try {
    const out = `${tmp}/prism.wasm`;
    const root = decodeURIComponent(ROOT.pathname).replace(/\/$/, "");
    const args = [
      ...BUILD_FLAGS,
      ...VARIANT_FLAGS[variant],
      `--remap-path-prefix=${root}=prism`,
      `--remap-path-prefix=${tmp}=build`,
      "kernels/src/lib.rs",
      "-o",
      out,
    ];
    // The fused build passes v128 to its `madd` import, which needs `feature(simd_ffi)`
    // (kernels/src/lib.rs); the call is rewritten away, so the feature's ABI caveat never bites.
    const env = variant === "relaxed-simd" ? { RUSTC_BOOTSTRAP: "1" } : undefined;
    const result = await run(RUSTC, args, ROOT, env);
    if (!result.success) {
      const stderr = new TextDecoder().decode(result.stderr);
      throw new Error(
        `rustc failed for ${VARIANT_FILES[variant]} (exit ${result.code}):\n${stderr}`,
      );
    }
    let bytes = await Deno.readFile(out);
    const record: SourceRecord = {
      hash: await sourceHash(SOURCES, rustc, variant),
      rustc,
      variant,
      ...(variant === "relaxed-simd" ? { rewriter: REWRITER } : {}),
    };
    if (variant === "relaxed-simd") bytes = await fuseMadd(bytes);
    const payload = new TextEncoder().encode(JSON.stringify(record));
    return appendCustomSection(bytes, SOURCE_SECTION, payload);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** Writes beside the target and renames, so a failed build never leaves half a file. */
async function writeAtomic(target: URL, bytes: Uint8Array): Promise<void> {
  const tmp = new URL(`${target.pathname}.${crypto.randomUUID()}.tmp`, target);
  try {
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, target);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

function recordOf(bytes: Uint8Array): SourceRecord | undefined {
  const section = readCustomSection(bytes, SOURCE_SECTION);
  return section && JSON.parse(new TextDecoder().decode(section)) as SourceRecord;
}

function describe(bytes: Uint8Array | undefined): string {
  if (bytes === undefined) return "missing";
  const record = recordOf(bytes);
  if (record === undefined) return `${bytes.length} bytes, no ${SOURCE_SECTION} section`;
  return `${bytes.length} bytes, ${record.variant ?? "simd"}, source hash ` +
    `${record.hash.slice(0, 12)}…, ${record.rustc}` +
    (record.rewriter ? `, ${record.rewriter}` : "");
}

async function main(args: string[]): Promise<number> {
  const unknown = args.filter((a) => a !== "--check");
  if (unknown.length > 0) {
    console.error(`Unknown argument ${unknown.join(" ")}; the only option is --check.`);
    return 2;
  }
  const missing = await missingTools();
  if (missing.length > 0) {
    console.error(`Cannot build the kernel modules; missing:\n  - ${missing.join("\n  - ")}`);
    console.error(`Install them with:\n${INSTALL}`);
    return 1;
  }
  const built = await build();
  const outputs: [URL, Uint8Array, (b: Uint8Array | undefined) => string][] = [
    ...VARIANTS.map((
      v,
    ): [URL, Uint8Array, typeof describe] => [target(v), built.wasm[v], describe]),
    [GENERATED, built.exports, (b) => (b === undefined ? "missing" : `${b.length} bytes`)],
  ];
  if (args.includes("--check")) {
    let stale = 0;
    for (const [target, bytes, about] of outputs) {
      const committed = await Deno.readFile(target).catch(() => undefined);
      const name = target.pathname.slice(ROOT.pathname.length);
      if (committed !== undefined && equal(committed, bytes)) {
        console.log(`${name} is up to date (${about(bytes)}).`);
        continue;
      }
      const recorded = committed && target.pathname.endsWith(".wasm")
        ? recordOf(committed)?.rustc
        : undefined;
      if (recorded !== undefined && recorded !== built.rustc) {
        // Only the compiler moved (its sources and flags are hashed with it in the record, which
        // tests/wasm_build_test.ts checks): not a stale binary.
        console.log(
          `${name}: byte comparison skipped: it was built with ${recorded}, the installed ` +
            `compiler is ${built.rustc}. Run \`deno task build:wasm\` and commit to adopt it.`,
        );
        continue;
      }
      stale++;
      console.error(
        `${name} is stale: it does not match a fresh build of kernels/src.\n` +
          `  committed: ${about(committed)}\n  fresh:     ${about(bytes)}`,
      );
    }
    if (stale > 0) {
      console.error("Run `deno task build:wasm` and commit its outputs with kernels/src.");
      return 1;
    }
    return 0;
  }
  for (const [target, bytes] of outputs) await writeAtomic(target, bytes);
  const wrote = VARIANTS.map((v) => `wasm/${VARIANT_FILES[v]} (${describe(built.wasm[v])})`);
  console.log(`Wrote ${wrote.join(", ")} and ${GENERATED_FILE}.`);
  return 0;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
