/**
 * The viewer in a real headless Chromium: files are handed to its file input over the DevTools
 * protocol (as a user picking them), and the page's own report is read back: the anomaly count
 * at the default threshold (compared with RX run here in Deno on the same cube), the top anomaly
 * (a planted outlier pixel), a screenshot's size, and the messages for
 * bad input. Skipped, with the reason printed, where no Chromium is installed.
 */

import assert from "node:assert";
import { startServer } from "../cli/serve.ts";
import { type ChromiumSession, launchChromium } from "../harness/chromium.ts";
import { browserTest } from "./_browser.ts";
import { quantile } from "../web/_render.ts";
import { type Cube, RxDetector, synthCube, writeHdf5, writeNpy } from "../mod.ts";

/** RX anomalies over the viewer's default threshold (the 0.99 quantile of the scores), in Deno. */
async function anomalyCount(cube: Cube): Promise<number> {
  const scores = await (await new RxDetector().fit(cube)).score(cube);
  const threshold = quantile(scores, 0.99); // the slider's default
  return scores.filter((s) => s > threshold).length;
}

/** Hands `paths` to the page's file input, as if the user had picked them. */
async function pick(browser: ChromiumSession, paths: string[]): Promise<void> {
  const { root } = await browser.send("DOM.getDocument") as { root: { nodeId: number } };
  const { nodeId } = await browser.send("DOM.querySelector", {
    nodeId: root.nodeId,
    selector: "#file",
  }) as { nodeId: number };
  // Clear first: picking the same list twice fires no change event.
  await browser.evaluate(`document.getElementById("file").value = ""`);
  await browser.send("DOM.setFileInputFiles", { nodeId, files: paths });
}

/** Waits until the page leaves the working state, and returns state and message. */
async function settled(browser: ChromiumSession): Promise<{ state: string; message: string }> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const now = await browser.evaluate<{ state: string; message: string; busy: boolean }>(
      `({ state: document.body.dataset.state, message: document.getElementById("message").textContent,
          busy: !document.getElementById("progress-row").hidden })`,
    );
    if (now.state !== "working" && !now.busy) return now;
    if (Date.now() > deadline) throw new Error(`the viewer is still working after 180 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Width, height and byte count of a PNG. */
function pngSize(png: Uint8Array): { width: number; height: number; bytes: number } {
  assert.deepStrictEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], "not a PNG");
  const view = new DataView(png.buffer, png.byteOffset);
  return { width: view.getUint32(16), height: view.getUint32(20), bytes: png.length };
}

browserTest(
  "the viewer shows a dropped cube's RX map, anomaly count and top anomaly, and bad input",
  async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "prism-viewer-" });
    const server = await startServer({ port: 0 });
    const browser = await launchChromium(server.url, { width: 1280, height: 900 });
    try {
      // 61 × 47 pixels (primes), 17 bands, and one pixel, (29, 13), with an outlandish spectrum.
      const { cube } = synthCube({ height: 61, width: 47, bands: 17, seed: 3 });
      const planted = 13 * 47 + 29;
      for (let b = 0; b < 17; b++) cube.data[planted * 17 + b] += (b % 2 ? 1 : -1) * 400;
      await writeNpy(`${dir}/cube.npy`, { data: cube.data, shape: [61, 47, 17] });

      await t.step("a .npy cube", async () => {
        await pick(browser, [`${dir}/cube.npy`]);
        const end = await settled(browser);
        assert.strictEqual(end.state, "done", end.message);
        const page = await browser.evaluate<{ count: string; info: string; top: string }>(
          `({ count: document.getElementById("anomaly-count").textContent,
            info: document.getElementById("info").textContent,
            top: document.querySelector("#top-list li")?.textContent ?? "" })`,
        );
        const expected = await anomalyCount(cube);
        console.log(
          `page: ${page.info}; ${page.count} anomalies (Deno: ${expected}); top ${page.top}`,
        );
        assert.match(page.info, /61 × 47 pixels, 17 bands/);
        // The same kernels on the same data; a score at the threshold may round either way.
        assert(Math.abs(Number(page.count) - expected) <= 1, `${page.count} vs ${expected}`);
        const [x, y] = /\((\d+), (\d+)\)/.exec(page.top)!.slice(1).map(Number);
        assert.deepStrictEqual([x, y], [29, 13], "the top anomaly is not the planted pixel");
        const shot = await browser.send("Page.captureScreenshot", { format: "png" }) as {
          data: string;
        };
        const bytes = Uint8Array.from(atob(shot.data), (c) => c.charCodeAt(0));
        const keep = Deno.env.get("PRISM_VIEWER_SCREENSHOT"); // a path, to look at the page
        if (keep) await Deno.writeFile(keep, bytes);
        const png = pngSize(bytes);
        console.log(`screenshot: ${png.width} × ${png.height}, ${png.bytes} bytes`);
        assert.strictEqual(png.width, 1280);
        // A page with images and charts compresses far worse than an empty one (about 5 KB).
        assert(png.bytes > 50_000, `a ${png.bytes}-byte screenshot looks empty`);
      });

      await t.step("cancel stops the work and says so", async () => {
        // 400 × 400 × 100 float32 (61 MiB): seconds of work here, cancelled at once.
        const big = synthCube({ height: 400, width: 400, bands: 100, seed: 2 }).cube;
        await writeNpy(`${dir}/big.npy`, { data: big.data, shape: [400, 400, 100] });
        await pick(browser, [`${dir}/big.npy`]);
        // Cancel once the work has started (the change event runs after the pick returns).
        await browser.evaluate(`new Promise((resolve) => {
          const poll = () => document.body.dataset.state === "working"
            ? resolve(document.getElementById("cancel").click())
            : setTimeout(poll, 5);
          poll();
        })`);
        const end = await settled(browser);
        assert.deepStrictEqual(
          [end.state, end.message],
          ["idle", "cancelled: pick the files again to start over"],
        );
      });

      await t.step("not a cube", async () => {
        await Deno.writeTextFile(`${dir}/notes.txt`, "hello");
        await pick(browser, [`${dir}/notes.txt`]);
        const end = await settled(browser);
        assert.strictEqual(end.state, "error");
        assert.match(end.message, /notes\.txt is not a cube file.*drop a \.npy/);
      });

      await t.step("an ENVI header without its data file", async () => {
        await Deno.writeTextFile(
          `${dir}/lone.hdr`,
          "ENVI\nsamples = 2\nlines = 2\nbands = 3\ndata type = 4\ninterleave = bip\n",
        );
        await pick(browser, [`${dir}/lone.hdr`]);
        const end = await settled(browser);
        assert.strictEqual(end.state, "error");
        assert.match(end.message, /lone\.hdr came without its data file: drop both/);
      });

      await t.step("an HDF5 file with two cubes asks which", async () => {
        const small = synthCube({ height: 5, width: 7, bands: 3, seed: 1 }).cube;
        await writeHdf5(`${dir}/two.h5`, {
          datasets: [
            { path: "a/cube", data: small.data, shape: [5, 7, 3] },
            { path: "b/cube", data: small.data, shape: [5, 7, 3] },
          ],
        });
        await pick(browser, [`${dir}/two.h5`]);
        const end = await settled(browser);
        assert.match(end.message, /holds 2 datasets that could be cubes: pick one/);
        const options = await browser.evaluate<string[]>(
          `[...document.querySelectorAll("#dataset option")].map((o) => o.value)`,
        );
        assert.deepStrictEqual(options, ["/a/cube", "/b/cube"]);
        await browser.evaluate(`document.getElementById("dataset").value = "/b/cube";
        document.querySelector("#dataset-form button").click()`);
        const opened = await settled(browser);
        assert.strictEqual(opened.state, "done", opened.message);
      });
    } finally {
      await browser.close();
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

browserTest(
  "the viewer offers a band step for a cube over the tab's limit, and reads an ENVI BIL pair",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "prism-viewer-" });
    const server = await startServer({ port: 0 });
    // A 50 KiB limit: the 41 × 37 × 29 cube below takes 172 KiB as float32.
    const browser = await launchChromium(`${server.url}?limit-mb=0.05`);
    try {
      const [height, width, bands] = [41, 37, 29];
      const { cube } = synthCube({ height, width, bands, seed: 9 });
      // BIL int16: each line holds band 0's samples, then band 1's, ...
      const raw = new Int16Array(height * width * bands);
      const values = cube.data.map(Math.round);
      for (let y = 0; y < height; y++) {
        for (let b = 0; b < bands; b++) {
          for (let x = 0; x < width; x++) {
            raw[(y * bands + b) * width + x] = values[(y * width + x) * bands + b];
          }
        }
      }
      await Deno.writeTextFile(
        `${dir}/scene.hdr`,
        `ENVI\nsamples = ${width}\nlines = ${height}\nbands = ${bands}\ndata type = 2\n` +
          "interleave = bil\nbyte order = 0\n",
      );
      await Deno.writeFile(`${dir}/scene.img`, new Uint8Array(raw.buffer));
      await pick(browser, [`${dir}/scene.hdr`, `${dir}/scene.img`]);
      const asked = await settled(browser);
      assert.match(asked.message, /too large to load whole/);
      const offer = await browser.evaluate<{ why: string; step: string; lines: string }>(
        `({ why: document.getElementById("subset-why").textContent,
          step: document.getElementById("band-step").value,
          lines: document.getElementById("lines").value })`,
      );
      assert.match(offer.why, /41 × 37 × 29: 172 KiB as float32, over this tab's limit of 52 KiB/);
      // The smallest step that fits: ceil(29 / 4) = 8 bands of 41 × 37 float32 is 48,544 bytes.
      assert.deepStrictEqual([offer.step, offer.lines], ["4", "41"]);
      await browser.evaluate(`document.querySelector("#subset-form button").click()`);
      const end = await settled(browser);
      assert.strictEqual(end.state, "done", end.message);
      const page = await browser.evaluate<{ count: string; info: string }>(
        `({ count: document.getElementById("anomaly-count").textContent,
          info: document.getElementById("info").textContent })`,
      );
      assert.match(page.info, /41 × 37 pixels, 8 bands/);
      // The same subset, taken here from the values written, scored in Deno.
      const kept = new Float32Array(height * width * 8);
      for (let p = 0; p < height * width; p++) {
        for (let k = 0; k < 8; k++) kept[p * 8 + k] = values[p * bands + 4 * k];
      }
      const expected = await anomalyCount({ data: kept, height, width, bands: 8 });
      assert(Math.abs(Number(page.count) - expected) <= 1, `${page.count} vs ${expected}`);
    } finally {
      await browser.close();
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
