import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { CrashSummary, RunOutcome } from "./outcome.js";
import { distinctCrashes, startCrashesNote } from "./startCrashes.js";
import { sameTitle } from "./testworld.js";

const crash = (title: string): CrashSummary => ({ title, alt: [], type: title.split(":")[0] as string, frame: "" });
const uaf = crash("KASAN: use-after-free Read in foo");
const lockdep = crash("LOCKDEP: possible deadlock in bar");
const ubsan = crash("UBSAN: misaligned-access in lstate.c");
const same = sameTitle;
const OK: RunOutcome = { kind: "ok" };
const run = (first: CrashSummary, ...more: CrashSummary[]): RunOutcome => ({ kind: "crash", crash: first, ...(more.length ? { more } : {}) });

describe("distinctCrashes: every report of the start commit's logs", () => {
  const cases: [string, RunOutcome[], string][] = [
    ["one crash in every run", [run(uaf), run(uaf), OK], "KASAN 2"],
    ["a later report of the same log counts", [run(ubsan, uaf), run(ubsan, uaf), run(ubsan)], "UBSAN 3, KASAN 2"],
    ["a report repeated in one log counts once for that run", [run(uaf, uaf, lockdep)], "KASAN 1, LOCKDEP 1"],
    ["runs that differ", [run(lockdep), run(uaf), run(uaf)], "LOCKDEP 1, KASAN 2"],
    ["boot failures and clean runs hold no reproducer crash", [OK, { kind: "boot-failed", crash: lockdep }], ""],
  ];
  for (const [name, runs, want] of cases) {
    it(name, () => assert.equal(distinctCrashes(runs, same).map((c) => `${c.crash.type} ${c.runs}`).join(", "), want));
  }
});

describe("startCrashesNote: the log says which crash is bisected", () => {
  it("names the target and the others when there are several", () => {
    const note = startCrashesNote([run(ubsan, uaf), run(ubsan, uaf), run(lockdep)], uaf, same);
    assert.deepEqual(note, {
      kind: "info",
      text: `the start commit's logs hold 3 distinct crashes: bisecting "${uaf.title}"; also seen: "${ubsan.title}", "${lockdep.title}"`,
    });
  });
  it("says nothing when there is one", () => assert.equal(startCrashesNote([run(uaf), OK], uaf, same), undefined));
});
