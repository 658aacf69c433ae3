/**
 * Measures prism's side of a report once per kernel build (`wasm/prism_fma.wasm`, fused
 * multiply-adds, and `wasm/prism.wasm`, plain SIMD), so each report prints both columns.
 *
 * The loader picks the build once per process, so each build runs in a child process of the same
 * report with `PRISM_WASM` set; the child prints its figures as JSON on its last stdout line and
 * the parent measures the peers. Children run one after the other, never beside each other.
 * {@linkcode measureRounds} repeats builds and peers in rounds, so that a ratio only ever
 * compares figures taken seconds apart.
 *
 * @module
 */

import { defaultVariant, type WasmVariant } from "../wasm/loader.ts";
import { summarise, type Timing } from "../harness/timing.ts";

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

/** One round of a report: each build's figures, then the peers'. */
export interface Round<T, P> {
  /** What each build's child emitted. */
  readonly prism: Record<WasmVariant, T>;
  /** What `peers` returned right after. */
  readonly peers: P;
}

/**
 * Runs `rounds` rounds of {@linkcode measureBuilds} followed by `peers()`. On a VM whose
 * virtual CPUs change speed over minutes, prism measured a minute before its peer moved a ratio
 * by 40 % between runs; within a round the two lie seconds apart, and the rounds' spread shows
 * what is left.
 *
 * @param script The report's `import.meta.url`.
 * @param args Arguments passed on (`--quick`).
 * @param rounds How many rounds, at least 1.
 * @param peers Measures the peers (numpy) once.
 * @returns The rounds, in order.
 * @throws {Error} When a child fails.
 */
export async function measureRounds<T, P>(
  script: string,
  args: readonly string[],
  rounds: number,
  peers: () => Promise<P>,
): Promise<Round<T, P>[]> {
  const out: Round<T, P>[] = [];
  for (let round = 1; round <= rounds; round++) {
    if (rounds > 1) console.error(`round ${round} of ${rounds}`);
    const prism = await measureBuilds<T>(script, args);
    out.push({ prism, peers: await peers() });
  }
  return out;
}

/**
 * A figure over rounds: the summary (median, min, max, each round's value in `samples`) of what
 * `pick` finds in each round, leaving out rounds where it finds nothing.
 *
 * @param rounds The rounds.
 * @param pick The figure of one round, e.g. a ratio of that round's prism and peer medians.
 * @returns The summary, or `undefined` when no round has the figure.
 */
export function acrossRounds<R>(
  rounds: readonly R[],
  pick: (round: R) => number | undefined,
): Timing | undefined {
  const xs = rounds.map(pick).filter((x): x is number => x !== undefined);
  return xs.length === 0 ? undefined : summarise(xs);
}
