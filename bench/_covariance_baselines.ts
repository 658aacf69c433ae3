/**
 * The covariance baselines of bench/covariance_bench.ts and bench/covariance_report.ts:
 * TensorFlow.js's WASM backend (its fastest variant here: 16,384-row chunks through
 * `tf.matMul(transpose(block - mean), block - mean)`), and numpy float32 through python3.
 * Bench-only: nothing in mod.ts's graph imports this.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";

let ready: Promise<void> | undefined;

/** Starts tfjs's WASM backend (its .wasm is read from the npm package, offline). */
export function tfjsReady(): Promise<void> {
  ready ??= tf.setBackend("wasm").then(async (ok) => {
    if (!ok) throw new Error("tfjs could not start its wasm backend");
    await tf.ready();
  });
  return ready;
}

/**
 * tfjs covariance of a row-major float32 matrix, streamed in 16,384-row chunks: each chunk is a
 * tensor made from a view of the array (slicing one big tensor instead costs ~10× more), a first
 * pass sums the columns for the mean, a second adds `matMul(transpose(block - mean), block -
 * mean)`. This is tfjs's fastest variant here (~1.7 s on 1,638,400 × 50); `matMul(c, c, true)`
 * leaves XNNPACK and is slower.
 */
export function tfjsCovariance(data: Float32Array, rows: number, cols: number): Float32Array {
  const CHUNK = 16_384;
  const chunk = (start: number) => {
    const n = Math.min(CHUNK, rows - start);
    return tf.tensor2d(data.subarray(start * cols, (start + n) * cols), [n, cols]);
  };
  // Accumulators live across tidy() scopes, so each step disposes the one it replaces.
  const step = (acc: tf.Tensor, next: (acc: tf.Tensor) => tf.Tensor) => {
    const out = tf.tidy(() => next(acc));
    acc.dispose();
    return out;
  };
  let sum: tf.Tensor = tf.zeros([cols]);
  for (let start = 0; start < rows; start += CHUNK) {
    sum = step(sum, (acc) => tf.add(acc, tf.sum(chunk(start), 0)));
  }
  const mean = tf.div(sum, rows);
  sum.dispose();
  let gram: tf.Tensor = tf.zeros([cols, cols]);
  for (let start = 0; start < rows; start += CHUNK) {
    gram = step(gram, (acc) => {
      const c = tf.sub(chunk(start), mean) as tf.Tensor2D;
      return tf.add(acc, tf.matMul(tf.transpose(c), c));
    });
  }
  const result = tf.tidy(() => tf.div(gram, rows - 1).dataSync() as Float32Array);
  gram.dispose();
  mean.dispose();
  return result;
}

/**
 * Times numpy's `Xc = X - X.mean(0); Xc.T @ Xc / (N-1)` in float32 on the `.npy` at `path`
 * (median of `runs` after one warm-up), or says why it could not.
 */
export function numpyCovarianceMs(path: string, runs: number): number | string {
  const script = [
    "import sys, time, numpy as np",
    "X = np.load(sys.argv[1])",
    "Xc = X - X.mean(0); C = Xc.T @ Xc / (X.shape[0] - 1)",
    "ts = []",
    `for _ in range(${runs}):`,
    "  t = time.perf_counter(); Xc = X - X.mean(0); C = Xc.T @ Xc / (X.shape[0] - 1)",
    "  ts.append(time.perf_counter() - t)",
    "print(1e3 * sorted(ts)[len(ts) // 2])",
  ].join("\n");
  try {
    const out = new Deno.Command("python3", { args: ["-c", script, path] }).outputSync();
    const text = new TextDecoder().decode(out.success ? out.stdout : out.stderr).trim();
    return out.success ? Number(text) : `numpy skipped: ${text.split("\n").at(-1)}`;
  } catch (e) {
    return `numpy skipped: python3 not runnable (${String(e)})`;
  }
}
