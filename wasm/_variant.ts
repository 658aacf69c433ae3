/**
 * The two builds of the kernel module and the choice between them at load time.
 *
 * - `"relaxed-simd"`: `prism_fma.wasm`, whose multiply-adds are `f32x4.relaxed_madd` (fused, one
 *   rounding, where the engine fuses: V8 on x86-64 with FMA and on arm64).
 * - `"simd"`: `prism.wasm`, plain `simd128` (multiply, then add), for engines without relaxed
 *   SIMD.
 *
 * The loader takes the fused build when the engine validates a relaxed-SIMD module, unless
 * `PRISM_WASM=simd` asks for the plain one (tests run the kernel suites under both).
 *
 * @module
 */

/** The names of the two builds. */
export type WasmVariant = "relaxed-simd" | "simd";

/** The module file of each build, beside the loader in `wasm/` (`scripts/build_wasm.ts` writes them). */
export const VARIANT_FILES: Readonly<Record<WasmVariant, string>> = {
  "relaxed-simd": "prism_fma.wasm",
  simd: "prism.wasm",
};

/** The environment variable that forces a build: `simd`, `relaxed-simd`, or `auto` (default). */
export const VARIANT_ENV = "PRISM_WASM";

/** A module with one function `() -> v128` whose body is `body` (instructions, no `end`). */
function probe(body: number[]): Uint8Array<ArrayBuffer> {
  const code = [0x00, ...body, 0x0b]; // no locals, the body, end
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // magic, version
    ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b], // type section: () -> v128
    ...[0x03, 0x02, 0x01, 0x00], // function section: one function of type 0
    ...[0x0a, code.length + 2, 0x01, code.length, ...code], // code section (all sizes < 128)
  ]);
}

const V128_ZERO = [0xfd, 0x0c, ...new Array(16).fill(0)];

/** `v128.const 0`: valid with SIMD. */
const SIMD_PROBE = probe(V128_ZERO);
/** `f32x4.relaxed_madd(0, 0, 0)`: valid with relaxed SIMD (opcode 0xfd 0x105). */
const RELAXED_PROBE = probe([...V128_ZERO, ...V128_ZERO, ...V128_ZERO, 0xfd, 0x85, 0x02]);

/**
 * Says whether this engine runs WebAssembly SIMD (`simd128`), which both builds need.
 *
 * @returns `true` when a tiny SIMD module validates.
 * @throws Never.
 * @example
 * ```ts
 * import { wasmSimdSupported } from "./_variant.ts";
 * import assert from "node:assert";
 * assert(typeof wasmSimdSupported() === "boolean");
 * ```
 */
export function wasmSimdSupported(): boolean {
  return WebAssembly.validate(SIMD_PROBE);
}

/**
 * Says whether this engine validates relaxed SIMD (`f32x4.relaxed_madd`), which the fused build
 * needs.
 *
 * @returns `true` when a tiny relaxed-SIMD module validates.
 * @throws Never.
 * @example
 * ```ts
 * import { relaxedSimdSupported } from "./_variant.ts";
 * import assert from "node:assert";
 * assert(typeof relaxedSimdSupported() === "boolean");
 * ```
 */
export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(RELAXED_PROBE);
}

/** `PRISM_WASM`, or undefined where it is unset or may not be read (never prompts). */
function variantVariable(): string | undefined {
  if (typeof Deno === "undefined") return undefined; // a browser: the default holds
  const granted = Deno.permissions.querySync?.({ name: "env", variable: VARIANT_ENV }).state;
  return granted === "granted" ? Deno.env.get(VARIANT_ENV) : undefined;
}

/**
 * Picks the build this engine runs: the fused one where relaxed SIMD validates, unless
 * `PRISM_WASM` says otherwise.
 *
 * @param options What to decide from, for tests: `env` (default: `PRISM_WASM` as read from the
 *   environment) and `relaxedSimd` (default: {@linkcode relaxedSimdSupported}).
 * @returns The variant to load and why it was chosen (for `capabilities()` and `info`).
 * @throws {RangeError} When `PRISM_WASM` holds anything but `simd`, `relaxed-simd` or `auto`.
 * @example
 * ```ts
 * import { chooseVariant, relaxedSimdSupported } from "./_variant.ts";
 * import assert from "node:assert";
 * const { variant } = chooseVariant();
 * assert(variant === "simd" || relaxedSimdSupported());
 * ```
 */
export function chooseVariant(
  options: { env?: string; relaxedSimd?: boolean } = {},
): { variant: WasmVariant; reason: string } {
  const env = "env" in options ? options.env : variantVariable();
  const forced = env?.trim().toLowerCase() || "auto";
  if (forced === "simd") {
    return { variant: "simd", reason: `${VARIANT_ENV}=simd asks for the plain SIMD build` };
  }
  if (forced !== "auto" && forced !== "relaxed-simd") {
    throw new RangeError(
      `${VARIANT_ENV}=${forced} is not a kernel build; set it to simd, relaxed-simd or auto ` +
        `(or unset it)`,
    );
  }
  if (options.relaxedSimd ?? relaxedSimdSupported()) {
    return {
      variant: "relaxed-simd",
      reason: "the engine validates relaxed SIMD: fused multiply-adds",
    };
  }
  if (forced === "relaxed-simd") {
    throw new RangeError(
      `${VARIANT_ENV}=relaxed-simd, but this engine does not validate relaxed SIMD; ` +
        `unset ${VARIANT_ENV} to load the plain SIMD build`,
    );
  }
  return {
    variant: "simd",
    reason: "the engine does not validate relaxed SIMD: multiply, then add",
  };
}
