/**
 * Reads `PRISM_WEBGPU`, the switch that lets users and CI take the "no GPU" path on a machine
 * that has one.
 *
 * @module
 */

/** The environment variable that turns the WebGPU backend off. */
export const WEBGPU_ENV = "PRISM_WEBGPU";

/**
 * Says why WebGPU is switched off by the environment, or `undefined` when it is not.
 * A missing `--allow-env` permission (or a runtime without `Deno.env`) counts as "not set":
 * asking about the GPU must never throw.
 */
export function webgpuDisabledByEnv(): string | undefined {
  let value: string | undefined;
  try {
    value = Deno.env.get(WEBGPU_ENV);
  } catch {
    return undefined;
  }
  if (value?.trim().toLowerCase() === "off") {
    return `${WEBGPU_ENV}=off is set in the environment; unset it to use the GPU`;
  }
  return undefined;
}
