/**
 * prism's version, read from `deno.json` (the one place it is written, which JSR publishes):
 * the CLI reports it, and saved shard states record it so states of different versions are not
 * merged.
 *
 * @module
 */

import meta from "../deno.json" with { type: "json" };

/** The package name and version, e.g. `{ name: "@prism/compute", version: "0.1.0" }`. */
export const PRISM: { readonly name: string; readonly version: string } = {
  name: meta.name,
  version: meta.version,
};
