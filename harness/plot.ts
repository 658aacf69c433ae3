/**
 * Charts of the experiments, drawn by a charting library rather than by hand: a Vega-Lite spec
 * (see `plot_specs.ts` for the experiments' specs) rendered headless to SVG by Vega, then to PNG
 * by resvg. The libraries load on the first call (`_vega.ts`).
 *
 * @module
 */

import { extname } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import { CHART_FONT, loadCharting } from "./_vega.ts";

/** A Vega-Lite specification (a plain JSON object; see https://vega.github.io/vega-lite/). */
export type ChartSpec = Readonly<Record<string, unknown>>;

/** A rendered chart. */
export interface Chart {
  /** The SVG document. */
  readonly svg: string;
  /** The PNG file's bytes. */
  readonly png: Uint8Array;
}

/** Options of {@linkcode renderChart}. */
export interface RenderOptions {
  /** Pixels per SVG unit in the PNG; default 2 (sharp on high-density screens). */
  readonly scale?: number;
}

/**
 * Renders a Vega-Lite spec to SVG and PNG. The chart's font is DejaVu Sans (shipped with the
 * renderer), so the PNG's text does not depend on the machine's fonts.
 *
 * @param spec The Vega-Lite spec, data included (`data.values`).
 * @param options `scale` of the PNG.
 * @returns The SVG text and the PNG bytes.
 * @throws {TypeError} When the spec is not an object.
 * @throws {RangeError} When `scale` is not finite and positive.
 * @throws {Error} When Vega-Lite rejects the spec (its message says why), or the libraries
 *   cannot be loaded.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { renderChart } from "./plot.ts";
 * const { svg, png } = await renderChart({
 *   data: { values: [{ n: 1, ms: 2 }, { n: 2, ms: 3 }] },
 *   mark: "line",
 *   encoding: {
 *     x: { field: "n", type: "quantitative", title: "size" },
 *     y: { field: "ms", type: "quantitative", title: "time (ms)" },
 *   },
 * });
 * assert(svg.includes("time (ms)"));
 * assert.deepStrictEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
 * ```
 */
export async function renderChart(spec: ChartSpec, options: RenderOptions = {}): Promise<Chart> {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
    throw new TypeError("renderChart() takes a Vega-Lite spec object");
  }
  const scale = options.scale ?? 2;
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new RangeError(`scale must be finite and positive, got ${scale}`);
  }
  const { vega, vegaLite, Resvg, fonts } = await loadCharting();
  const config = { font: CHART_FONT, ...(spec.config as object | undefined) };
  // deno-lint-ignore no-explicit-any
  const compiled = vegaLite.compile({ ...spec, config } as any).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    font: {
      fontBuffers: fonts,
      loadSystemFonts: false,
      defaultFontFamily: CHART_FONT,
      sansSerifFamily: CHART_FONT,
    },
  });
  try {
    const image = resvg.render();
    try {
      return { svg, png: image.asPng() };
    } finally {
      image.free();
    }
  } finally {
    resvg.free();
  }
}

/**
 * Writes a chart as `<stem>.png` and `<stem>.svg`, each atomically.
 *
 * @param path The PNG's path (`.png`); the SVG goes beside it.
 * @param chart The rendered chart.
 * @returns The two paths written, PNG first.
 * @throws {RangeError} When `path` does not end in `.png`.
 * @throws {Deno.errors.NotFound} When the folder does not exist.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { writeChart } from "./plot.ts";
 * const dir = await Deno.makeTempDir();
 * const paths = await writeChart(`${dir}/a.png`, { svg: "<svg/>", png: new Uint8Array([1]) });
 * assert.deepStrictEqual(paths, [`${dir}/a.png`, `${dir}/a.svg`]);
 * ```
 */
export async function writeChart(path: string, chart: Chart): Promise<[string, string]> {
  if (extname(path).toLowerCase() !== ".png") {
    throw new RangeError(`${path}: a chart is written as a .png file (its .svg goes beside it)`);
  }
  const svgPath = `${path.slice(0, -4)}.svg`;
  await writeFileAtomic(svgPath, new TextEncoder().encode(chart.svg));
  await writeFileAtomic(path, chart.png);
  return [path, svgPath];
}
