import assert from "node:assert/strict";
import { withAtomicPath, writeFileAtomic } from "../io/atomic.ts";
import { inTempDir, rejectsWith } from "./_io_helpers.ts";

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test("writeFileAtomic() writes the bytes and leaves no temporary file", () =>
  inTempDir(async (dir) => {
    const bytes = new Uint8Array(257).map((_, i) => i * 7);
    await writeFileAtomic(`${dir}/a.bin`, bytes);
    assert.deepEqual(await Deno.readFile(`${dir}/a.bin`), bytes);
    await writeFileAtomic(`${dir}/a.bin`, new Uint8Array(0));
    assert.equal((await Deno.readFile(`${dir}/a.bin`)).length, 0);
    assert.deepEqual(await listDir(dir), ["a.bin"]);
  }));

Deno.test("withAtomicPath() leaves no file when the writer throws", () =>
  inTempDir(async (dir) => {
    await rejectsWith(
      () =>
        withAtomicPath(`${dir}/out.txt`, async (tmp) => {
          await Deno.writeTextFile(tmp, "half");
          throw new Error("writer failed");
        }),
      Error,
      "writer failed",
    );
    assert.deepEqual(await listDir(dir), []);
  }));

Deno.test("withAtomicPath() keeps the old content when the writer throws", () =>
  inTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/keep.txt`, "old");
    await rejectsWith(
      () =>
        withAtomicPath(`${dir}/keep.txt`, async (tmp) => {
          await Deno.writeTextFile(tmp, "new but broken");
          throw new RangeError("boom");
        }),
      RangeError,
      "boom",
    );
    assert.equal(await Deno.readTextFile(`${dir}/keep.txt`), "old");
    assert.deepEqual(await listDir(dir), ["keep.txt"]);
  }));

Deno.test("withAtomicPath() passes a temporary path in the target's folder", () =>
  inTempDir(async (dir) => {
    let seen = "";
    await withAtomicPath(`${dir}/x.csv`, async (tmp) => {
      seen = tmp;
      await Deno.writeTextFile(tmp, "1");
    });
    assert.ok(seen.startsWith(`${dir}/.x.csv.`) && seen.endsWith(".tmp"), seen);
    assert.equal(await Deno.readTextFile(`${dir}/x.csv`), "1");
  }));

Deno.test("writeFileAtomic() into a missing folder names the folder and what to do", () =>
  inTempDir(async (dir) => {
    await rejectsWith(
      () => writeFileAtomic(`${dir}/missing/a.bin`, new Uint8Array(1)),
      Deno.errors.NotFound,
      `the folder ${dir}/missing/ does not exist; create it first`,
    );
  }));

Deno.test({
  name: "writeFileAtomic() into a read-only folder names the path (ignored as root and on Windows)",
  // root writes anywhere, so the folder's mode cannot make this fail there.
  ignore: Deno.build.os === "windows" || Deno.uid() === 0,
  fn: () =>
    inTempDir(async (dir) => {
      await Deno.chmod(dir, 0o500);
      await rejectsWith(
        () => writeFileAtomic(`${dir}/a.bin`, new Uint8Array(1)),
        Deno.errors.PermissionDenied,
        `Cannot write ${dir}/a.bin`,
      );
    }),
});

Deno.test("writeFileAtomic() rejects bytes that are not a Uint8Array", async () => {
  await rejectsWith(
    () => writeFileAtomic("x.bin", "text" as unknown as Uint8Array),
    TypeError,
    "TextEncoder",
  );
});

Deno.test("withAtomicPath() lets a writer's own NotFound through unchanged", () =>
  inTempDir(async (dir) => {
    await rejectsWith(
      () => withAtomicPath(`${dir}/o.txt`, () => Deno.readTextFile(`${dir}/nope`).then(() => {})),
      Deno.errors.NotFound,
      "nope",
    );
    assert.deepEqual(await listDir(dir), []);
  }));
