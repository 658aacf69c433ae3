/**
 * The record the build stores in `wasm/prism.wasm`: which sources, flags and compiler made it.
 *
 * Shared by `scripts/build_wasm.ts` (which writes it) and `tests/wasm_build_test.ts` (which
 * recomputes it from `kernels/src` and fails when the committed binary is stale), so both agree
 * on one definition of "the sources".
 *
 * @module
 */

import type { WasmVariant } from "../wasm/_variant.ts";

/** Name of the custom section that holds the {@linkcode SourceRecord} as JSON. */
export const SOURCE_SECTION = "prism.source_hash";

/**
 * The rustc flags that shape the output. Paths (`-o`, `--remap-path-prefix`) are left out on
 * purpose: they differ between checkouts and must not change the hash.
 */
export const BUILD_FLAGS: readonly string[] = [
  "--crate-type=cdylib",
  "--crate-name=prism_kernels",
  "--edition=2021",
  "--target=wasm32-unknown-unknown",
  "-Copt-level=3",
  // atomics + bulk-memory + a shared, imported memory: every pool worker instantiates the module
  // over the one memory the main thread owns, so kernels on all cores read the caller's data
  // where it lies (no copy per worker). Each worker gets its own stack via `__stack_pointer`.
  "-Ctarget-feature=+simd128,+atomics,+bulk-memory,+mutable-globals",
  "-Cpanic=abort",
  "-Ccodegen-units=1",
  "-Cstrip=debuginfo",
  "-Clinker=wasm-ld-14",
  "-Clink-arg=--shared-memory",
  "-Clink-arg=--import-memory",
  "-Clink-arg=--max-memory=4294967296",
  "-Clink-arg=--export=__stack_pointer",
  "-Clink-arg=-zstack-size=1048576",
];

/**
 * The rustc flags each build adds to {@linkcode BUILD_FLAGS}: the fused build compiles
 * `kernels/src/madd.rs`'s imported `madd` (rewritten after the build, `scripts/_fuse_madd.ts`).
 */
export const VARIANT_FLAGS: Readonly<Record<WasmVariant, readonly string[]>> = {
  simd: [],
  "relaxed-simd": ["--cfg=prism_fma"],
};

/** What `prism.source_hash` holds. The compiler version is stored so a check needs no rustc. */
export interface SourceRecord {
  /** Hex SHA-256 over the kernel sources, {@linkcode BUILD_FLAGS} and `rustc`. */
  readonly hash: string;
  /** `rustc --version` of the compiler that built the binary. */
  readonly rustc: string;
  /** Which build this is (absent in binaries from before there were two). */
  readonly variant?: WasmVariant;
  /** The post-build rewriter of the fused build (`wabt 1.0.39`). */
  readonly rewriter?: string;
}

/**
 * Lists every file under `dir` as sorted `/`-separated paths relative to `dir`.
 *
 * @param dir The folder to walk, e.g. the `kernels/src` URL.
 * @returns The relative paths, sorted by UTF-16 code unit order.
 * @throws {Deno.errors.NotFound} When `dir` does not exist.
 * @example
 * ```ts
 * import { listSources } from "./_source_hash.ts";
 * import assert from "node:assert";
 * const files = await listSources(new URL("../kernels/src/", import.meta.url));
 * assert(files.includes("lib.rs"));
 * ```
 */
export async function listSources(dir: URL): Promise<string[]> {
  const out: string[] = [];
  async function walk(sub: string): Promise<void> {
    for await (const entry of Deno.readDir(new URL(sub, dir))) {
      const rel = sub + entry.name;
      if (entry.isDirectory) await walk(rel + "/");
      else if (entry.isFile) out.push(rel);
    }
  }
  await walk("");
  return out.sort();
}

/**
 * Hashes the kernel sources with the build flags and compiler version.
 *
 * Each file contributes its relative path, its byte length and its bytes, so renaming or moving
 * a file changes the hash as much as editing it.
 *
 * @param dir The `kernels/src/` folder (a URL ending in `/`).
 * @param rustc The compiler's `rustc --version` line.
 * @param variant The build whose {@linkcode VARIANT_FLAGS} join the hashed flags (default
 *   `"simd"`, which adds none).
 * @returns The lowercase hex SHA-256.
 * @throws {Deno.errors.NotFound} When `dir` does not exist.
 * @example
 * ```ts
 * import { sourceHash } from "./_source_hash.ts";
 * import assert from "node:assert";
 * const hash = await sourceHash(new URL("../kernels/src/", import.meta.url), "rustc 1.63.0");
 * assert(/^[0-9a-f]{64}$/.test(hash));
 * ```
 */
export async function sourceHash(
  dir: URL,
  rustc: string,
  variant: WasmVariant = "simd",
): Promise<string> {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const rel of await listSources(dir)) {
    const bytes = await Deno.readFile(new URL(rel, dir));
    parts.push(encoder.encode(`file ${rel} ${bytes.length}\n`), bytes, encoder.encode("\n"));
  }
  const flags = [...BUILD_FLAGS, ...VARIANT_FLAGS[variant]].join(" ");
  parts.push(encoder.encode(`flags ${flags}\nrustc ${rustc}\n`));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
