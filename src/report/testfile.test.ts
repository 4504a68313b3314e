import { test } from "node:test";
import assert from "node:assert/strict";
import { checkReportTest, isReportTest, readReportTest } from "./testfile.js";
import { parse } from "./index.js";

// A report test file whose header quotes titles that are oops headers themselves ("BUG:",
// "panic:"): read as a console log, the header line would be the first report.
const file = [
  "TITLE: kernel panic: Attempted to kill init!",
  "ALT: b",
  "ALT: a",
  "TYPE: DoS",
  "CORRUPTED: Y",
  "# a comment",
  "",
  "[    1.000000] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000009",
  "",
  "REPORT:",
  "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000009",
].join("\n");

test("a report test file: header fields, the log, the expected report", () => {
  assert.ok(isReportTest(file));
  const t = readReportTest(file);
  assert.equal(t.title, "kernel panic: Attempted to kill init!");
  assert.deepEqual(t.alt, ["a", "b"]);
  assert.equal(t.type, "DoS");
  assert.equal(t.corrupted, true);
  assert.equal(t.log, "[    1.000000] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000009\n");
  assert.equal(t.report, "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000009");
});

test("the header is not console output: whole file and log parse differently", () => {
  assert.equal(parse(file)?.title, "panic: Attempted to kill init!");
  assert.equal(parse(readReportTest(file).log)?.title, "kernel panic: Attempted to kill init!");
});

const notTests: [string, string][] = [
  ["a console log", "[    1.0] BUG: KASAN: use-after-free in f+0x1/0x2\n\nmore\n"],
  ["a log that starts with a blank line", "\n[    1.0] WARNING: CPU: 0 PID: 1 at a.c:1 f+0x1/0x2\n"],
  ["a header-like line followed by log lines", "TITLE: x\nBUG: y\n\n"],
  ["no blank line", "TITLE: x\n"],
];
for (const [name, text] of notTests) {
  test(`not a report test file: ${name}`, () => assert.equal(isReportTest(text), false));
}

test("checkReportTest: fields compared as the corpus test counts them", () => {
  const want = readReportTest(file);
  const byField = (checks: ReturnType<typeof checkReportTest>): Record<string, boolean> => Object.fromEntries(checks.map((c) => [c.field, c.ok]));
  const got = parse(want.log);
  assert.ok(got);
  // The file's alternative titles are made up: everything but them matches.
  assert.deepEqual(byField(checkReportTest(want, got)), { title: true, alt: false, type: true, corrupted: true });
  assert.deepEqual(byField(checkReportTest(want, { ...got, alt: ["b", "a"], corrupted: false })), { title: true, alt: true, type: true, corrupted: false });
  assert.deepEqual(byField(checkReportTest(want, null)), { title: false, alt: false, type: false, corrupted: false });
  const noCrash = readReportTest("\n[    1.0] all fine\n");
  assert.deepEqual(checkReportTest(noCrash, null).map((c) => [c.field, c.ok]), [["no-crash", true]]);
  assert.deepEqual(checkReportTest(noCrash, got).map((c) => [c.field, c.ok]), [["no-crash", false]]);
});
