import assert from "node:assert/strict";
import { formatCsv, parseCsv } from "../io/csv.ts";
import { InvalidDataError } from "../core/errors.ts";
import { hasNumpy, inTempDir, python, throwsWith } from "./_io_helpers.ts";

const NASTY = [
  "plain",
  "comma, inside",
  'quote " inside',
  '"starts and ends"',
  "line\r\nbreak",
  "lf\nonly",
  "cr\ronly",
  "",
  " spaces ",
  "ünïcødé ✓",
  '""',
  ",",
];

Deno.test("formatCsv() then parseCsv() round-trips nasty fields", () => {
  const header = ["a", "b,c", 'd"e'];
  const rows = [];
  for (let i = 0; i < NASTY.length; i++) {
    rows.push([NASTY[i], NASTY[(i + 5) % NASTY.length], NASTY[(i + 7) % NASTY.length]]);
  }
  const text = formatCsv(header, rows);
  assert.deepEqual(parseCsv(text), [header, ...rows]);
});

Deno.test("formatCsv() follows RFC 4180 byte for byte", () => {
  const text = formatCsv(["x", "y"], [["a,b", 'say "hi"'], ["l\nf", null]]);
  assert.equal(text, 'x,y\r\n"a,b","say ""hi"""\r\n"l\nf",\r\n');
});

Deno.test("formatCsv() writes numbers that round-trip exactly", () => {
  const values = [
    0,
    -0,
    1,
    -1.5,
    0.1,
    1 / 3,
    Math.PI,
    1e-300,
    5e-324,
    1.7976931348623157e308,
    123456789012345680000,
    NaN,
    Infinity,
    -Infinity,
    2 ** 53 + 2,
  ];
  const text = formatCsv(["v"], values.map((v) => [v]));
  const back = parseCsv(text).slice(1).map((r) => Number(r[0]));
  for (let i = 0; i < values.length; i++) assert.ok(Object.is(back[i], values[i]), `${values[i]}`);
});

Deno.test("formatCsv() writes bigint, boolean, null and undefined", () => {
  const text = formatCsv(["a", "b", "c", "d"], [[12345678901234567890n, true, null, undefined]]);
  assert.equal(text, "a,b,c,d\r\n12345678901234567890,true,,\r\n");
});

Deno.test("formatCsv() quotes a lone empty field so the record is not a blank line", () => {
  const text = formatCsv(["only"], [[""], [null], ["x"]]);
  assert.equal(text, 'only\r\n""\r\n""\r\nx\r\n');
  assert.deepEqual(parseCsv(text), [["only"], [""], [""], ["x"]]);
});

Deno.test("formatCsv() rejects a row of the wrong length and odd values", () => {
  throwsWith(
    () => formatCsv(["a", "b"], [[1]]),
    TypeError,
    "row 0 has 1 fields but the header has 2",
  );
  throwsWith(() => formatCsv([], []), TypeError, "non-empty");
  throwsWith(
    () => formatCsv(["a"], [[{} as unknown as string]]),
    TypeError,
    "row 0 holds a object",
  );
});

Deno.test("parseCsv() accepts LF, CR, a BOM, no final line end and empty fields", () => {
  assert.deepEqual(parseCsv("\uFEFFa,b\n1,\r2,3"), [["a", "b"], ["1", ""], ["2", "3"]]);
  assert.deepEqual(parseCsv("a,"), [["a", ""]]);
  assert.deepEqual(parseCsv(""), []);
  assert.deepEqual(parseCsv('x"y,z\r\n'), [['x"y', "z"]]);
});

Deno.test("parseCsv() rejects an unterminated quote naming its line", () => {
  const e = throwsWith(
    () => parseCsv('a,b\r\n1,2\r\n3,"open\r\nstill open'),
    InvalidDataError,
    "line 3 is never closed",
  ) as InvalidDataError;
  assert.equal(e.position?.line, 3);
  throwsWith(() => parseCsv('a\r\n"x\r\ny"z\r\n'), InvalidDataError, "CSV line 3: unexpected");
});

Deno.test({
  name: "formatCsv() output reads back identically through Python's csv module",
  ignore: !hasNumpy,
  fn: () =>
    inTempDir(async (dir) => {
      const header = ["text", "number"];
      const rows = NASTY.map((s, i) => [s, i === 3 ? -0 : i / 7]);
      await Deno.writeTextFile(`${dir}/t.csv`, formatCsv(header, rows));
      const out = await python(
        `import csv, json, sys
with open(sys.argv[1], newline="") as f:
    rows = list(csv.reader(f))
print(json.dumps([rows[0]] + [[r[0], repr(float(r[1]))] for r in rows[1:]]))`,
        `${dir}/t.csv`,
      );
      const parsed = JSON.parse(out) as string[][];
      assert.deepEqual(parsed[0], header);
      for (let i = 0; i < rows.length; i++) {
        assert.equal(parsed[i + 1][0], rows[i][0]);
        assert.ok(Object.is(Number(parsed[i + 1][1]), rows[i][1]), parsed[i + 1][1]);
      }
    }),
});

Deno.test({
  name: "parseCsv() reads what Python's csv module writes",
  ignore: !hasNumpy,
  fn: async () => {
    const out = await python(
      `import csv, io, json, sys
rows = json.loads(sys.argv[1])
buf = io.StringIO(newline="")
csv.writer(buf).writerows(rows)
sys.stdout.write(buf.getvalue())`,
      JSON.stringify([["h1", "h2"], ...NASTY.map((s) => [s, "1"])]),
    );
    assert.deepEqual(parseCsv(out), [["h1", "h2"], ...NASTY.map((s) => [s, "1"])]);
  },
});
