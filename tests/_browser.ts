/**
 * The one way the browser tests declare themselves: skipped, with the reason printed once, where
 * no Chromium is installed; without the resource and op sanitizers, since a test's server and
 * browser outlive single awaits.
 */

import { findChromium } from "../harness/chromium.ts";

const chromium = findChromium();
if (chromium === undefined) {
  console.log("browser tests skipped: no chromium on PATH (apt-get install chromium)");
}

/**
 * Declares a test that needs Chromium.
 *
 * @param name The test's name.
 * @param fn The test.
 */
export function browserTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  Deno.test({
    name,
    ignore: chromium === undefined,
    sanitizeResources: false,
    sanitizeOps: false,
  }, fn);
}
