/**
 * Measures prism's side of a report once per kernel build (`wasm/prism_fma.wasm`, fused
 * multiply-adds, and `wasm/prism.wasm`, plain SIMD), so each report prints both columns.
 *
 * The loader picks the build once per process, so each build runs in a child process of the same
 * report with `PRISM_WASM` set; the child prints its figures as JSON on its last stdout line and
 * the parent measures the peers once. Children run one after the other, never beside each other.
 *
 * @module
 */

import { defaultVariant, type WasmVariant } from "../wasm/loader.ts";

/** The builds a report measures, fused first. */
export const BUILDS: readonly WasmVariant[] = ["relaxed-simd", "simd"];

const CHILD_ENV = "PRISM_BENCH_BUILD";

/**
 * The build this process measures when it is a report's child, or `undefined` in the parent.
 *
 * @returns The build; it is also the one the loader picked (checked).
 * @throws {Error} When the loader picked another build than the parent asked for.
 */
export function childBuild(): WasmVariant | undefined {
  const asked = Deno.env.get(CHILD_ENV) as WasmVariant | undefined;
  if (asked === undefined) return undefined;
  const { variant, reason } = defaultVariant();
  if (variant !== asked) {
    throw new Error(`asked for the ${asked} build, the loader chose ${reason}`);
  }
  return asked;
}

/**
 * Hands the child's figures to the parent (the last stdout line).
 *
 * @param figures Anything JSON can carry.
 */
export function emit(figures: unknown): void {
  console.log(JSON.stringify(figures));
}

/**
 * Runs `script` (the report itself) once per build as a child and collects what each emitted.
 *
 * @param script The report's `import.meta.url`.
 * @param args Arguments passed on (`--quick`).
 * @returns Each build's figures.
 * @throws {Error} When a child fails (its stderr is shown as it runs).
 */
export async function measureBuilds<T>(
  script: string,
  args: readonly string[],
): Promise<Record<WasmVariant, T>> {
  const config = new URL("./deno.json", import.meta.url).pathname;
  const out = {} as Record<WasmVariant, T>;
  for (const build of BUILDS) {
    console.error(`measuring prism with the ${build} build ...`);
    const child = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--frozen", "--config", config, new URL(script).pathname, ...args],
      env: { PRISM_WASM: build, [CHILD_ENV]: build },
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!child.success) {
      throw new Error(`the ${build} run of ${script} failed (exit ${child.code})`);
    }
    const lines = new TextDecoder().decode(child.stdout).trim().split("\n");
    out[build] = JSON.parse(lines[lines.length - 1]) as T;
  }
  return out;
}
