/**
 * The viewer's charts, as Vega-Lite specifications (the charting library of the harness's plots)
 * compiled and rendered by Vega in the page.
 *
 * @module
 */

/// <reference lib="dom" />

import { compile, type TopLevelSpec } from "npm:vega-lite@6.4.1";
import { parse, View } from "npm:vega@6.2.0";

/**
 * Renders a Vega-Lite spec into `element`, replacing what was there.
 *
 * @param element The container.
 * @param spec The chart.
 * @returns The view.
 */
export async function renderChart(element: HTMLElement, spec: TopLevelSpec): Promise<View> {
  element.replaceChildren();
  const view = new View(parse(compile(spec).spec), {
    renderer: "canvas",
    container: element,
    hover: true,
  });
  await view.runAsync();
  return view;
}

/**
 * A spectrum: value per band (or per wavelength when the file gives them).
 *
 * @param values One value per band.
 * @param axis The band numbers and, when known, their wavelengths.
 * @returns The spec.
 */
export function spectrumSpec(
  values: ArrayLike<number>,
  axis: { bandNumbers: readonly number[]; wavelengths?: readonly number[] },
): TopLevelSpec {
  const x = axis.wavelengths ?? axis.bandNumbers;
  return {
    width: 380,
    height: 200,
    data: { values: Array.from(values, (v, i) => ({ x: x[i], value: v })) },
    mark: { type: "line", point: values.length <= 64 },
    encoding: {
      x: { field: "x", type: "quantitative", title: axis.wavelengths ? "wavelength" : "band" },
      y: { field: "value", type: "quantitative" },
    },
  };
}

/** The most cells per side of the covariance heat map: a 200-band matrix is averaged in blocks. */
const COVARIANCE_CELLS = 64;

/**
 * The covariance matrix as a heat map; above {@linkcode COVARIANCE_CELLS} bands per side, each
 * cell is the mean of a block of bands (40,000 marks would take seconds to draw).
 *
 * @param covariance `bands × bands`, row-major.
 * @param bands The size.
 * @returns The spec.
 */
export function covarianceSpec(covariance: Float64Array, bands: number): TopLevelSpec {
  const per = Math.ceil(bands / COVARIANCE_CELLS);
  const cells = Math.ceil(bands / per);
  const sums = new Float64Array(cells * cells);
  const counts = new Float64Array(cells * cells);
  for (let i = 0; i < bands; i++) {
    for (let j = 0; j < bands; j++) {
      const k = Math.floor(i / per) * cells + Math.floor(j / per);
      sums[k] += covariance[i * bands + j];
      counts[k]++;
    }
  }
  const values = Array.from(sums, (sum, k) => ({
    i: Math.floor(k / cells) * per,
    j: (k % cells) * per,
    v: sum / counts[k],
  }));
  return {
    width: 320,
    height: 320,
    data: { values },
    mark: "rect",
    encoding: {
      x: { field: "j", type: "ordinal", axis: null, title: "band" },
      y: { field: "i", type: "ordinal", axis: null, title: "band" },
      color: { field: "v", type: "quantitative", scale: { scheme: "redblue", domainMid: 0 } },
      tooltip: [{ field: "i" }, { field: "j" }, { field: "v" }],
    },
  };
}

/**
 * The singular values, largest first, on a log scale.
 *
 * @param values The singular values.
 * @returns The spec.
 */
export function singularSpec(values: Float64Array): TopLevelSpec {
  return {
    width: 380,
    height: 200,
    data: {
      values: Array.from(values, (s, k) => ({ k: k + 1, s: Math.max(s, 1e-30) })),
    },
    mark: { type: "line", point: values.length <= 64 },
    encoding: {
      x: { field: "k", type: "quantitative", title: "index" },
      y: { field: "s", type: "quantitative", scale: { type: "log" }, title: "singular value" },
    },
  };
}
