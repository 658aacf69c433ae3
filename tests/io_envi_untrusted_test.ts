/**
 * ENVI headers as untrusted input (issue 10): data files outside the header's folder, zero and
 * absurd extents, data files of another size than declared, huge and brace-heavy headers, the
 * memory budget. Every fixture is made here, small, in a temporary folder.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ENVI_HEADER_LIMIT, openEnvi, readEnvi, readEnviHeader } from "../io/envi.ts";
import { openCubeSource } from "../io/cube_source.ts";
import { InvalidDataError, OutOfMemoryError } from "../core/errors.ts";
import { inTempDir, rejectsWith } from "./_io_helpers.ts";
import { withBudget } from "./_untrusted_helpers.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

/** A 2 × 2 × 1 float32 header, with `extra` lines appended. */
function header(extra = "", dims = "samples = 2\nlines = 2\nbands = 1\n"): string {
  return `ENVI\n${dims}data type = 4\ninterleave = bsq\nbyte order = 0\n${extra}`;
}

const FOUR = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);

Deno.test("ENVI: a data file named by absolute path outside the folder is refused, allowed with allowExternal", async () => {
  await inTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/in`);
    await Deno.mkdir(`${dir}/secret`);
    await Deno.writeFile(`${dir}/secret/x.raw`, FOUR);
    await Deno.writeTextFile(`${dir}/in/a.hdr`, header(`data file = ${dir}/secret/x.raw\n`));
    for (const read of [readEnviHeader, openEnvi, readEnvi]) {
      const e = await rejectsWith(() => read(`${dir}/in/a.hdr`), InvalidDataError, "allowExternal");
      assert.match(e.message, /secret\/x\.raw'.*outside the header's folder/);
      assert.match(e.message, /--allow-external/);
    }
    await rejectsWith(
      () => openCubeSource(`${dir}/in/a.hdr`),
      InvalidDataError,
      "outside the header's folder",
    );
    const cube = await readEnvi(`${dir}/in/a.hdr`, { allowExternal: true });
    assert.deepEqual([...cube.data], [1, 2, 3, 4]);
    const src = await openCubeSource(`${dir}/in/a.hdr`, { allowExternal: true });
    assert.equal(src.rows, 4);
    src.close();
  });
});

Deno.test("ENVI: '../x' and 'sub/../../x' are refused; 'sub/x', './x' and an absolute path inside are read", async () => {
  await inTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/in/sub`, { recursive: true });
    await Deno.writeFile(`${dir}/x.raw`, FOUR);
    await Deno.writeFile(`${dir}/in/sub/x.raw`, FOUR);
    for (const ref of ["../x.raw", "sub/../../x.raw", "./../x.raw", "..\\x.raw"]) {
      await Deno.writeTextFile(`${dir}/in/a.hdr`, header(`data file = ${ref}\n`));
      await rejectsWith(() => readEnviHeader(`${dir}/in/a.hdr`), InvalidDataError, `'${ref}'`);
    }
    for (const ref of ["sub/x.raw", "./sub/x.raw", "sub/../sub/x.raw", `${dir}/in/sub/x.raw`]) {
      await Deno.writeTextFile(`${dir}/in/a.hdr`, header(`data file = ${ref}\n`));
      const cube = await readEnvi(`${dir}/in/a.hdr`);
      assert.equal(cube.data[3], 4, ref);
    }
  });
});

Deno.test("ENVI: a data file that is a link out of the header's folder is refused", async () => {
  await inTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/in`);
    await Deno.writeFile(`${dir}/outside.raw`, FOUR);
    await Deno.symlink(`${dir}/outside.raw`, `${dir}/in/a.img`);
    await Deno.writeTextFile(`${dir}/in/a.hdr`, header());
    const e = await rejectsWith(() => openEnvi(`${dir}/in/a.hdr`), InvalidDataError, "a link to");
    assert.match(e.message, /allowExternal/);
    assert.equal((await readEnvi(`${dir}/in/a.hdr`, { allowExternal: true })).data[0], 1);
  });
});

Deno.test("ENVI: zero and absurd extents are refused before any read, naming the field", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/a.img`, FOUR);
    const cases: [string, RegExp][] = [
      ["samples = 0\nlines = 1000000000000000\nbands = 5\n", /'samples' is 0/],
      ["samples = 2\nlines = 0\nbands = 1\n", /'lines' is 0/],
      ["samples = 2\nlines = 2\nbands = 0\n", /'bands' is 0; an ENVI image needs at least 1 band/],
      ["samples = 99999999999999999999\nlines = 2\nbands = 1\n", /'samples' = 9+ is too large/],
      ["samples = 2\nlines = 1000000000000000\nbands = 1\n", /truncated/],
    ];
    for (const [dims, message] of cases) {
      await Deno.writeTextFile(`${dir}/a.hdr`, header("", dims));
      await rejectsWith(() => openCubeSource(`${dir}/a.hdr`), InvalidDataError, message);
    }
  });
});

Deno.test("ENVI: a data file larger than the header declares is refused with advice", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/a.hdr`, header());
    await Deno.writeFile(`${dir}/a.img`, new Uint8Array(20));
    const e = await rejectsWith(() => openEnvi(`${dir}/a.hdr`), InvalidDataError, "larger than");
    assert.match(e.message, /expected 16 bytes, got 20 \(4 more\)/);
    assert.match(e.message, /correct the header/);
  });
});

Deno.test("ENVI: a 40,000-line brace value parses; a header over the limit is refused", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/a.img`, FOUR);
    const lines = Array.from({ length: 40000 }, (_, i) => `${i},`).join("\n");
    await Deno.writeTextFile(`${dir}/a.hdr`, header(`description = {\n${lines}\n 7}\nx = 1\n`));
    const h = await readEnviHeader(`${dir}/a.hdr`);
    assert(h.fields["description"].endsWith("39999,\n7}"));
    assert.equal(h.fields["x"], "1");
    await Deno.writeTextFile(
      `${dir}/a.hdr`,
      header(`description = {${"y".repeat(ENVI_HEADER_LIMIT)}}\n`),
    );
    await rejectsWith(() => readEnviHeader(`${dir}/a.hdr`), InvalidDataError, "1.00 MiB limit");
    // Keys that name Object.prototype members are plain fields.
    await Deno.writeTextFile(`${dir}/a.hdr`, header("__proto__ = 5\nconstructor = {a,\nb}\n"));
    const odd = await readEnviHeader(`${dir}/a.hdr`);
    assert.equal(odd.fields["__proto__"], "5");
    assert.equal(odd.fields["constructor"], "{a,\nb}");
    await Deno.writeTextFile(`${dir}/a.hdr`, header("wavelength = {1,\n2\n"));
    await rejectsWith(() => readEnviHeader(`${dir}/a.hdr`), InvalidDataError, "never closed");
  });
});

Deno.test("ENVI: reads over the memory budget fail before allocating, with advice", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/a.hdr`,
      header("", "samples = 64\nlines = 64\nbands = 4\n").replace("bsq", "bil"),
    );
    await Deno.writeFile(`${dir}/a.img`, new Uint8Array(64 * 64 * 4 * 4));
    await withBudget("16K", async () => {
      await rejectsWith(() => readEnvi(`${dir}/a.hdr`), OutOfMemoryError, "read fewer lines");
      using r = await openEnvi(`${dir}/a.hdr`);
      assert.equal((await r.readRows(0, 2)).length, 2 * 64 * 4);
    });
  });
});

Deno.test("ENVI: cli cov refuses an external data file, and reads it with --allow-external", async () => {
  await inTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/in`);
    await Deno.writeFile(`${dir}/x.raw`, FOUR);
    await Deno.writeTextFile(`${dir}/in/a.hdr`, header(`data file = ../x.raw\n`));
    const run = async (...extra: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          CLI,
          "cov",
          "--input",
          `${dir}/in/a.hdr`,
          "--out",
          `${dir}/c.json`,
          ...extra,
        ],
        env: { XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp" },
      }).output();
      return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
    };
    const refused = await run();
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /'\.\.\/x\.raw', outside the header's folder/);
    assert.doesNotMatch(refused.stderr, /Uncaught/);
    const allowed = await run("--allow-external", "--backend", "wasm");
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/c.json`)).count, 4);
  });
});
