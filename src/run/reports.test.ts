// A run records every report of its log: the first is the crash (the log's title, as syzbot
// titles it), the later ones are `more`, so a target printed after a non-fatal report is seen.

import { test } from "node:test";
import assert from "node:assert/strict";
import { parseAll } from "../report/index.js";
import type { ExecResult } from "./exec.js";
import { classifyProcessRun, logCrashes } from "./process.js";
import { reportTitled as report } from "./testkit.js";

const exitedWith = (code: number): ExecResult => ({ kind: "exited", code, signal: null, timedOut: false, aborted: false, durationMs: 5 });

// Lua built with full UBSan: a harmless misaligned access on every run, then the planted bug.
const ubsanThenAsan = `lstate.c:289:3: runtime error: member access within misaligned address 0x602000000011 for type 'struct lua_State', which requires 8 byte alignment
0x602000000011: note: pointer points here
=================================================================
==12345==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010 at pc 0x55d0c0 bp 0x7ffd1000 sp 0x7ffd0ff8
READ of size 8 at 0x602000000010 thread T0
    #0 0x55d0c0 in luaH_get /src/lua/ltable.c:600:10
    #1 0x55d1c1 in luaV_execute /src/lua/lvm.c:1200:5

SUMMARY: AddressSanitizer: heap-use-after-free /src/lua/ltable.c:600:10 in luaH_get
==12345==ABORTING
`;

test("a process run records a later ASan report after a UBSan warning", () => {
  const { outcome, report } = classifyProcessRun(exitedWith(1), ubsanThenAsan, parseAll);
  assert.equal(outcome.kind, "crash");
  if (outcome.kind !== "crash") return;
  assert.equal(outcome.crash.type, "UBSAN");
  assert.equal(report?.type, "UBSAN");
  assert.deepEqual(
    outcome.more?.map((c) => [c.title, c.type, c.frames, c.file]),
    [["AddressSanitizer: heap-use-after-free in luaH_get", "ASAN-HEAP-USE-AFTER-FREE", ["luaH_get", "luaV_execute"], "/src/lua/ltable.c"]],
  );
});

test("a single report has no more", () => {
  const log = ubsanThenAsan.slice(ubsanThenAsan.indexOf("====="));
  const { outcome } = classifyProcessRun(exitedWith(1), log, parseAll);
  assert.equal(outcome.kind === "crash" && outcome.crash.title, "AddressSanitizer: heap-use-after-free in luaH_get");
  assert.equal(outcome.kind === "crash" && outcome.more, undefined);
});

test("later reports are kept once per title, suppressed ones not at all", () => {
  const found = logCrashes([report("A"), report("B"), report("A"), report("B"), report("C")]);
  assert.deepEqual(found?.outcome.more?.map((c) => c.title), ["B", "C"]);
  assert.equal(logCrashes([report("oom", 0, true)]), null);
});
