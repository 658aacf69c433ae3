/**
 * The stress suite (harness/stress*.ts, cli/stress.ts) on the tests' tiny plan: every section
 * runs and reports figures of the right shape, RX scores match a float64 reference, `--max-time`
 * stops with a rate and a projection, a stop signal keeps what is done, and bad input (unknown
 * scale, non-positive --max-time, an unwritable output) fails before any work with nothing
 * written.
 */

import assert from "node:assert/strict";
import { runStress } from "../harness/stress.ts";
import { STRESS_SCALES, stressPlan } from "../harness/stress_plan.ts";
import { normaliseMinMax, rxPipeline } from "../harness/stress_pipeline.ts";
import { stressMetrics, stressTables } from "../harness/stress_report.ts";
import { parseRecord } from "../harness/record.ts";
import { SCALES } from "../synth/datasets.ts";
import { synthCube } from "../synth/cube.ts";
import { covariance64 } from "./_helpers.ts";
import { runMain } from "./_cli_helpers.ts";
import { hasNumpy, inTempDir, listDir, python } from "./_io_helpers.ts";
import { writeNpy } from "../io/npy.ts";
import { rocAuc } from "../ops/roc_auc.ts";

const tiny = stressPlan("tiny");

Deno.test("stressPlan: §1's scales (xl is extra-large) and fixed-size sections", () => {
  assert.deepEqual(STRESS_SCALES, ["small", "medium", "large", "xl"]);
  for (const s of STRESS_SCALES) {
    const p = stressPlan(s);
    const { samples, height, width, bands } = SCALES[s === "xl" ? "extra-large" : s];
    assert.deepEqual(p.dataset, { samples, height, width, bands });
    assert.deepEqual(p.channelSweep, { side: 32, samples: 20, bands: [10, 50, 100, 200] });
    assert.deepEqual(p.spatialSweep, { bands: 10, samples: 10, sides: [64, 128, 256] });
  }
  assert.throws(() => stressPlan("huge" as never), /unknown stress scale "huge"/);
});

Deno.test("normaliseMinMax: [0, 1] against float64, sizes 0, 1, a prime; constant and negative data", () => {
  assert.equal(normaliseMinMax(new Float32Array(0)).length, 0);
  assert.deepEqual([...normaliseMinMax(new Float32Array([7]))], [0]);
  assert.deepEqual([...normaliseMinMax(new Float32Array(5).fill(-3))], [0, 0, 0, 0, 0]);
  const raw = Float32Array.from({ length: 13 }, (_, i) => Math.sin(i * 1.7) * 1e4 - 5e3);
  const lo = Math.min(...raw), hi = Math.max(...raw);
  const got = normaliseMinMax(raw.slice());
  raw.forEach((v, i) => assert.ok(Math.abs(got[i] - (v - lo) / (hi - lo)) < 1e-6, `${i}`));
  assert.equal(Math.min(...got), 0);
  assert.ok(Math.abs(Math.max(...got) - 1) < 1e-6);
});

Deno.test("rxPipeline scores match a float64 Mahalanobis reference (13×11×3 cube)", async () => {
  const { cube } = synthCube({ height: 13, width: 11, bands: 3, seed: 4 });
  const scores = await rxPipeline(cube, { backend: "wasm" });
  // The cube was normalised in place; the reference fits the same normalised values.
  const n = 13 * 11, c = 3;
  const mean = [0, 1, 2].map((b) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += cube.data[i * c + b];
    return s / n;
  });
  const upper = covariance64(cube.data, n, c);
  const S = [0, 1, 2].map((i) => [0, 1, 2].map((j) => upper[Math.min(i, j) * c + Math.max(i, j)]));
  for (let i = 0; i < c; i++) S[i][i] += 1e-6;
  const inv = invert3(S);
  for (let p = 0; p < n; p++) {
    const d = [0, 1, 2].map((b) => cube.data[p * c + b] - mean[b]);
    let want = 0;
    for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) want += d[i] * inv[i][j] * d[j];
    assert.ok(
      Math.abs(scores[p] - want) <= 1e-4 * Math.max(1, want),
      `pixel ${p}: ${scores[p]} vs ${want}`,
    );
  }
});

function invert3(m: number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}

Deno.test("runStress (tiny plan): every section, figures of the right shape", async () => {
  const r = await runStress(tiny, { backend: "wasm", seed: 2 });
  const s = r.stream;
  assert.equal(s.end, "complete");
  assert.equal(s.done, tiny.dataset.samples);
  assert.equal(s.pipeline!.samples.length, s.done);
  assert.ok(s.samplesPerSecond! > 0 && Math.abs(s.samplesPerSecond! * s.seconds - s.done) < 1e-9);
  assert.ok(s.rss.peakBytes >= s.rss.startBytes);
  assert.equal(s.sampleBytes, 12 * 12 * 4 * 4);
  for (const auc of [s.plainAuc!, s.robustAuc!]) {
    assert.ok(auc.min >= 0 && auc.max <= 1 && auc.min <= auc.mean && auc.mean <= auc.max);
  }
  assert.equal(s.plainAuc!.count, 3);
  assert.equal(s.robustAuc!.count, tiny.robustSamples);
  assert.deepEqual(r.latency!.map((l) => l.batch), [1, 2]);
  for (const l of r.latency!) {
    assert.ok(Math.abs(l.msPerSample * l.batch - l.timing.medianMs) < 1e-9);
  }
  assert.deepEqual(r.channelSweep!.points.map((p) => p.fitSize), [2, 4, 8]);
  assert.deepEqual(r.spatialSweep!.points.map((p) => p.fitSize), [64, 256]);
  assert.equal(r.channelSweep!.reference, 2);
  assert.equal(r.spatialSweep!.reference, 1);
  assert.ok(Number.isFinite(r.channelSweep!.fit!.exponent));
  const g = r.gradient!;
  assert.equal(g.parameters, 12742);
  assert.deepEqual(g.inputShape, [1, 4, 4, 6]);
  assert.ok(g.maxRelativeError < g.tolerance, `gradient error ${g.maxRelativeError}`);
  assert.deepEqual(r.skipped, []);
  const text = stressTables(r);
  for (
    const title of [
      "Throughput and memory",
      "Forward latency",
      "Channel sweep",
      "Spatial sweep",
      "Detection quality",
      "Gradient check",
    ]
  ) {
    assert.ok(text.includes(title), title);
  }
  const m = stressMetrics(r);
  assert.equal(m.stream_samples_per_s.value, s.samplesPerSecond);
  assert.equal(m.latency_batch2_over_batch1.absolute, false);
});

Deno.test("runStress: maxSeconds stops the stream after one sample with a rate and a projection", async () => {
  const plan = { ...tiny, dataset: { ...tiny.dataset, samples: 1000 } };
  const r = await runStress(plan, { backend: "wasm", maxSeconds: 1e-6 });
  assert.equal(r.stream.end, "max-time");
  assert.equal(r.stream.done, 1);
  assert.ok(Math.abs(r.stream.projectedSeconds! - 1000 / r.stream.samplesPerSecond!) < 1e-6);
  assert.match(
    stressTables(r),
    /stopped \(max-time\) after 1 of 1000; at .* samples\/s the whole scale would take/,
  );
  await assert.rejects(runStress(plan, { maxSeconds: 0 }), /maxSeconds must be a positive number/);
  await assert.rejects(
    runStress(plan, { maxSeconds: NaN }),
    /maxSeconds must be a positive number/,
  );
});

Deno.test("runStress: a stop signal keeps the samples done and skips the sections not begun", async () => {
  const stop = new AbortController();
  stop.abort();
  const r = await runStress(tiny, { backend: "wasm", signal: stop.signal });
  assert.equal(r.stream.end, "interrupted");
  assert.equal(r.stream.done, 1);
  assert.equal(r.latency, null);
  assert.equal(r.gradient, null);
  assert.equal(r.skipped.length, 4);
  assert.match(stressTables(r), /Skipped:\n {2}latency: interrupted before it began/);
});

Deno.test("cli stress --scale tiny writes the JSON record and the text report", async () => {
  await inTempDir(async (dir) => {
    const r = await runMain([
      "stress",
      "--scale",
      "tiny",
      "--backend",
      "wasm",
      "--out",
      `${dir}/s.json`,
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Channel sweep \(8×8, 2 samples\)/);
    assert.deepEqual(await listDir(dir), ["s.json", "s.txt"]);
    const record = parseRecord(JSON.parse(await Deno.readTextFile(`${dir}/s.json`)), "s.json");
    assert.equal(record.command, "stress --scale tiny");
    assert.equal(record.samples, 3);
    assert.deepEqual(record.model, { name: "small", parameters: 12742, sizeMb: 12742 * 4 / 1e6 });
    assert.equal((record.details as { stream: { done: number } }).stream.done, 3);
    assert.match(await Deno.readTextFile(`${dir}/s.txt`), /Gradient check[\s\S]*PASS/);
  });
});

Deno.test("cli stress: bad input fails before any work, exit non-zero, nothing written", async () => {
  await inTempDir(async (dir) => {
    const out = `${dir}/s.json`;
    const meduim = await runMain(["stress", "--scale", "meduim", "--out", out]);
    assert.equal(meduim.code, 2);
    assert.match(meduim.err, /unknown scale "meduim"; did you mean medium\?/);
    assert.match((await runMain(["stress", "--out", out])).err, /--scale is required/);
    for (const t of ["0", "-5", "soon"]) {
      const r = await runMain(["stress", "--scale", "small", "--max-time", t, "--out", out]);
      assert.equal(r.code, 2, t);
      assert.match(r.err, /--max-time must be a (positive )?number/);
    }
    const t0 = performance.now();
    const missing = await runMain(["stress", "--scale", "xl", "--out", `${dir}/no/s.json`]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /the folder .*\/no does not exist/);
    assert.ok(performance.now() - t0 < 10_000, "the output was checked before the work");
    assert.equal((await runMain(["stress", "--scale", "small", "--out", `${dir}/s.csv`])).code, 2);
    assert.deepEqual(await listDir(dir), []);
  });
});

Deno.test("cli stress: Ctrl-C ends the stream, skips the rest, writes what is done, exits 130", async () => {
  await inTempDir(async (dir) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../cli.ts", import.meta.url).pathname,
        "stress",
        "--scale",
        "medium",
        "--backend",
        "wasm",
        "--out",
        `${dir}/s.json`,
      ],
      env: { XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // The first progress line comes after a second of streaming: then interrupt.
    let err = "";
    const decoder = new TextDecoder();
    const reader = child.stderr.getReader();
    while (!/stress medium:.* \d+ \/ 100 samples/.test(err)) {
      const { value, done } = await reader.read();
      if (done) break;
      err += decoder.decode(value);
    }
    child.kill("SIGINT");
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      err += decoder.decode(r.value);
    }
    const [status, stdout] = await Promise.all([child.status, new Response(child.stdout).text()]);
    assert.equal(status.code, 130, err);
    assert.match(err, /SIGINT: finishing the current step and keeping what is done/);
    assert.match(stdout, /stopped \(interrupted\) after \d+ of 100/);
    const record = parseRecord(JSON.parse(await Deno.readTextFile(`${dir}/s.json`)), "s.json");
    const details = record.details as { stream: { done: number; end: string }; skipped: string[] };
    assert.equal(details.stream.end, "interrupted");
    assert.ok(details.stream.done >= 1 && details.stream.done < 100);
    assert.equal(record.samples, details.stream.done);
    assert.equal(details.skipped.length, 4);
    assert.deepEqual(await listDir(dir), ["s.json", "s.txt"]);
  });
});

Deno.test({
  name: "detection quality agrees with numpy: plain RX scores and AUC of a 29×31×7 sample",
  ignore: !hasNumpy,
  fn: async () => {
    const { cube, mask } = synthCube({ height: 29, width: 31, bands: 7, seed: 5 });
    await inTempDir(async (dir) => {
      // numpy reads the raw sample and runs the reference pipeline in float64 with pinv.
      await writeNpy(`${dir}/cube.npy`, { data: cube.data, shape: [29, 31, 7] });
      await writeNpy(`${dir}/mask.npy`, { data: mask, shape: [29, 31] });
      const scores = await rxPipeline(cube, { backend: "wasm" });
      const got = JSON.parse(
        await python(
          `
import json, sys
import numpy as np
x = np.load(sys.argv[1]).astype(np.float64); m = np.load(sys.argv[2]).ravel()
x = (x - x.min()) / (x.max() - x.min()); X = x.reshape(-1, x.shape[-1])
d = X - X.mean(0); S = np.cov(X, rowvar=False) + 1e-6 * np.eye(X.shape[1])
s = np.einsum("ij,jk,ik->i", d, np.linalg.pinv(S), d)
pos, neg = s[m == 1], np.sort(s[m == 0])
auc = (np.searchsorted(neg, pos, "left") + np.searchsorted(neg, pos, "right")).sum() / 2 / (len(pos) * len(neg))
print(json.dumps({"scores": s.tolist(), "auc": auc}))
`,
          `${dir}/cube.npy`,
          `${dir}/mask.npy`,
        ),
      );
      got.scores.forEach((want: number, i: number) =>
        assert.ok(
          Math.abs(scores[i] - want) <= 1e-3 * Math.max(1, want),
          `pixel ${i}: ${scores[i]} vs ${want}`,
        )
      );
      assert.ok(
        Math.abs(rocAuc(scores, mask) - got.auc) < 1e-3,
        `AUC ${rocAuc(scores, mask)} vs ${got.auc}`,
      );
    });
  },
});
