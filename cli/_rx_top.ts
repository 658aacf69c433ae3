/**
 * The top-k anomaly table of `rx --top K`: the K highest scores with where they are, as CSV.
 *
 * @module
 */

import { formatCsv } from "../io/csv.ts";
import { formatFloat32 } from "../io/float32_text.ts";

/**
 * The indices of the `k` highest scores, highest first (ties by index, lower first; NaN scores
 * are never picked). A min-heap of `k` entries: one pass, `O(n log k)`.
 *
 * @param scores One score per pixel.
 * @param k How many.
 * @returns Up to `k` indices.
 */
export function topIndices(scores: ArrayLike<number>, k: number): number[] {
  // "a ranks below b": lower score, or same score and higher index.
  const below = (a: number, b: number) =>
    scores[a] < scores[b] || (scores[a] === scores[b] && a > b);
  const heap: number[] = [];
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && below(heap[l], heap[m])) m = l;
      if (r < heap.length && below(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let i = 0; i < scores.length && k > 0; i++) {
    if (Number.isNaN(scores[i])) continue;
    if (heap.length < k) {
      heap.push(i);
      for (let c = heap.length - 1; c > 0;) {
        const p = (c - 1) >> 1;
        if (!below(heap[c], heap[p])) break;
        [heap[c], heap[p]] = [heap[p], heap[c]];
        c = p;
      }
    } else if (below(heap[0], i)) {
      heap[0] = i;
      down(0);
    }
  }
  return heap.sort((a, b) => below(a, b) ? 1 : below(b, a) ? -1 : 0);
}

/**
 * The CSV table `x,y,sample,score` of the `k` highest scores. For an image (`pixelShape` of
 * `[H, W]`) `x` is the column, `y` the line and `sample` 0; for a stack (`[N, H, W]`) `sample` is
 * the image; for a pixel list (`[P]`) `x` is the pixel's index and `y` and `sample` are 0.
 * Scores print as their shortest float32 decimal.
 *
 * @param scores One float32 score per pixel, in order.
 * @param options `pixelShape` (as `CubeSource.pixelShape`) and `k`.
 * @returns The CSV text (CRLF line ends, a header line first).
 */
export function topCsv(
  scores: Float32Array,
  options: { pixelShape: readonly number[]; k: number },
): string {
  const shape = options.pixelShape;
  const width = shape.length >= 2 ? shape[shape.length - 1] : scores.length;
  const height = shape.length >= 2 ? shape[shape.length - 2] : 1;
  const rows = topIndices(scores, options.k).map((i) => [
    i % width,
    Math.floor(i / width) % height,
    Math.floor(i / (width * height)),
    formatFloat32(scores[i]),
  ]);
  return formatCsv(["x", "y", "sample", "score"], rows);
}
