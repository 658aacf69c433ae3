/**
 * What a performance figure needs to say about where it was measured: the CPU's model and
 * logical cores, and the git commit of the checkout (so two records can tell whether their
 * absolute times are comparable at all).
 *
 * @module
 */

/** The machine a run happened on. */
export interface MachineInfo {
  /** The CPU's model name (`lscpu`, else `/proc/cpuinfo`), or `"unknown"`. */
  readonly cpu: string;
  /** Logical CPUs the runtime sees. */
  readonly cores: number;
  /** `Deno.build.os`. */
  readonly os: string;
  /** `Deno.build.arch`. */
  readonly arch: string;
  /** `Deno.version.deno`. */
  readonly deno: string;
}

/**
 * The CPU's model name as `lscpu` prints it, falling back to `/proc/cpuinfo`.
 *
 * @returns The name, or `"unknown"` when neither can be read (no permission, another OS).
 * @throws Never.
 * @example
 * ```ts
 * import { cpuModel } from "./machine.ts";
 * import assert from "node:assert";
 * assert((await cpuModel()).length > 0);
 * ```
 */
export async function cpuModel(): Promise<string> {
  const pick = (text: string, key: RegExp) =>
    text.split("\n").find((l) => key.test(l))?.split(":")[1]?.trim();
  try {
    const out = await new Deno.Command("lscpu", { stdout: "piped", stderr: "null" }).output();
    const name = pick(new TextDecoder().decode(out.stdout), /^Model name:/);
    if (name) return name;
  } catch { /* no lscpu, or no --allow-run */ }
  try {
    const name = pick(await Deno.readTextFile("/proc/cpuinfo"), /^model name\s*:/);
    if (name) return name;
  } catch { /* not Linux, or no --allow-read */ }
  return "unknown";
}

/**
 * The machine: CPU model, logical cores, OS, architecture, Deno version.
 *
 * @returns The description.
 * @throws Never.
 * @example
 * ```ts
 * import { machineInfo } from "./machine.ts";
 * import assert from "node:assert";
 * const m = await machineInfo();
 * assert(m.cores >= 1 && m.deno === Deno.version.deno);
 * ```
 */
export async function machineInfo(): Promise<MachineInfo> {
  return {
    cpu: await cpuModel(),
    cores: navigator.hardwareConcurrency,
    os: Deno.build.os,
    arch: Deno.build.arch,
    deno: Deno.version.deno,
  };
}

/**
 * The commit checked out where prism's files are, when they are in a git checkout.
 *
 * @param dir The folder to ask about (default: the one holding this file).
 * @returns The full commit hash, with `+dirty` when tracked files have changes, or `"unknown"`
 *   (not a checkout, no git, no permission, files loaded over the network).
 * @throws Never.
 * @example
 * ```ts
 * import { gitCommit } from "./machine.ts";
 * import assert from "node:assert";
 * const commit = await gitCommit();
 * assert(commit === "unknown" || /^[0-9a-f]{40}(\+dirty)?$/.test(commit));
 * assert((await gitCommit("/")) === "unknown");
 * ```
 */
export async function gitCommit(dir?: string): Promise<string> {
  const here = new URL(".", import.meta.url);
  if (dir === undefined && here.protocol !== "file:") return "unknown";
  const cwd = dir ?? decodeURIComponent(here.pathname);
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "null" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
  };
  try {
    const head = await git("rev-parse", "HEAD");
    if (head === undefined || !/^[0-9a-f]{40}$/.test(head)) return "unknown";
    const status = await git("status", "--porcelain", "--untracked-files=no");
    return status ? `${head}+dirty` : head;
  } catch {
    return "unknown";
  }
}
