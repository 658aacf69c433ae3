import assert from "node:assert/strict";
import { KernelArena } from "../wasm/arena.ts";
import { sgemm } from "../wasm/gemm.ts";
import { defaultVariant, type Kernels, loadKernels, relaxedSimdSupported } from "../wasm/loader.ts";
import { chooseVariant, VARIANT_FILES, type WasmVariant } from "../wasm/_variant.ts";
import { readCustomSection } from "../scripts/_custom_section.ts";
import { SOURCE_SECTION, type SourceRecord } from "../scripts/_source_hash.ts";
import { exportedFunctions } from "../scripts/_wasm_signatures.ts";
import { wasmText } from "../scripts/_fuse_madd.ts";
import { capabilities } from "../ops/capabilities.ts";
import { releaseGpu } from "../gpu/device.ts";

const url = (v: WasmVariant) => new URL(`../wasm/${VARIANT_FILES[v]}`, import.meta.url);

/**
 * `x·y` for x = [-(1 + 2⁻¹¹), 1 + 2⁻¹²], y = [1, 1 + 2⁻¹²] through the GEMM micro-kernel: the
 * exact value is 2⁻²⁴ (the product (1 + 2⁻¹²)² = 1 + 2⁻¹¹ + 2⁻²⁴ is not a float32). A fused
 * multiply-add keeps it; a multiply then add rounds the product to 1 + 2⁻¹¹ first and gives 0.
 */
function fusedProbe(kernels: Kernels): number {
  using arena = new KernelArena(kernels);
  const e = 2 ** -12;
  const a = arena.copyIn(new Float32Array([-(1 + 2 * e), 1 + e]));
  const b = arena.copyIn(new Float32Array([1, 1 + e]));
  const c = arena.f32(1);
  const scratch = arena.f32(kernels.exports.prism_sgemm_scratch_len(1, 1, 2));
  sgemm(kernels, { transA: false, transB: false, m: 1, n: 1, k: 2, a, b, c, scratch });
  return kernels.f32(c, 1)[0];
}

Deno.test("the fused build runs f32x4.relaxed_madd as one rounding; the plain build rounds twice", async () => {
  assert.ok(relaxedSimdSupported(), "Deno 2.9's V8 validates relaxed SIMD with no flag");
  assert.equal(fusedProbe(await loadKernels({ url: url("simd") })), 0);
  // Relaxed madd may fuse or not by the spec; V8 fuses on x86-64 with FMA (and on arm64).
  const fused = fusedProbe(await loadKernels({ url: url("relaxed-simd") }));
  const cpuFma = Deno.build.arch === "aarch64" ||
    (await Deno.readTextFile("/proc/cpuinfo").catch(() => "")).includes(" fma");
  if (cpuFma) assert.equal(fused, 2 ** -24);
  else assert.ok(fused === 0 || fused === 2 ** -24, `${fused}`);
});

Deno.test("both builds export the same kernels, carry their own record, and differ only in madd", async () => {
  const records = new Map<WasmVariant, SourceRecord>();
  for (const v of ["simd", "relaxed-simd"] as const) {
    const bytes = await Deno.readFile(url(v));
    const section = readCustomSection(bytes, SOURCE_SECTION);
    assert.ok(section, `${VARIANT_FILES[v]} has no ${SOURCE_SECTION}`);
    records.set(v, JSON.parse(new TextDecoder().decode(section)));
    assert.equal(records.get(v)?.variant, v);
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes));
    assert.deepEqual(imports, [{ module: "env", name: "memory", kind: "memory" }], v);
  }
  assert.equal(records.get("simd")?.rustc, records.get("relaxed-simd")?.rustc);
  assert.match(records.get("relaxed-simd")?.rewriter ?? "", /^wabt /);
  const kernelsOf = async (v: WasmVariant) =>
    [...exportedFunctions(await Deno.readFile(url(v)))].filter(([n]) => n.startsWith("prism_"));
  assert.deepEqual(await kernelsOf("relaxed-simd"), await kernelsOf("simd"));
});

Deno.test("the loader's default build follows PRISM_WASM and is what capabilities() reports", async () => {
  const forced = Deno.env.get("PRISM_WASM");
  const { variant, reason, url: chosen } = defaultVariant();
  const expected = forced === "simd" ? "simd" : relaxedSimdSupported() ? "relaxed-simd" : "simd";
  assert.equal(variant, expected, reason);
  assert.equal(chosen.href, url(variant).href);
  const caps = await capabilities();
  assert.equal(caps.wasm.variant, variant);
  assert.equal(caps.wasm.variantReason, reason);
  assert.equal(caps.wasm.relaxedSimd, relaxedSimdSupported());
  assert.ok(caps.wasm.file.endsWith(VARIANT_FILES[variant]), caps.wasm.file);
  await releaseGpu();
});

Deno.test("PRISM_WASM with an unknown value is refused with the values it takes", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", 'import { defaultVariant } from "./wasm/loader.ts"; defaultVariant();'],
    cwd: new URL("../", import.meta.url),
    env: { PRISM_WASM: "avx512" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 1);
  assert.match(
    new TextDecoder().decode(out.stderr),
    /PRISM_WASM=avx512 .*simd, relaxed-simd or auto/,
  );
});

Deno.test("chooseVariant() falls back to the plain build on an engine without relaxed SIMD", () => {
  const pick = (env: string | undefined, relaxedSimd: boolean) =>
    chooseVariant({ env, relaxedSimd }).variant;
  assert.equal(pick(undefined, true), "relaxed-simd");
  assert.equal(pick(" Auto ", true), "relaxed-simd");
  assert.equal(pick(undefined, false), "simd");
  assert.match(chooseVariant({ env: "", relaxedSimd: false }).reason, /does not validate relaxed/);
  assert.equal(pick("simd", true), "simd");
  assert.equal(pick("relaxed-simd", true), "relaxed-simd");
  assert.throws(() => pick("relaxed-simd", false), /PRISM_WASM=relaxed-simd.*unset PRISM_WASM/);
  assert.throws(() => pick("fma", true), RangeError);
});

Deno.test("the fused build has both relaxed multiply-adds (f32x4, and f64x2 in the eigen reduction); the plain build neither", async () => {
  const opcodes = async (file: string) => {
    const text = await wasmText(await Deno.readFile(new URL(`../wasm/${file}`, import.meta.url)));
    return {
      f64: text.match(/f64x2\.relaxed_madd/g)?.length ?? 0,
      f32: text.match(/f32x4\.relaxed_madd/g)?.length ?? 0,
    };
  };
  const fused = await opcodes("prism_fma.wasm");
  assert(fused.f64 > 0 && fused.f32 > 0, JSON.stringify(fused));
  assert.deepEqual(await opcodes("prism.wasm"), { f64: 0, f32: 0 });
});
