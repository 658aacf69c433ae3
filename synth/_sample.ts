/**
 * The synthetic hyperspectral sample of the RX stress suite, generated image line by image line so
 * a sample never has to be held whole (the dataset streams of `datasets.ts` rely on this).
 *
 * Draw order from the sample's stream (fixed, so a sample is reproducible): first every cluster
 * (centre row, centre column, radius), then one normal per (line, pixel, band) in BIP order,
 * including pixels an anomaly later overwrites. Clusters come first so that the anomaly layout
 * does not depend on `noiseStd` (with `noiseStd = 0` no normals are drawn at all).
 *
 * @module
 */

import { Rng } from "./rng.ts";

/** Validated generator parameters. */
export interface SampleParams {
  height: number;
  width: number;
  bands: number;
  anomalyRatio: number;
  noiseStd: number;
  anomalyMagnitude: number;
  seed: number;
  sampleIndex: number;
}

/** One anomaly disc: pixels with `(row - r)^2 + (col - c)^2 <= radius^2`. */
export interface Cluster {
  /** Centre row. */
  row: number;
  /** Centre column. */
  col: number;
  /** Radius in pixels (2..5). */
  radius: number;
}

/** A sample's fixed parts and its random stream, positioned after the cluster draws. */
export interface SamplePlan {
  params: SampleParams;
  clusters: Cluster[];
  background: Float64Array;
  anomaly: Float64Array;
  rng: Rng;
  nextLine: number;
}

/**
 * `linspace(0, 1, bands)` as numpy computes it: `k * (1 / (bands - 1))`, the last point exactly 1.
 *
 * @param bands Number of points.
 * @returns The points.
 */
export function linspace01(bands: number): Float64Array {
  const w = new Float64Array(bands);
  if (bands === 1) return w;
  const step = 1 / (bands - 1);
  for (let k = 0; k < bands; k++) w[k] = k * step;
  w[bands - 1] = 1;
  return w;
}

/**
 * Number of anomaly clusters: `max(1, floor(floor(height * width * ratio) / 20))`.
 *
 * @param params The sample parameters.
 * @returns The count.
 */
export function clusterCount(params: SampleParams): number {
  return Math.max(
    1,
    Math.floor(Math.floor(params.height * params.width * params.anomalyRatio) / 20),
  );
}

/**
 * Draws the clusters and computes the signatures.
 *
 * @param params Validated parameters.
 * @returns The plan, ready to generate line 0.
 */
export function planSample(params: SampleParams): SamplePlan {
  const rng = new Rng(params.seed, params.sampleIndex);
  const clusters: Cluster[] = [];
  for (let c = clusterCount(params); c > 0; c--) {
    const row = rng.int(0, params.height - 1);
    const col = rng.int(0, params.width - 1);
    const radius = rng.int(2, 5);
    clusters.push({ row, col, radius });
  }
  const w = linspace01(params.bands);
  const background = new Float64Array(params.bands);
  const anomaly = new Float64Array(params.bands);
  const mag = params.anomalyMagnitude;
  for (let k = 0; k < params.bands; k++) {
    background[k] = 100 * Math.exp(-((w[k] - 0.5) ** 2) / 0.1);
    anomaly[k] = 100 * mag *
      (0.5 * Math.exp(-((w[k] - 0.3) ** 2) / 0.05) + 0.5 * Math.exp(-((w[k] - 0.7) ** 2) / 0.05));
  }
  return { params, clusters, background, anomaly, rng, nextLine: 0 };
}

/**
 * For one image line, the 1-based id of the last cluster covering each pixel (0: background).
 *
 * @param plan The plan.
 * @param line The image line.
 * @param out `width` entries, overwritten.
 */
function lineLabels(plan: SamplePlan, line: number, out: Int32Array): void {
  out.fill(0);
  const width = plan.params.width;
  plan.clusters.forEach((c, index) => {
    const di = line - c.row;
    if (Math.abs(di) > c.radius) return;
    for (let j = Math.max(0, c.col - c.radius); j <= Math.min(width - 1, c.col + c.radius); j++) {
      const dj = j - c.col;
      if (di * di + dj * dj <= c.radius * c.radius) out[j] = index + 1;
    }
  });
}

/**
 * Generates the next `lineCount` image lines (lines must be generated in order, since the noise
 * is one sequential stream): background `signature[k] * (1 + 0.2 sin(2 pi i / H)) *
 * (1 + 0.2 cos(2 pi j / W))` (evaluated in that order in float64) plus `noiseStd * 100 * normal`,
 * rounded to float32; anomalous pixels get the noise-free anomaly signature.
 *
 * @param plan The plan; its line cursor advances.
 * @param into `lineCount` (lines to generate), `cube` (`lineCount * width * bands` values,
 *   BIP, overwritten) and `labels` (`lineCount * width` cluster ids, overwritten).
 */
export function nextLines(
  plan: SamplePlan,
  into: { lineCount: number; cube: Float32Array; labels: Int32Array },
): void {
  const { lineCount, cube, labels } = into;
  const { height, width, bands, noiseStd } = plan.params;
  const std = noiseStd * 100;
  const { background, anomaly, rng } = plan;
  const colMod = new Float64Array(width);
  for (let j = 0; j < width; j++) colMod[j] = 1 + 0.2 * Math.cos((2 * Math.PI * j) / width);
  for (let l = 0; l < lineCount; l++) {
    const i = plan.nextLine++;
    const rowMod = 1 + 0.2 * Math.sin((2 * Math.PI * i) / height);
    const lineIds = labels.subarray(l * width, (l + 1) * width);
    lineLabels(plan, i, lineIds);
    for (let j = 0; j < width; j++) {
      const base = (l * width + j) * bands;
      for (let k = 0; k < bands; k++) {
        const noise = std === 0 ? 0 : std * rng.normal();
        cube[base + k] = background[k] * rowMod * colMod[j] + noise;
      }
      if (lineIds[j] !== 0) { for (let k = 0; k < bands; k++) cube[base + k] = anomaly[k]; }
    }
  }
}
