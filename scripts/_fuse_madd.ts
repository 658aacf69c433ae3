/**
 * Turns the fused build's calls to the imported `prism.madd` into `f32x4.relaxed_madd`.
 *
 * rustc 1.63 cannot emit relaxed SIMD, so `kernels/src/madd.rs` (under `--cfg prism_fma`) calls an
 * import `madd(a: v128, b: v128, c: v128) -> v128`: the same operands and result, on the same
 * stack, as `f32x4.relaxed_madd` (`a * b + c`). This step disassembles the module with wabt,
 * drops the import, writes the opcode for each call, and assembles it again; wabt's output is
 * deterministic, so the fused build stays byte-reproducible. Custom sections (names, producers)
 * are not carried over; the build appends its source record afterwards.
 *
 * @module
 */

import initWabt from "npm:wabt@1.0.39";

/** The rewriter, as recorded in the fused build's source record. */
export const REWRITER = "wabt 1.0.39";

/** The imports the fused kernels call (`kernels/src/madd.rs` names them) and their opcodes. */
const IMPORT = { module: "prism", name: "madd" };
const OPCODES: Readonly<Record<string, string>> = {
  madd: "f32x4.relaxed_madd",
  madd_f64: "f64x2.relaxed_madd",
};

const FEATURES = {
  simd: true,
  relaxed_simd: true,
  threads: true,
  bulk_memory: true,
  mutable_globals: true,
  sat_float_to_int: true,
  sign_extension: true,
  multi_value: true,
};

/**
 * A module as WebAssembly text, one instruction a line (not folded), with generated names: what
 * the rewrite edits, and what a test reads to count the fused build's opcodes.
 *
 * @param module A module's bytes (relaxed SIMD and the other features the kernels use allowed).
 * @returns Its text.
 * @throws {Error} When wabt cannot read the module.
 * @example
 * ```ts
 * import { wasmText } from "./_fuse_madd.ts";
 * import assert from "node:assert";
 * assert.match(await wasmText(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])), /\(module/);
 * ```
 */
export async function wasmText(module: Uint8Array): Promise<string> {
  const wabt = await initWabt();
  const parsed = wabt.readWasm(module, { readDebugNames: false, ...FEATURES });
  try {
    parsed.generateNames();
    parsed.applyNames();
    return parsed.toText({ foldExprs: false, inlineExport: false });
  } finally {
    parsed.destroy();
  }
}

/**
 * Rewrites every call to `prism.madd` into `f32x4.relaxed_madd` (and to `prism.madd_f64` into
 * `f64x2.relaxed_madd`) and removes the imports.
 *
 * @param module The module rustc and wasm-ld produced with `--cfg prism_fma`.
 * @returns The fused module's bytes (no custom sections).
 * @throws {Error} When the module does not import `prism.madd`, an import does not have the type
 *   `(v128, v128, v128) -> v128` or is never called, or it imports anything else from `prism`.
 * @example
 * ```ts
 * import { fuseMadd } from "./_fuse_madd.ts";
 * import assert from "node:assert";
 * await assert.rejects(fuseMadd(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])), /prism\.madd/);
 * ```
 */
export async function fuseMadd(module: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const wabt = await initWabt();
  const lines = (await wasmText(module)).split("\n");
  const importLine = new RegExp(`^\\s*\\(import "${IMPORT.module}" "([^"]*)" \\(func (\\$\\S+) `);
  const imports = lines.flatMap((line) => {
    const m = importLine.exec(line);
    return m ? [{ name: m[1], id: m[2], line }] : [];
  });
  const madd = imports.find((m) => m.name === IMPORT.name);
  const others = imports.filter((m) => !(m.name in OPCODES)).map((m) => m.name);
  if (madd === undefined || others.length > 0) {
    throw new Error(
      `the fused build must import ${IMPORT.module}.${IMPORT.name} (and may import ` +
        `${Object.keys(OPCODES).join(", ")}) from "${IMPORT.module}", nothing else (found ` +
        `${imports.map((m) => m.name).join(", ") || "none"}); see kernels/src/madd.rs`,
    );
  }
  let fused = lines;
  for (const imported of imports) fused = rewriteCalls(fused, imported);
  const rest = fused.join("\n");
  const assembled = wabt.parseWat("prism_fma.wat", rest, FEATURES);
  try {
    assembled.resolveNames();
    // wabt's validate() takes the features to allow (its index.d.ts omits the parameter).
    (assembled.validate as (features: typeof FEATURES) => void).call(assembled, FEATURES);
    return new Uint8Array(assembled.toBinary({ log: false, write_debug_names: false }).buffer);
  } finally {
    assembled.destroy();
  }
}

/**
 * Drops one `prism` import from the module's text and writes its opcode in place of every
 * call, after checking its type is `(v128, v128, v128) -> v128`, that it is called, and that
 * nothing but those calls referred to it.
 */
function rewriteCalls(
  lines: string[],
  imported: { name: string; id: string; line: string },
): string[] {
  const where = `${IMPORT.module}.${imported.name}`;
  // The import names its type (`(type $t0)`); the type's definition holds the signature.
  const typeId = /\(type (\$[^\s)]+)\)/.exec(imported.line)?.[1];
  const typeLine = lines.find((l) => typeId && l.trimStart().startsWith(`(type ${typeId} `));
  if (!typeLine?.includes("(func (param v128 v128 v128) (result v128))")) {
    throw new Error(`${where} must have type (v128, v128, v128) -> v128`);
  }
  const call = new RegExp(`^(\\s*)call ${imported.id.replaceAll("$", "\\$")}$`);
  let calls = 0;
  const fused = lines.filter((line) => line !== imported.line).map((line) => {
    const m = call.exec(line);
    if (m === null) return line;
    calls++;
    return `${m[1]}${OPCODES[imported.name]}`;
  });
  if (calls === 0) throw new Error(`the module imports ${where} but never calls it`);
  const rest = fused.join("\n");
  const id = imported.id;
  if (rest.includes(id + ")") || rest.includes(id + " ") || rest.endsWith(id)) {
    throw new Error(`${id} is still referenced after the rewrite (not only by call)`);
  }
  return fused;
}
