// A job's stages from its events: how far it got, what it skipped.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { BisectEvent } from "../bisect/events.js";
import type { BisectResult } from "../bisect/result.js";
import { stagesOf, type StageState } from "./stages.js";

const crash = { title: "WARNING in f", alt: [], type: "WARNING", frame: "f" };
const problem = (good?: string): BisectEvent => ({
  type: "problem",
  at: 0,
  kind: "cause",
  start: "s",
  ...(good ? { good } : {}),
  releases: [{ tag: "v2", commit: "r2" }],
  graph: { tip: "s", exclude: [] },
});
const tests = (commit: string): BisectEvent => ({ type: "tests-started", at: 0, request: `r-${commit}`, commit, remedies: [], indices: [0] });
const target: BisectEvent = { type: "note", at: 0, note: { kind: "target", crash } };
const finished = (outcome: BisectResult["outcome"], confidence: number): BisectEvent => ({ type: "finished", at: 0, result: { outcome, confidence } as BisectResult });

// reproduce, find good, bisect, verify, done
const cases: [string, BisectEvent[], number, StageState[]][] = [
  ["queued: nothing yet", [], 0, ["current", "pending", "pending", "pending", "pending"]],
  ["testing the start commit", [problem(), tests("s")], 0, ["current", "pending", "pending", "pending", "pending"]],
  ["a release is tested for a good end", [problem(), tests("s"), target, tests("r2")], 0.1, ["done", "current", "pending", "pending", "pending"]],
  ["bisecting above the release", [problem(), tests("s"), target, tests("r2"), tests("m")], 0.4, ["done", "done", "current", "pending", "pending"]],
  ["a good commit given: no good end to find", [problem("g"), tests("s"), target, tests("m")], 0.4, ["done", "skipped", "current", "pending", "pending"]],
  ["confident: verifying", [problem("g"), tests("s"), target, tests("m"), tests("n")], 0.97, ["done", "skipped", "done", "current", "pending"]],
  ["a culprit found", [problem("g"), tests("s"), target, tests("m"), finished("culprit", 0.99)], 0, ["done", "skipped", "done", "done", "done"]],
  ["not reproduced: ended at once", [problem(), tests("s"), finished("no-culprit", 1)], 0, ["done", "skipped", "skipped", "skipped", "done"]],
  ["inconclusive: nothing verified", [problem("g"), tests("s"), target, tests("m"), finished("inconclusive", 0.6)], 0, ["done", "skipped", "done", "skipped", "done"]],
];

describe("stagesOf", () => {
  for (const [name, events, leading, want] of cases) {
    it(name, () => assert.deepEqual(stagesOf(events, leading).map((s) => s.state), want));
  }
});
