import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { BisectEvent } from "./events.js";
import type { RunOutcome } from "../core/outcome.js";
import { abridged, LogView } from "./logview.js";

describe("log view", () => {
  const crash = { kind: "crash" as const, crash: { title: "possible deadlock in del_gendisk", alt: [], type: "LOCKDEP", frame: "del_gendisk" } };
  const run = (index: number, outcome: RunOutcome): BisectEvent => ({ type: "run-finished", at: 0, commit: "c", remedies: [], index, outcome, durationMs: 1, logFile: "" });
  const finished: BisectEvent = { type: "tests-finished", at: 0, commit: "c", remedies: [], runs: 2, durationMs: 2 };

  it("prints alike runs as one 'all runs' line, as syzbot does", () => {
    const view = new LogView();
    view.lines(run(0, crash));
    view.lines(run(1, crash));
    assert.deepEqual(view.lines(finished), ["all runs: crashed: possible deadlock in del_gendisk"]);
  });

  it("prints differing runs one per line, in run order", () => {
    const view = new LogView();
    view.lines(run(1, { kind: "ok" }));
    view.lines(run(0, crash));
    assert.deepEqual(view.lines(finished), ["run #0: crashed: possible deadlock in del_gendisk", "run #1: OK"]);
  });

  it("prints 'all runs' once per commit, not once per batch", () => {
    const view = new LogView();
    const batch = (from: number): string[] => {
      view.lines(run(from, crash));
      view.lines(run(from + 1, crash));
      return view.lines(finished);
    };
    assert.deepEqual(batch(0), ["all runs: crashed: possible deadlock in del_gendisk"]);
    assert.deepEqual(batch(2), []);
    view.lines(run(4, { kind: "ok" }));
    view.lines(run(5, { kind: "ok" }));
    assert.deepEqual(view.lines(finished), ["run #4: OK", "run #5: OK"], "a batch that differs from the earlier ones is shown run by run");
  });

  it("says why the reproducer could not run, with the end of its output once per commit", () => {
    const view = new LogView();
    const cannot: RunOutcome = { kind: "untestable", reason: "exit status 1", tail: "lua: t.lua:1: unknown attribute 'const'" };
    view.lines(run(0, cannot));
    view.lines(run(1, cannot));
    assert.deepEqual(view.lines(finished), ["all runs: reproducer could not run: exit status 1", "  lua: t.lua:1: unknown attribute 'const'"]);
    view.lines(run(2, cannot));
    view.lines(run(3, { kind: "ok" }));
    assert.deepEqual(view.lines(finished), ["run #2: reproducer could not run: exit status 1", "run #3: OK"]);
  });

  it("prints git's step line with singular and plural", () => {
    const view = new LogView();
    const step = (left: number, steps: number) =>
      view.lines({ type: "note", at: 0, note: { kind: "bisect-step", commit: "abc", revisionsLeft: left, stepsLeft: steps }, title: "block: fix" });
    assert.deepEqual(step(1, 1), ["Bisecting: 1 revision left to test after this (roughly 1 step)", "[abc] block: fix", ""]);
    assert.equal(step(8739, 13)[0], "Bisecting: 8739 revisions left to test after this (roughly 13 steps)");
  });

  it("abridges only long candidate lists", () => {
    const few = Array.from({ length: 30 }, (_, i) => `c${i}`);
    assert.deepEqual(abridged(few), few);
    const many = Array.from({ length: 332 }, (_, i) => `c${i}`);
    const short = abridged(many);
    assert.equal(short.length, 21);
    assert.equal(short[10], "… 312 more (all of them in result.json) …");
    assert.equal(short.at(-1), "c331");
  });
});
