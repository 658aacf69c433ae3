/**
 * Pixels for the viewer's canvases: a band or a false-colour composite of the cube, stretched
 * per channel, and the RX scores as a heat map with the pixels over the threshold marked.
 *
 * @module
 */

/// <reference lib="dom" />

import type { Cube } from "../mod.ts";

/** The 2nd and 98th percentiles of band `band` (a sample of at most 65,536 pixels). */
function stretch(cube: Cube, band: number): [number, number] {
  const pixels = cube.height * cube.width;
  const step = Math.max(1, Math.floor(pixels / 65536));
  const sample: number[] = [];
  for (let p = 0; p < pixels; p += step) {
    const v = cube.data[p * cube.bands + band];
    if (Number.isFinite(v)) sample.push(v);
  }
  if (sample.length === 0) return [0, 1];
  sample.sort((a, b) => a - b);
  const lo = sample[Math.floor(sample.length * 0.02)];
  const hi = sample[Math.min(sample.length - 1, Math.floor(sample.length * 0.98))];
  return [lo, hi > lo ? hi : lo + 1];
}

/**
 * Draws one band in grey, or three bands as red, green and blue.
 *
 * @param canvas Where to draw (resized to the cube).
 * @param cube The cube.
 * @param bands One band, or the red, green and blue bands.
 */
export function drawImage(canvas: HTMLCanvasElement, cube: Cube, bands: readonly number[]): void {
  const { width, height } = cube;
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d")!;
  const image = context.createImageData(width, height);
  const channels = bands.length === 1 ? [bands[0], bands[0], bands[0]] : bands;
  const ranges = channels.map((b) => stretch(cube, b));
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) {
      const [lo, hi] = ranges[c];
      const v = (cube.data[p * cube.bands + channels[c]] - lo) / (hi - lo);
      image.data[p * 4 + c] = Math.max(0, Math.min(255, v * 255));
    }
    image.data[p * 4 + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}

/** A dark-blue to yellow ramp (close to viridis), `t` in 0..1. */
function ramp(t: number): [number, number, number] {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((c) => stops[i][c] + f * (stops[i + 1][c] - stops[i][c])) as [
    number,
    number,
    number,
  ];
}

/**
 * Draws RX scores as a heat map (a log scale: scores span decades), pixels over `threshold` in
 * red.
 *
 * @param canvas Where to draw.
 * @param scores One score per pixel, row-major.
 * @param shape `height`, `width` and the `threshold`.
 * @returns How many pixels are over the threshold.
 */
export function drawHeat(
  canvas: HTMLCanvasElement,
  scores: Float32Array,
  shape: { height: number; width: number; threshold: number },
): number {
  const { height, width, threshold } = shape;
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d")!;
  const image = context.createImageData(width, height);
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  const scale = Math.log1p(max) || 1;
  let count = 0;
  for (let p = 0; p < scores.length; p++) {
    const over = scores[p] > threshold;
    if (over) count++;
    const [r, g, b] = over ? [255, 0, 0] : ramp(Math.log1p(Math.max(0, scores[p])) / scale);
    image.data.set([r, g, b, 255], p * 4);
  }
  context.putImageData(image, 0, 0);
  return count;
}

/**
 * The indices of the `k` largest scores, largest first.
 *
 * @param scores The scores.
 * @param k How many.
 * @returns Pixel indices.
 */
export function topK(scores: Float32Array, k: number): number[] {
  const best: number[] = []; // kept sorted, largest first; k is small
  for (let p = 0; p < scores.length; p++) {
    if (best.length === k && !(scores[p] > scores[best[k - 1]])) continue;
    let i = best.length === k ? k - 1 : best.length;
    best[i] = p;
    while (i > 0 && scores[best[i - 1]] < scores[p]) {
      best[i] = best[i - 1];
      best[--i] = p;
    }
  }
  return best;
}

/**
 * The score at quantile `q` (0..1) of `scores` (a sorted sample of at most 65,536).
 *
 * @param scores The scores.
 * @param q The quantile.
 * @returns The score.
 */
export function quantile(scores: Float32Array, q: number): number {
  const step = Math.max(1, Math.floor(scores.length / 65536));
  const sample: number[] = [];
  for (let p = 0; p < scores.length; p += step) sample.push(scores[p]);
  sample.sort((a, b) => a - b);
  return sample[Math.min(sample.length - 1, Math.floor(q * sample.length))] ?? 0;
}
