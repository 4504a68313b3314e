import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { BisectEvent } from "./events.js";
import type { RunOutcome } from "../core/outcome.js";
import { abridged, LogView, rangeLine, resultLines } from "./logview.js";
import type { BisectResult } from "./result.js";

const KEY = "0".repeat(64);

describe("log view", () => {
  const crash = { kind: "crash" as const, crash: { title: "possible deadlock in del_gendisk", alt: [], type: "LOCKDEP", frame: "del_gendisk" } };
  const run = (index: number, outcome: RunOutcome): BisectEvent => ({ type: "run-finished", at: 0, request: "r", commit: "c", remedies: [], index, outcome, durationMs: 1, log: KEY });
  const finished: BisectEvent = { type: "tests-finished", at: 0, request: "r", commit: "c", remedies: [], runs: 2, durationMs: 2 };

  it("prints alike runs as one 'all runs' line, as syzbot does", () => {
    const view = new LogView();
    view.lines(run(0, crash));
    view.lines(run(1, crash));
    assert.deepEqual(view.lines(finished), ["all runs: crashed: possible deadlock in del_gendisk"]);
  });

  it("says which accelerator the VM runs used, once, and again when it changes", () => {
    const view = new LogView();
    const vm = (index: number, accel: "kvm" | "tcg"): BisectEvent => ({ ...run(index, { kind: "ok" }), accel } as BisectEvent);
    assert.deepEqual(view.lines(vm(0, "kvm")), ["test machines: QEMU with KVM"]);
    assert.deepEqual(view.lines(vm(1, "kvm")), []);
    assert.deepEqual(view.lines(vm(2, "tcg")), ["test machines: QEMU with TCG (no KVM)"]);
    assert.deepEqual(view.lines(run(3, { kind: "ok" })), [], "a process run says nothing about machines");
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

  it("prints a long inconclusive answer as its ranges, not as hundreds of hashes", () => {
    const hash = (i: number): string => i.toString(16).padStart(40, "0");
    const none = { target: 0, clean: 0, masked: 0, broken: 0, unusable: 0, untested: 0 };
    const result: BisectResult = {
      kind: "cause",
      outcome: "inconclusive",
      strategy: "culprit",
      start: hash(999),
      candidates: Array.from({ length: 300 }, (_, i) => ({ hash: hash(300 - i), title: `commit ${300 - i}` })),
      candidateRanges: [
        {
          newest: { hash: hash(300), title: "lstrlib: faster string.rep" },
          oldest: { hash: hash(1), title: "first" },
          commits: 300,
          status: { ...none, target: 1, masked: 8, untested: 291 },
          maskedBy: "reproducer hung",
        },
      ],
      noop: false,
      merge: false,
      release: false,
      confidence: 0.97,
      revisionsTested: 9,
      builds: 9,
      cachedBuilds: 0,
      runs: 90,
      time: { totalMs: 1000, buildMs: 500, testMs: 500 },
      recipients: { to: [], cc: [] },
      workDir: "/w",
    };
    const lines = resultLines(result);
    const range = `first bad commit in ${hash(1)}..${hash(300)} (300 commits, both ends included): 1 shows the target, 8 crash first with "reproducer hung" before the target can show, 291 were not tested`;
    assert.ok(lines.includes(range), lines.join("\n"));
    assert.ok(lines.includes("bisection is inconclusive, the first bad commit is in this range:"));
    assert.equal(lines.filter((l) => /^[0-9a-f]{40}( |$)/.test(l)).length, 0, "no bare list of hashes");
    const few = resultLines({ ...result, candidates: result.candidates.slice(0, 3) });
    assert.equal(few.filter((l) => /^[0-9a-f]{40} commit \d+$/.test(l)).length, 3, "a short list is still printed whole");
  });

  it("names both oldest ends of a range with two roots (a good commit released from a side line)", () => {
    const hash = (i: number): string => i.toString(16).padStart(40, "0");
    const range = {
      newest: { hash: hash(350), title: "newest" },
      oldest: { hash: hash(1), title: "above the good commit" },
      oldestEnds: [
        { hash: hash(1), title: "above the good commit" },
        { hash: hash(7), title: "where the first parents end" },
      ],
      commits: 350,
      status: { target: 1, clean: 0, masked: 14, broken: 0, unusable: 0, untested: 335 },
      maskedBy: "no output from test machine",
    };
    assert.equal(
      rangeLine(range, "bad"),
      `first bad commit in ${hash(1)}..${hash(350)} and ${hash(7)}..${hash(350)} (350 commits in all, every end included): 1 shows the target, 14 crash first with "no output from test machine" before the target can show, 335 were not tested`,
    );
    assert.equal(
      rangeLine({ ...range, maskedBelowNewest: true }, "bad"),
      `first bad commit in ${hash(1)}..${hash(350)} and ${hash(7)}..${hash(350)} (350 commits in all, every end included): 1 shows the target, 14 crash first with "no output from test machine" before the target can show, 335 were not tested; everything older than ${hash(350)} that was tested crashes first with "no output from test machine" before the target can show`,
    );
  });
});
