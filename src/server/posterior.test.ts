// The posterior a job page draws, from the job's events: the strategy's own posterior, marks on
// the commits tested, and nothing before the target crash is known.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { BisectEvent } from "../bisect/events.js";
import { gatherEvidence } from "../core/bayes-evidence.js";
import { baseRoot, computePosterior } from "../core/bayes-posterior.js";
import type { CrashSummary, RunOutcome } from "../core/outcome.js";
import { chain, sameTitle, times } from "../core/testworld.js";
import { posteriorSeries, type CommitMark, type PosteriorSeries } from "./posterior.js";

const dag = chain(12);
const target: CrashSummary = { title: "KASAN: use-after-free in release_record", alt: [], type: "KASAN", frame: "release_record" };
const other: CrashSummary = { title: "WARNING in check_header", alt: [], type: "WARNING", frame: "check_header" };
const T: RunOutcome = { kind: "crash", crash: target };
const OK: RunOutcome = { kind: "ok" };
const MASK: RunOutcome = { kind: "crash", crash: other };
const grading = { sameCrash: sameTitle, runsPerCommit: 4 };

const problem: BisectEvent = { type: "problem", at: 0, kind: "cause", start: "c11", good: "c0", releases: [], graph: { tip: "c11", exclude: ["c0^@"] } };
const targetNote: BisectEvent = { type: "note", at: 0, note: { kind: "target", crash: target } };

/** A commit built and run: its build, then each run, as the executor records them. */
function tested(commit: string, runs: RunOutcome[], build: "ok" | "failed" = "ok"): BisectEvent[] {
  const request = `r-${commit}`;
  return [
    { type: "build-finished", at: 0, request, commit, remedies: [], build: build === "ok" ? { kind: "ok", signature: `sig-${commit}` } : { kind: "failed", excerpt: "error" }, cached: false, durationMs: 1, cacheKey: "0".repeat(64), signatureLabel: "build" },
    ...runs.map((outcome, index): BisectEvent => ({ type: "run-finished", at: 0, request, commit, remedies: [], index, outcome, durationMs: 1, log: "1".repeat(64) })),
  ];
}

const cases: { name: string; events: BisectEvent[]; marks?: [number, CommitMark][]; leading?: PosteriorSeries["leading"]; peak?: [number, number]; uniform?: true }[] = [
  { name: "nothing before the range is known", events: [] },
  { name: "nothing before the target crash is named", events: [problem, ...tested("c11", times(T, 4))] },
  {
    name: "only the start crashed: every commit above the good one equally likely",
    events: [problem, ...tested("c11", times(T, 4)), targetNote],
    marks: [[11, "bad"]],
    uniform: true,
  },
  {
    // Two clean batches at c5: one leaves a tenth of the mass to "c5's batch was dead" below it.
    name: "clean at c5, crashing at c8: the culprit is c6, c7 or c8",
    events: [problem, ...tested("c11", times(T, 4)), targetNote, ...tested("c5", times(OK, 8)), ...tested("c8", times(T, 4))],
    marks: [[5, "good"], [8, "bad"], [11, "bad"]],
    peak: [6, 8],
  },
  {
    name: "then clean at c7: c8 leads",
    events: [problem, ...tested("c11", times(T, 4)), targetNote, ...tested("c5", times(OK, 4)), ...tested("c8", times(T, 4)), ...tested("c7", times(OK, 8))],
    marks: [[5, "good"], [7, "good"], [8, "bad"], [11, "bad"]],
    leading: 8,
  },
  {
    name: "another crash at every run of c3 masks it; c2 does not build",
    events: [problem, ...tested("c11", times(T, 4)), targetNote, ...tested("c3", times(MASK, 4)), ...tested("c2", [], "failed")],
    marks: [[2, "skip"], [3, "masked"], [11, "bad"]],
  },
];

describe("posteriorSeries: the chart of a job page", () => {
  for (const c of cases) {
    it(c.name, () => {
      const series = posteriorSeries(dag, c.events, grading);
      if (!c.marks) return assert.equal(series, undefined);
      assert.ok(series);
      assert.deepEqual(series.commits, dag.hashes);
      assert.deepEqual(series.marks.map((m) => [m.index, m.mark]), c.marks);
      const total = series.mass.reduce((a, b) => a + b, 0) + series.everywhere + series.nowhere;
      assert.ok(Math.abs(total - 1) < 1e-4, `the masses add up to 1 (${total})`);
      assert.equal(series.mass[0], 0, "the good commit is not a candidate");
      if (c.uniform) for (const p of series.mass.slice(1)) assert.equal(p, series.mass[1]);
      if (c.leading !== undefined) assert.equal(series.leading, c.leading);
      if (c.peak) {
        const [from, to] = c.peak;
        const inside = series.mass.slice(from, to + 1).reduce((a, b) => a + b, 0);
        assert.ok(inside > 0.9, `P(c${from}..c${to}) = ${inside}`);
      }
    });
  }

  it("is the strategy's own posterior, not another one", () => {
    const events = cases[3]?.events as BisectEvent[];
    const series = posteriorSeries(dag, events, grading);
    const observations = [
      { commit: "c11", remedies: [], build: { kind: "ok" as const, signature: "sig-c11" }, runs: times(T, 4) },
      { commit: "c5", remedies: [], build: { kind: "ok" as const, signature: "sig-c5" }, runs: times(OK, 8) },
      { commit: "c8", remedies: [], build: { kind: "ok" as const, signature: "sig-c8" }, runs: times(T, 4) },
    ];
    const evidence = gatherEvidence(dag, observations, target, sameTitle, [], { batchSize: 4, trustSignatures: true });
    const post = computePosterior(dag, "cause", evidence, baseRoot(dag, "cause", 11, "c0"));
    assert.deepEqual(series?.mass, Array.from(post.mass.subarray(0, 12), (p) => Number(p.toPrecision(6))));
  });
});
