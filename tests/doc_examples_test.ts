/**
 * Doc examples must be able to fail: `deno test --doc` runs them, and `console.assert` only
 * prints, so every example asserts with `import assert from "node:assert"`.
 */

import assert from "node:assert";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BANNED = ["console", "assert("].join("."); // spelled apart so this file does not match

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(join(ROOT, dir))) {
    const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory) {
      if (
        !["node_modules", "target", "tests"].includes(entry.name) && !entry.name.startsWith(".")
      ) {
        out.push(...sources(path));
      }
    } else if (/\.(ts|md)$/.test(entry.name)) out.push(path);
  }
  return out;
}

Deno.test("no doc example or source file uses console.assert", () => {
  const files = sources("");
  assert(files.includes("README.md") && files.includes("mod.ts"), "the scan missed the roots");
  const hits = files.filter((path) => Deno.readTextFileSync(join(ROOT, path)).includes(BANNED));
  assert.deepStrictEqual(hits, []);
});
