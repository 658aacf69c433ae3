import assert from "node:assert/strict";
import {
  liveTempFiles,
  onAtomicCommit,
  removeLiveTempFiles,
  withAtomicPath,
  writeFileAtomic,
} from "../io/atomic.ts";
import { AbortedError } from "../core/errors.ts";
import { inTempDir, listDir, rejectsWith } from "./_io_helpers.ts";

Deno.test("withAtomicPath() lists its temp file while writing, and not after", () =>
  inTempDir(async (dir) => {
    let seen: { tmp: string; target: string }[] = [];
    await withAtomicPath(`${dir}/a.txt`, async (tmp) => {
      await Deno.writeTextFile(tmp, "x");
      seen = liveTempFiles();
    });
    assert.equal(seen.length, 1);
    assert.equal(seen[0].target, `${dir}/a.txt`);
    assert.match(seen[0].tmp, /\/\.a\.txt\.[0-9a-f]{8}\.tmp$/);
    assert.deepEqual(liveTempFiles(), []);
  }));

Deno.test("withAtomicPath() aborted mid-write removes the temp file at once and rejects", () =>
  inTempDir(async (dir) => {
    const controller = new AbortController();
    let afterAbort: string[] = [];
    await rejectsWith(
      () =>
        withAtomicPath(`${dir}/big.bin`, async (tmp) => {
          await Deno.writeFile(tmp, new Uint8Array(1024));
          controller.abort("user pressed stop");
          // The writer has not noticed yet; its file is already gone.
          afterAbort = await listDir(dir);
          await Deno.writeFile(tmp, new Uint8Array(1024)); // a writer that goes on regardless
        }, { signal: controller.signal, operation: "writeRowsAtomic()" }),
      AbortedError,
      "writeRowsAtomic()",
    );
    assert.deepEqual(afterAbort, []);
    assert.deepEqual(await listDir(dir), [], "no temp file and no target");
    assert.deepEqual(liveTempFiles(), []);
  }));

Deno.test("withAtomicPath() with an aborted signal never starts the writer", () =>
  inTempDir(async (dir) => {
    const controller = new AbortController();
    controller.abort();
    let called = false;
    await rejectsWith(
      () => writeFileAtomic(`${dir}/a.bin`, new Uint8Array(3), { signal: controller.signal }),
      AbortedError,
      "writeFileAtomic()",
    );
    await rejectsWith(
      () =>
        withAtomicPath(`${dir}/b.bin`, () => {
          called = true;
          return Promise.resolve();
        }, { signal: controller.signal }),
      AbortedError,
      "withAtomicPath()",
    );
    assert.equal(called, false);
    assert.deepEqual(await listDir(dir), []);
  }));

Deno.test("withAtomicPath() keeps the old file when aborted after the write", () =>
  inTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/keep.txt`, "old");
    const controller = new AbortController();
    await rejectsWith(
      () =>
        withAtomicPath(`${dir}/keep.txt`, async (tmp) => {
          await Deno.writeTextFile(tmp, "new");
          controller.abort();
        }, { signal: controller.signal }),
      AbortedError,
      "withAtomicPath()",
    );
    assert.equal(await Deno.readTextFile(`${dir}/keep.txt`), "old");
    assert.deepEqual(await listDir(dir), ["keep.txt"]);
  }));

Deno.test("removeLiveTempFiles() removes the files of writes in progress (what a signal does)", () =>
  inTempDir(async (dir) => {
    let removed: { tmp: string; target: string }[] = [];
    let during: string[] = [];
    await rejectsWith(
      () =>
        withAtomicPath(`${dir}/x.h5`, async (tmp) => {
          await Deno.writeFile(tmp, new Uint8Array(10));
          removed = removeLiveTempFiles();
          during = await listDir(dir);
        }),
      Deno.errors.NotFound, // the rename finds no temp file: nothing reaches the target
    );
    assert.equal(removed.length, 1);
    assert.equal(removed[0].target, `${dir}/x.h5`);
    assert.deepEqual(during, []);
    assert.deepEqual(await listDir(dir), []);
    assert.deepEqual(removeLiveTempFiles(), []);
  }));

Deno.test("onAtomicCommit() reports finished outputs only", () =>
  inTempDir(async (dir) => {
    const kept: string[] = [];
    const stop = onAtomicCommit((p) => kept.push(p));
    try {
      await writeFileAtomic(`${dir}/a.json`, new Uint8Array([1]));
      await withAtomicPath(`${dir}/b.json`, () => Promise.reject(new Error("no"))).catch(() => {});
    } finally {
      stop();
    }
    await writeFileAtomic(`${dir}/c.json`, new Uint8Array([1]));
    assert.deepEqual(kept, [`${dir}/a.json`]);
  }));

Deno.test("an output path that is a folder: says so before writing, names no temp file", () =>
  inTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/out.h5`);
    let called = false;
    const error = await rejectsWith(
      () =>
        withAtomicPath(`${dir}/out.h5`, () => {
          called = true;
          return Promise.resolve();
        }),
      Deno.errors.IsADirectory,
      `the output path ${dir}/out.h5 is a folder; give a file name`,
    );
    assert.doesNotMatch((error as Error).message, /\.tmp/);
    assert.equal(called, false);
    await rejectsWith(
      () => writeFileAtomic(`${dir}/out.h5`, new Uint8Array(1)),
      Deno.errors.IsADirectory,
      "is a folder; give a file name",
    );
    assert.deepEqual(await listDir(dir), ["out.h5"]);
  }));
