/**
 * Reads the kernel export table and the block sizes out of the Rust sources, and writes them as
 * TypeScript (`wasm/kernel_exports.generated.ts`), so a new export cannot drift from its type.
 *
 * Used by `scripts/build_wasm.ts` (which writes and `--check`s the file) and by
 * `tests/wasm_build_test.ts` (which compares it with the sources and the built module). Every
 * `#[no_mangle]` item must be a `pub extern "C" fn` this parser understands, and every `pub const`
 * in `params.rs` an integer literal; anything else is an error, never a silent omission.
 *
 * @module
 */

import { listSources } from "./_source_hash.ts";

/** A WebAssembly value type, as a kernel parameter or result lowers to it on wasm32. */
export type WasmValueType = "i32" | "i64" | "f32" | "f64";

/** One `#[no_mangle] pub extern "C" fn` of the kernel sources. */
export interface KernelExport {
  /** The export name, e.g. `"prism_sgemm"`. */
  readonly name: string;
  /** Its parameters in order: the Rust name and type, e.g. `{ name: "m", rust: "usize" }`. */
  readonly params: readonly { readonly name: string; readonly rust: string }[];
  /** The Rust return type, or `undefined` for none. */
  readonly returns?: string;
  /** The `///` doc comment, one entry per line, without the `///` marker. */
  readonly doc: readonly string[];
  /** The source file, relative to `kernels/src`. */
  readonly file: string;
}

/** One `pub const` of `params.rs`: a block size. */
export interface KernelConstant {
  /** The constant's name, the same in Rust and TypeScript. */
  readonly name: string;
  /** Its value. */
  readonly value: number;
  /** The `///` doc comment, one entry per line. */
  readonly doc: readonly string[];
}

/** What the generator reads from the sources. */
export interface KernelTable {
  /** Every export, ordered by file (as {@linkcode listSources} sorts them) and then by position. */
  readonly exports: readonly KernelExport[];
  /** The block sizes from `params.rs`, in source order. */
  readonly constants: readonly KernelConstant[];
}

/** The file that holds the block sizes, relative to `kernels/src`. */
export const PARAMS_FILE = "params.rs";

const SCALARS: Record<string, WasmValueType> = {
  bool: "i32",
  u8: "i32",
  i8: "i32",
  u16: "i32",
  i16: "i32",
  u32: "i32",
  i32: "i32",
  usize: "i32",
  isize: "i32",
  u64: "i64",
  i64: "i64",
  f32: "f32",
  f64: "f64",
};

/**
 * The WebAssembly value type a Rust parameter or return type lowers to on wasm32.
 *
 * @param rust A Rust type as written in a signature, e.g. `"usize"` or `"*const f32"`.
 * @returns `"i32"` for integers up to 32 bits and every raw pointer, `"i64"`, `"f32"` or `"f64"`.
 * @throws {TypeError} For a type a kernel export may not use (a reference, a struct, a slice).
 * @example
 * ```ts
 * import { wasmType } from "./_kernel_exports.ts";
 * import assert from "node:assert";
 * assert(wasmType("*mut f64") === "i32" && wasmType("f32") === "f32");
 * ```
 */
export function wasmType(rust: string): WasmValueType {
  if (/^\*(const|mut)\s+\S/.test(rust)) return "i32";
  const scalar = SCALARS[rust];
  if (scalar === undefined) {
    throw new TypeError(
      `Rust type \`${rust}\` cannot cross the kernel ABI; use integers, f32/f64 or raw pointers`,
    );
  }
  return scalar;
}

/** The `///` lines directly above line `at`, skipping attribute lines between them. */
function docAbove(lines: readonly string[], at: number): string[] {
  const doc: string[] = [];
  for (let i = at - 1; i >= 0; i--) {
    const line = lines[i].trim();
    if (line.startsWith("#[")) continue;
    if (!line.startsWith("///")) break;
    doc.unshift(line.slice(3).replace(/^ /, ""));
  }
  return doc;
}

const FN = /^pub\s+(?:unsafe\s+)?extern\s+"C"\s+fn\s+(\w+)\s*\(([^)]*)\)\s*(?:->\s*([^{]+?))?\s*\{/;

/** Parses the item after a `#[no_mangle]` at line `at` of `file`. */
function parseExport(file: string, lines: readonly string[], at: number): KernelExport {
  const where = `kernels/src/${file}:${at + 1}`;
  let i = at + 1;
  while (i < lines.length && lines[i].trim().startsWith("#[")) i++;
  let text = "";
  while (i < lines.length && !text.includes("{")) text += " " + lines[i++].trim();
  const match = FN.exec(text.trim());
  if (match === null) {
    throw new SyntaxError(
      `${where}: #[no_mangle] must mark a \`pub extern "C" fn name(arg: type, ...) -> type {\` ` +
        `(found \`${text.trim().slice(0, 80)}\`); the export table cannot describe anything else`,
    );
  }
  const [, name, list, returns] = match;
  const params = list.split(",").map((p) => p.trim()).filter((p) => p !== "").map((p) => {
    const param = /^(?:mut\s+)?(\w+)\s*:\s*(.+)$/.exec(p);
    if (param === null) {
      throw new SyntaxError(`${where}: cannot read parameter \`${p}\` of ${name}`);
    }
    return { name: param[1], rust: param[2].replace(/\s+/g, " ") };
  });
  for (const p of params) wasmType(p.rust);
  const ret = returns === undefined || returns === "()" ? undefined : returns;
  if (ret !== undefined) wasmType(ret);
  return { name, params, returns: ret, doc: docAbove(lines, at), file };
}

function parseConstants(text: string): KernelConstant[] {
  const lines = text.split("\n");
  const out: KernelConstant[] = [];
  lines.forEach((line, i) => {
    if (!/^pub\s+const\b/.test(line)) return;
    const m = /^pub const ([A-Z][A-Z0-9_]*): (usize|u32) = ([0-9][0-9_]*);$/.exec(line.trim());
    if (m === null) {
      throw new SyntaxError(
        `kernels/src/${PARAMS_FILE}:${i + 1}: a block size must read \`pub const NAME: usize = ` +
          `123;\` (an integer literal) so the build can export it; found \`${line.trim()}\``,
      );
    }
    out.push({ name: m[1], value: Number(m[3].replaceAll("_", "")), doc: docAbove(lines, i) });
  });
  return out;
}

/**
 * Reads every export and block size from source texts.
 *
 * @param sources The files, as `[path relative to kernels/src, text]` pairs, in the order the
 *   exports should be listed.
 * @returns The exports and the constants of `params.rs`.
 * @throws {SyntaxError} When a `#[no_mangle]` item or an `#[export_name]` is not a function this
 *   parser reads, a name is exported twice, or a `pub const` of `params.rs` is not a literal.
 * @throws {TypeError} When an export uses a type that cannot cross the ABI.
 * @example
 * ```ts
 * import { parseKernelSources } from "./_kernel_exports.ts";
 * import assert from "node:assert";
 * const table = parseKernelSources([
 *   ["lib.rs", '/// Doubles.\n#[no_mangle]\npub extern "C" fn prism_double(x: f32) -> f32 {'],
 *   ["params.rs", "/// Rows per block.\npub const BLOCK: usize = 128;\n"],
 * ]);
 * assert(table.exports[0].params[0].rust === "f32" && table.constants[0].value === 128);
 * ```
 */
export function parseKernelSources(sources: readonly [string, string][]): KernelTable {
  const exports: KernelExport[] = [];
  let constants: KernelConstant[] = [];
  for (const [file, text] of sources) {
    const lines = text.split("\n");
    lines.forEach((line, i) => {
      const t = line.trim();
      if (t.startsWith("#[export_name") || /^#\[no_mangle\].+/.test(t)) {
        throw new SyntaxError(
          `kernels/src/${file}:${i + 1}: write exports as \`#[no_mangle]\` on a line of its own ` +
            `above \`pub extern "C" fn prism_...\`, so the export table can read them`,
        );
      }
      if (t === "#[no_mangle]") exports.push(parseExport(file, lines, i));
    });
    if (file === PARAMS_FILE) constants = parseConstants(text);
  }
  const seen = new Set<string>();
  for (const e of exports) {
    if (seen.has(e.name)) throw new SyntaxError(`${e.name} is exported twice`);
    seen.add(e.name);
  }
  return { exports, constants };
}

/**
 * Reads the table from a `kernels/src` folder (every `.rs` file below it).
 *
 * @param dir The folder, a URL ending in `/`.
 * @returns The exports and the constants.
 * @throws {SyntaxError} See {@linkcode parseKernelSources}.
 * @example
 * ```ts
 * import { readKernelTable } from "./_kernel_exports.ts";
 * import assert from "node:assert";
 * const table = await readKernelTable(new URL("../kernels/src/", import.meta.url));
 * assert(table.exports.some((e) => e.name === "prism_sgemm"));
 * ```
 */
export async function readKernelTable(dir: URL): Promise<KernelTable> {
  const files = (await listSources(dir)).filter((f) => f.endsWith(".rs"));
  const sources: [string, string][] = [];
  for (const f of files) sources.push([f, await Deno.readTextFile(new URL(f, dir))]);
  return parseKernelSources(sources);
}

/**
 * Compares a table with a built module: the same exported functions, each with the parameter
 * and result types its Rust signature lowers to. The module's `__`-prefixed linker exports
 * (`__stack_pointer`, `__wasm_init_tls`, ...) are not compared.
 *
 * @param table The table read from the sources.
 * @param functions The module's exported functions (from `exportedFunctions()`).
 * @returns One line per difference; empty when they agree.
 * @throws {TypeError} When an export uses a type that cannot cross the ABI.
 * @example
 * ```ts
 * import { readKernelTable, tableMismatches } from "./_kernel_exports.ts";
 * import { exportedFunctions } from "./_wasm_signatures.ts";
 * import assert from "node:assert";
 * const table = await readKernelTable(new URL("../kernels/src/", import.meta.url));
 * const bytes = await Deno.readFile(new URL("../wasm/prism.wasm", import.meta.url));
 * assert.deepStrictEqual(tableMismatches(table, exportedFunctions(bytes)), []);
 * ```
 */
export function tableMismatches(
  table: KernelTable,
  functions: ReadonlyMap<
    string,
    { readonly params: readonly string[]; readonly results: readonly string[] }
  >,
): string[] {
  const problems: string[] = [];
  const show = (s: { params: readonly string[]; results: readonly string[] }) =>
    `(${s.params.join(", ")}) -> (${s.results.join(", ")})`;
  for (const e of table.exports) {
    const built = functions.get(e.name);
    const declared = {
      params: e.params.map((p) => wasmType(p.rust)),
      results: e.returns === undefined ? [] : [wasmType(e.returns)],
    };
    if (built === undefined) problems.push(`${e.name} is declared in kernels/src but not exported`);
    else if (show(built) !== show(declared)) {
      problems.push(`${e.name}: the module has ${show(built)}, the source ${show(declared)}`);
    }
  }
  const declared = new Set(table.exports.map((e) => e.name));
  for (const name of functions.keys()) {
    // rustc adds the linker's `__wasm_init_tls` when unstable features are on (the fused build).
    if (!declared.has(name) && !name.startsWith("__")) {
      problems.push(`${name} is exported but not in the table`);
    }
  }
  return problems;
}
