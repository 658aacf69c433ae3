/**
 * Recognises CPU-emulated WebGPU adapters, which must count as a fallback and not as a GPU.
 *
 * @module
 */

/** The adapter facts the rules look at. */
export interface AdapterFacts {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  readonly device: string;
  /** `adapter.info.isFallbackAdapter` or the older `adapter.isFallbackAdapter`. */
  readonly isFallbackAdapter: boolean;
}

// Names of the software rasterisers WebGPU implementations end up on when there is no GPU:
// Mesa's llvmpipe (GL), lavapipe (Vulkan) and softpipe, Google's SwiftShader, and the
// Windows WARP adapter.
const SOFTWARE_NAMES: readonly [string, RegExp][] = [
  ["llvmpipe", /llvmpipe/i],
  ["lavapipe", /lavapipe/i],
  ["softpipe", /softpipe/i],
  ["SwiftShader", /swiftshader/i],
  ["Microsoft Basic Render", /microsoft basic render/i],
];

/**
 * Decides whether an adapter is software and says which rules matched.
 *
 * @returns `{ isSoftware, softwareReason }`; the reason lists every rule that matched.
 */
export function detectSoftware(
  facts: AdapterFacts,
): { isSoftware: boolean; softwareReason?: string } {
  const reasons: string[] = [];
  if (facts.isFallbackAdapter) reasons.push("the adapter reports isFallbackAdapter = true");
  for (const field of ["vendor", "architecture", "description", "device"] as const) {
    const value = facts[field];
    for (const [name, pattern] of SOFTWARE_NAMES) {
      if (pattern.test(value)) reasons.push(`${field} "${value}" names ${name}`);
    }
  }
  return reasons.length === 0
    ? { isSoftware: false }
    : { isSoftware: true, softwareReason: reasons.join("; ") };
}
