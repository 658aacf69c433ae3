/**
 * The one place that loads the charting libraries: Vega-Lite compiles a chart to Vega, Vega
 * renders it headless to SVG, resvg (WebAssembly) rasterises the SVG to PNG with the DejaVu Sans
 * font from npm, so the PNG's text looks the same on every machine (resvg-wasm sees no system
 * fonts). All four are imported on first use, never at module load: together they are megabytes
 * that `cli.ts --help`, and every command but `plot`, must not fetch. The specifiers are full
 * `npm:` ones (as `io/_h5wasm.ts`'s), pinned here; the type imports below keep them in deno.lock.
 *
 * @module
 */

/** Vega's namespace. */
type Vega = typeof import("npm:vega@6.2.0");
/** Vega-Lite's namespace. */
type VegaLite = typeof import("npm:vega-lite@6.4.1");
/** resvg-wasm's namespace. */
type ResvgWasm = typeof import("npm:@resvg/resvg-wasm@2.6.2");
// Only so that deno.lock pins the font package (it has no code to import).
export type FontPackage = typeof import("npm:dejavu-fonts-ttf@2.37.3/package.json", {
  with: { type: "json" },
});

const VEGA = "npm:vega@6.2.0";
const VEGA_LITE = "npm:vega-lite@6.4.1";
const RESVG = "npm:@resvg/resvg-wasm@2.6.2";
const FONT_PACKAGE = "npm:dejavu-fonts-ttf@2.37.3";
/** The font family the charts name (their `config.font`) and the PNG renders with. */
export const CHART_FONT = "DejaVu Sans";

/** The loaded libraries. */
export interface Charting {
  vega: Vega;
  vegaLite: VegaLite;
  Resvg: ResvgWasm["Resvg"];
  /** DejaVu Sans and DejaVu Sans Bold, for resvg. */
  fonts: Uint8Array[];
}

let loading: Promise<Charting> | undefined;

/**
 * Loads the libraries once (a failed load is retried on the next call).
 *
 * @returns The libraries and fonts, ready to render.
 */
export function loadCharting(): Promise<Charting> {
  loading ??= load().catch((error) => {
    loading = undefined;
    throw new Error(
      `could not load the charting libraries (vega, vega-lite, resvg-wasm, DejaVu fonts from ` +
        `npm): ${(error as Error).message}; with the npm registry reachable, ` +
        "`deno install` in the repository fetches them",
      { cause: error },
    );
  });
  return loading;
}

async function load(): Promise<Charting> {
  const [vega, vegaLite, resvg] = await Promise.all([
    import(VEGA) as Promise<Vega>,
    import(VEGA_LITE) as Promise<VegaLite>,
    import(RESVG) as Promise<ResvgWasm>,
    // Resolving a file of an npm package needs the package loaded first: its manifest is.
    import(`${FONT_PACKAGE}/package.json`, { with: { type: "json" } }),
  ]);
  const wasm = await Deno.readFile(new URL(import.meta.resolve(`${RESVG}/index_bg.wasm`)));
  await resvg.initWasm(wasm);
  const fonts = await Promise.all(
    ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map(async (name) =>
      await Deno.readFile(new URL(import.meta.resolve(`${FONT_PACKAGE}/ttf/${name}`)))
    ),
  );
  return { vega, vegaLite, Resvg: resvg.Resvg, fonts };
}
