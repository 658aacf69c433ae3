/**
 * Reads the signature of every exported function straight from a module's bytes (its type,
 * import, function and export sections), since the JS API reports only names and kinds. The
 * build and the tests hold the generated export table to what the compiler really emitted.
 *
 * @module
 */

import { Reader } from "../wasm/_memory_import.ts";

/** A value type as the binary format names it (`v128` included, so a SIMD export is visible). */
export type ValueType = "i32" | "i64" | "f32" | "f64" | "v128";

/** One function's parameter and result types. */
export interface FunctionSignature {
  readonly params: readonly ValueType[];
  readonly results: readonly ValueType[];
}

const VALUE_TYPES: Record<number, ValueType> = {
  0x7f: "i32",
  0x7e: "i64",
  0x7d: "f32",
  0x7c: "f64",
  0x7b: "v128",
};

function valueType(r: Reader): ValueType {
  const code = r.byte();
  const type = VALUE_TYPES[code];
  if (type === undefined) throw new TypeError(`unknown value type 0x${code.toString(16)}`);
  return type;
}

function vector<T>(r: Reader, read: () => T): T[] {
  return Array.from({ length: r.leb() }, read);
}

/** Skips one import's description, returning whether it imports a function. */
function skipImport(r: Reader): boolean {
  r.name();
  r.name();
  const kind = r.byte();
  if (kind === 0) r.leb(); // function: type index
  else if (kind === 1) { // table: reference type, limits
    r.byte();
    r.limits();
  } else if (kind === 2) r.limits(); // memory
  else if (kind === 3) { // global: value type, mutability
    r.byte();
    r.byte();
  } else throw new TypeError(`unknown import kind ${kind}`);
  return kind === 0;
}

/**
 * The signatures of a module's exported functions.
 *
 * @param bytes The module's bytes.
 * @returns A map from export name to signature (exports that are not functions are left out).
 * @throws {TypeError} When the bytes are not a well-formed module.
 * @example
 * ```ts
 * import { exportedFunctions } from "./_wasm_signatures.ts";
 * import assert from "node:assert";
 * const bytes = await Deno.readFile(new URL("../wasm/prism.wasm", import.meta.url));
 * const alloc = exportedFunctions(bytes).get("prism_alloc");
 * assert(alloc?.params.length === 1 && alloc.results[0] === "i32");
 * ```
 */
export function exportedFunctions(bytes: Uint8Array): Map<string, FunctionSignature> {
  const r = new Reader(bytes);
  if (bytes.length < 8 || r.u32le() !== 0x6d736100) {
    throw new TypeError("not a WebAssembly module: the bytes do not start with \\0asm");
  }
  r.u32le(); // version
  let types: FunctionSignature[] = [];
  let imported = 0;
  let functions: number[] = [];
  const out = new Map<string, FunctionSignature>();
  while (!r.done()) {
    const id = r.byte();
    const end = r.leb() + r.at;
    if (id === 1) {
      types = vector(r, () => {
        if (r.byte() !== 0x60) throw new TypeError("a type section entry is not a function type");
        return { params: vector(r, () => valueType(r)), results: vector(r, () => valueType(r)) };
      });
    } else if (id === 2) {
      imported = vector(r, () => skipImport(r)).filter(Boolean).length;
    } else if (id === 3) {
      functions = vector(r, () => r.leb());
    } else if (id === 7) {
      for (const [name, kind, index] of vector(r, () => [r.name(), r.byte(), r.leb()] as const)) {
        if (kind !== 0) continue;
        const type = types[functions[index - imported]];
        if (type === undefined) throw new TypeError(`export ${name} names an unknown function`);
        out.set(name, type);
      }
    }
    r.at = end;
  }
  return out;
}
