/**
 * Builds a spec's layers, with their parameters initialised from a seed.
 *
 * @module
 */

import type { LayerSpec } from "../spec.ts";
import type { Layer } from "./_layer.ts";
import { ConvLayer } from "./_conv.ts";
import { ResidualLayer } from "./_residual.ts";
import { UpsampleLayer } from "./_upsample.ts";

/**
 * The layers of a validated spec. Each parameter tensor draws from its own random stream of
 * `seed` (numbered in spec order), so equal seeds give equal networks.
 *
 * @param specs The layers (from a validated spec).
 * @param seed The initialisation seed, a whole number ≥ 0.
 * @returns The layers, in order.
 */
export function buildLayers(specs: readonly LayerSpec[], seed: number): Layer[] {
  let stream = 0;
  const build = (list: readonly LayerSpec[], prefix: string): Layer[] =>
    list.map((s) => {
      const path = `${prefix}${s.name}`;
      if (s.type === "residual") return new ResidualLayer(path, build(s.layers, `${path}.`));
      if (s.type === "upsample") return new UpsampleLayer(s, path);
      const layer = new ConvLayer(s, path, seed, stream);
      stream += layer.slots.length;
      return layer;
    });
  return build(specs, "");
}
