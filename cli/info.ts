/**
 * `deno run -A cli.ts info`: what this machine offers prism, and where `auto` runs each
 * operation family.
 *
 * @module
 */

import type { Command } from "./_command.ts";
import { parseCommandArgs } from "./_args.ts";
import { type Capabilities, capabilities } from "../ops/capabilities.ts";
import { releaseGpu } from "../gpu/device.ts";
import { formatBytes } from "./_format.ts";

/** The limits worth a line in the text report; `--json` has them all. */
const KEY_LIMITS = [
  "maxBufferSize",
  "maxStorageBufferBindingSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
];

/**
 * Renders a capabilities report as the text `info` prints.
 *
 * @param caps The report from `capabilities()`.
 * @returns Lines of text.
 */
export function formatCapabilities(caps: Capabilities): string {
  const { runtime: rt, wasm, gpu } = caps;
  const lines = [
    `prism ${caps.version}`,
    "",
    "runtime",
    `  Deno ${rt.deno}, V8 ${rt.v8}, TypeScript ${rt.typescript}`,
    `  ${rt.os} ${rt.arch}, ${rt.cpus} logical CPUs`,
    "",
    "wasm (CPU kernels)",
    `  module       ${wasm.file}`,
    `  ABI          ${wasm.abiVersion}` +
    (wasm.source ? `, sources sha256 ${wasm.source.hash.slice(0, 16)}…, ${wasm.source.rustc}` : ""),
    `  SIMD128      ${wasm.simd ? "yes" : "NO: the kernels cannot run on this engine"}`,
    `  build        ${wasm.variant} (${wasm.variantReason})`,
    `  workers      ${wasm.workers}` +
    (wasm.sharedMemory ? " (one shared memory: kernels read data in place)" : ""),
    `  memory now   ${formatBytes(wasm.heapBytes)}`,
    "",
    "webgpu",
  ];
  if (!gpu.available) {
    lines.push(`  unavailable: ${gpu.reason}`);
  } else {
    const a = gpu.adapter;
    lines.push(
      `  adapter      ${a.description || "(no description)"}`,
      `  vendor       ${a.vendor || "?"}, architecture ${a.architecture || "?"}, device ${
        a.device || "?"
      }`,
      `  kind         ${a.isSoftware ? `software (${a.softwareReason})` : "hardware"}`,
      `  shader-f16   ${gpu.f16 ? "yes" : "no"}    timestamp-query ${
        gpu.timestampQuery ? "yes" : "no"
      }`,
      `  features     ${gpu.features.join(", ") || "(none)"}`,
      "  limits",
      ...KEY_LIMITS.filter((k) => k in gpu.limits).map((k) =>
        `    ${k.padEnd(36)} ${
          k.endsWith("Size") && gpu.limits[k] >= 65536
            ? formatBytes(gpu.limits[k])
            : String(gpu.limits[k])
        }`
      ),
    );
  }
  lines.push("", "operation families (ops/families.ts)");
  const width = Math.max(...Object.keys(caps.routes).map((f) => f.length));
  for (const [family, info] of Object.entries(caps.families)) {
    const gpu = info.noGpu ??
      (Number.isFinite(info.gpuFromWork)
        ? `a GPU pays from ${info.gpuFromWork.toExponential(2)} ${info.unit}`
        : "CPU only");
    lines.push(`  ${family.padEnd(width)}  ${info.summary}; ${gpu}`);
  }
  lines.push("", 'backend: "auto" for a large problem');
  for (const [family, route] of Object.entries(caps.routes)) {
    lines.push(`  ${family.padEnd(width)}  ${route.backend.padEnd(6)}  ${route.reason}`);
  }
  return lines.join("\n");
}

/** The `info` command. */
export const infoCommand: Command = {
  name: "info",
  summary: "what this machine offers: runtime, WASM SIMD, workers, GPU adapter, routes",
  example: "deno run -A cli.ts info --json",
  usage: [
    "usage: deno run -A cli.ts info [--json]",
    "",
    "Reports the Deno and V8 versions, WASM SIMD support and the worker pool, the WebGPU adapter",
    "(vendor, description, software or hardware, features, limits) or why there is none, and",
    "which backend `auto` picks for each operation family, and why.",
    "Set PRISM_WEBGPU=off to see the report of a machine without WebGPU.",
    "",
    "  --json   print the full report as JSON (every GPU limit included)",
    "  --quiet  print nothing (the exit code says whether it ran)",
  ].join("\n"),
  async run(args, out) {
    parseCommandArgs(args, {});
    try {
      const caps = await capabilities();
      out.say(formatCapabilities(caps));
      out.summary({ ...caps });
    } finally {
      await releaseGpu();
    }
    return 0;
  },
};
