import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { hungAlike } from "./hangs.js";
import type { CrashSummary, RunOutcome } from "./outcome.js";
import { sameTitle, times } from "./testworld.js";

const exit3: CrashSummary = { title: "exit status 3", alt: [], type: "EXIT", frame: "" };
const taskHung: CrashSummary = { title: "INFO: task hung in foo", alt: [], type: "HANG", frame: "foo" };
const silent: RunOutcome = { kind: "crash", crash: { title: "no output from test machine", alt: [], type: "HANG", frame: "" } };
const talking: RunOutcome = { kind: "crash", crash: { title: "reproducer hung", alt: [], type: "HANG", frame: "" } };
const target: RunOutcome = { kind: "crash", crash: exit3 };
const hungThenTarget: RunOutcome = { kind: "crash", crash: { title: "no output from test machine", alt: [], type: "HANG", frame: "" }, more: [exit3] };
const ok: RunOutcome = { kind: "ok" };

describe("hungAlike: a batch whose runs all hang the same way stops", () => {
  const cases: [string, RunOutcome[], CrashSummary, boolean][] = [
    ["five silent hangs (Lua's string.rep before 5cfc725a)", times(silent, 5), exit3, true],
    ["four hangs are not yet enough", times(silent, 4), exit3, false],
    ["hangs of two titles are not alike", [...times(silent, 4), talking], exit3, false],
    ["one clean run among the hangs", [...times(silent, 5), ok], exit3, false],
    ["one run showed the target", [target, ...times(silent, 5)], exit3, false],
    ["a hang whose log later shows the target is target evidence", [...times(silent, 4), hungThenTarget], exit3, false],
    ["the target is itself a hang: every hang may be it", times({ kind: "crash", crash: taskHung }, 6), taskHung, false],
    ["a crash that is not a hang", times({ kind: "crash", crash: { title: "KASAN: use-after-free in bar", alt: [], type: "KASAN", frame: "bar" } }, 6), exit3, false],
  ];
  for (const [name, runs, t, want] of cases) it(name, () => assert.equal(hungAlike(runs, t, sameTitle), want));
});
