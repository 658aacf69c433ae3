/**
 * prism: native-speed numeric kernels for Deno.
 *
 * @module
 */

export * from "./core/errors.ts";
export type * from "./core/types.ts";
