/**
 * The hyperspectral viewer (`deno run -A cli.ts serve`): a dropped cube is read in the tab
 * (`./_load.ts`), shown as a band or false-colour image, scored by RX (heat map, threshold, top
 * anomalies), its covariance and singular values charted, each step timed, and the backend that
 * ran named. Long work shows progress and can be cancelled. `body[data-state]` and
 * `#anomaly-count` are what `tests/browser_viewer_test.ts` reads.
 *
 * @module
 */

/// <reference lib="dom" />

import {
  type Backend,
  capabilities,
  covariance,
  type Cube,
  RxDetector,
  singularValues,
} from "../mod.ts";
import { formatSize, type LoadChoices, loadCube, suggestSubset, TAB_LIMIT_BYTES } from "./_load.ts";
import { drawHeat, drawImage, quantile, topK } from "./_render.ts";
import { covarianceSpec, renderChart, singularSpec, spectrumSpec } from "./_charts.ts";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const TOP_K = 20;
/** The tab's limit for a cube: `?limit-mb=` or the default. */
const LIMIT = Number(new URLSearchParams(location.search).get("limit-mb") ?? NaN) * 2 ** 20 ||
  TAB_LIMIT_BYTES;

/** The cube on show and what was computed from it. */
let shown:
  | { cube: Cube; scores: Float32Array; bandNumbers: number[]; wavelengths?: number[] }
  | undefined;
let files: File[] = [];
let choices: LoadChoices = { limit: LIMIT };
let running: AbortController | undefined;
const timings: [string, number][] = [];

function setState(state: "idle" | "working" | "done" | "error", message = ""): void {
  document.body.dataset.state = state;
  $("message").textContent = message;
}

/** Runs `step`, recording its time in the table. */
async function timed<T>(label: string, step: () => Promise<T> | T): Promise<T> {
  $("progress-label").textContent = label;
  const t0 = performance.now();
  const value = await step();
  timings.push([label, performance.now() - t0]);
  $("timings").replaceChildren(
    ...timings.map(([name, ms]) => {
      const row = document.createElement("tr");
      row.innerHTML = `<td>${name}</td><td>${ms.toFixed(1)} ms</td>`;
      return row;
    }),
  );
  return value;
}

function progress(fraction: number): void {
  ($("progress") as HTMLProgressElement).value = fraction;
}

async function analyse(): Promise<void> {
  running?.abort();
  const controller = new AbortController();
  running = controller;
  const signal = controller.signal;
  const backend = ($("backend-choice") as HTMLSelectElement).value as Backend;
  timings.length = 0;
  $("dataset-form").hidden = true;
  $("subset-form").hidden = true;
  $("progress-row").hidden = false;
  setState("working");
  try {
    const loaded = await timed(
      "read the file",
      () => loadCube(files, { choices, progress, signal }),
    );
    if (loaded.kind === "choose") {
      const select = $("dataset") as HTMLSelectElement;
      select.replaceChildren(
        ...loaded.datasets.map((d) => new Option(`${d.path} (${d.shape.join(" × ")})`, d.path)),
      );
      $("dataset-form").hidden = false;
      setState(
        "idle",
        `${loaded.name} holds ${loaded.datasets.length} datasets that could be cubes: pick one`,
      );
      return;
    }
    if (loaded.kind === "too-large") {
      const { height, width, bands } = loaded;
      const subset = suggestSubset(loaded, LIMIT);
      ($("first-line") as HTMLInputElement).value = String(subset.firstLine);
      ($("lines") as HTMLInputElement).value = String(subset.lines);
      ($("band-step") as HTMLInputElement).value = String(subset.bandStep);
      $("subset-why").textContent = `${loaded.name} is ${height} × ${width} × ${bands}: ` +
        `${formatSize(height * width * bands * 4)} as float32, over this tab's limit of ` +
        `${formatSize(LIMIT)}. Load a crop (a range of lines) or every k-th band:`;
      $("subset-form").hidden = false;
      setState("idle", `${loaded.name} is too large to load whole: choose a part below`);
      return;
    }
    const { cube } = loaded;
    $("info").textContent =
      `${loaded.name}: ${cube.height} × ${cube.width} pixels, ${cube.bands} bands` +
      (loaded.wavelengths ? ` (${loaded.wavelengths[0]} to ${loaded.wavelengths.at(-1)})` : "");
    const band = $("band") as HTMLInputElement;
    band.max = String(cube.bands - 1);
    band.value = String(Math.floor(cube.bands / 2));
    shown = {
      cube,
      scores: new Float32Array(0),
      bandNumbers: loaded.bandNumbers,
      wavelengths: loaded.wavelengths,
    };
    await timed("draw the image", () => drawBand());
    const pixels = { data: cube.data, rows: cube.height * cube.width, cols: cube.bands };
    const onProgress = ({ done, total }: { done: number; total?: number }) =>
      total && progress(done / total);
    const stats = await timed(
      "covariance",
      () => covariance(cube, { backend, signal, onProgress }),
    );
    const rx = await timed(
      "RX fit",
      () => new RxDetector().fit(cube, { backend, signal, onProgress }),
    );
    shown.scores = await timed("RX score", () => rx.score(cube, { backend, signal }));
    const threshold = $("threshold") as HTMLInputElement;
    threshold.value = "990";
    await timed("draw the RX map", () => drawRx());
    const values = await timed(
      "singular values",
      () => singularValues(pixels, { backend, signal }),
    );
    await timed("charts", async () => {
      await renderChart($("covariance-chart"), covarianceSpec(stats.covariance, cube.bands));
      await renderChart($("singular-chart"), singularSpec(values));
      await showSpectrum(topK(shown!.scores, 1)[0] ?? 0);
    });
    setState("done");
  } catch (e) {
    const error = e as Error;
    if (signal.aborted) setState("idle", "cancelled: pick the files again to start over");
    else setState("error", `${error.name}: ${error.message}`);
  } finally {
    if (running === controller) running = undefined;
    $("progress-row").hidden = true;
  }
}

function drawBand(): void {
  if (shown === undefined) return;
  const { cube } = shown;
  const band = Number(($("band") as HTMLInputElement).value);
  const falseColour = ($("false-colour") as HTMLInputElement).checked && cube.bands >= 3;
  // False colour: bands at 80 %, 50 % and 20 % of the range as red, green and blue.
  const bands = falseColour ? [0.8, 0.5, 0.2].map((f) => Math.floor(f * (cube.bands - 1))) : [band];
  $("band-label").textContent = falseColour
    ? `bands ${bands.join(", ")}`
    : `band ${shown.bandNumbers[band]}`;
  drawImage($("image") as HTMLCanvasElement, cube, bands);
}

/** Redraws the heat map at the slider's threshold (a quantile of the scores) and the top list. */
function drawRx(): void {
  if (shown === undefined || shown.scores.length === 0) return;
  const { cube, scores } = shown;
  const q = Number(($("threshold") as HTMLInputElement).value) / 1000;
  const threshold = quantile(scores, q);
  const count = drawHeat($("rx-map") as HTMLCanvasElement, scores, {
    height: cube.height,
    width: cube.width,
    threshold,
  });
  $("threshold-label").textContent = `${threshold.toPrecision(4)} (quantile ${q.toFixed(3)})`;
  $("anomaly-count").textContent = String(count);
  $("top-list").replaceChildren(
    ...topK(scores, TOP_K).map((p) => {
      const item = document.createElement("li");
      item.textContent = `(${p % cube.width}, ${Math.floor(p / cube.width)})  ${
        scores[p].toPrecision(5)
      }`;
      item.onclick = () => void showSpectrum(p);
      return item;
    }),
  );
}

async function showSpectrum(pixel: number): Promise<void> {
  if (shown === undefined) return;
  const { cube } = shown;
  const values = cube.data.subarray(pixel * cube.bands, (pixel + 1) * cube.bands);
  $("spectrum-title").textContent =
    `spectrum of pixel (${pixel % cube.width}, ${Math.floor(pixel / cube.width)})` +
    (shown.scores.length ? `, RX ${shown.scores[pixel].toPrecision(5)}` : "");
  await renderChart($("spectrum-chart"), spectrumSpec(values, shown));
}

function pixelAt(canvas: HTMLCanvasElement, event: MouseEvent): number | undefined {
  if (shown === undefined) return undefined;
  const box = canvas.getBoundingClientRect();
  const x = Math.floor(((event.clientX - box.left) / box.width) * shown.cube.width);
  const y = Math.floor(((event.clientY - box.top) / box.height) * shown.cube.height);
  return x >= 0 && y >= 0 && x < shown.cube.width && y < shown.cube.height
    ? y * shown.cube.width + x
    : undefined;
}

function open(list: FileList | null | undefined): void {
  files = [...(list ?? [])];
  choices = { limit: LIMIT };
  void analyse();
}

async function showBackend(): Promise<void> {
  const caps = await capabilities();
  const gpu = caps.gpu.available
    ? `WebGPU: ${caps.gpu.adapter.description || caps.gpu.adapter.vendor || "an adapter"}` +
      (caps.gpu.adapter.isSoftware ? " (software)" : "")
    : `no WebGPU (${caps.gpu.reason})`;
  const cpu = `wasm SIMD on ${caps.wasm.workers} worker${caps.wasm.workers === 1 ? "" : "s"}` +
    (globalThis.crossOriginIsolated ? "" : " (not cross-origin isolated: one thread)");
  const auto =
    `auto runs covariance on ${caps.routes.covariance.backend}, RX on ${caps.routes.rx.backend}`;
  $("backend").textContent = `${cpu}; ${gpu}; ${auto}`;
}

$("file").addEventListener("change", (e) => open((e.target as HTMLInputElement).files));
const drop = $("drop");
drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  open(e.dataTransfer?.files);
});
$("cancel").addEventListener("click", () => running?.abort());
$("band").addEventListener("input", () => drawBand());
$("false-colour").addEventListener("change", () => drawBand());
$("threshold").addEventListener("input", () => drawRx());
for (const id of ["image", "rx-map"]) {
  const canvas = $(id) as HTMLCanvasElement;
  canvas.addEventListener("click", (e) => {
    const pixel = pixelAt(canvas, e);
    if (pixel !== undefined) void showSpectrum(pixel);
  });
}
$("dataset-form").addEventListener("submit", (e) => {
  e.preventDefault();
  choices = { ...choices, dataset: ($("dataset") as HTMLSelectElement).value };
  void analyse();
});
$("subset-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const n = (id: string) => Number(($(id) as HTMLInputElement).value);
  choices = {
    ...choices,
    subset: { firstLine: n("first-line"), lines: n("lines"), bandStep: n("band-step") },
  };
  void analyse();
});
showBackend().catch((e) => $("backend").textContent = `backend check failed: ${String(e)}`);
