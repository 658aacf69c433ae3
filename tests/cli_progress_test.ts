import assert from "node:assert/strict";
import { formatDuration, progressLine } from "../cli/_progress.ts";

/** A reporter on a fake clock, writing into an array. */
function fake(terminal: boolean) {
  let t = 0;
  const out: string[] = [];
  const report = progressLine("sweep", { terminal, now: () => t, write: (s) => out.push(s) });
  return { out, report, at: (ms: number) => void (t = ms) };
}

Deno.test("plain progress: nothing in the first second, then at most a line a second, with time left", () => {
  const { out, report, at } = fake(false);
  at(500);
  report(1, 10, "configs");
  assert.equal(out.length, 0);
  at(2000);
  report(4, 10, "configs");
  at(2500);
  report(5, 10, "configs"); // within the interval: dropped
  assert.deepEqual(out, ["sweep:  40.0% 4 / 10 configs, 2.00 configs/s, 3 s left\n"]);
  at(2600);
  report(10, 10, "configs"); // complete, but the interval is not over: plain lines wait
  at(4000);
  report(10, 10, "configs");
  assert.equal(out.at(-1), "sweep: 100.0% 10 / 10 configs, 2.50 configs/s, 4 s\n");
  report(10, 10, "configs"); // finished: silent from now on
  assert.equal(out.length, 2);
});

Deno.test("terminal progress: a bar redrawn in place, always completed with a newline", () => {
  const { out, report, at } = fake(true);
  at(1500);
  report(3, 12, "tiles");
  assert.equal(
    out[0],
    "\r\x1b[2Ksweep [######..................]  25.0% 3 / 12 tiles, 2.00 tiles/s, 5 s left",
  );
  at(1550);
  report(12, 12, "tiles"); // within 100 ms, but a drawn bar must end
  assert.match(out[1], /\[#{24}\] 100\.0% 12 \/ 12 tiles, .*\n$/);
});

Deno.test("progress without a total shows the count and the rate, no bar", () => {
  const { out, report, at } = fake(true);
  at(2000);
  report(500, undefined, "rows");
  assert.equal(out[0], "\r\x1b[2Ksweep 500 rows, 250 rows/s, 2 s");
});

Deno.test("formatDuration", () => {
  assert.deepEqual(
    [formatDuration(4.4), formatDuration(185), formatDuration(7620), formatDuration(Infinity)],
    ["4 s", "3 min 05 s", "2 h 07 min", "?"],
  );
});
