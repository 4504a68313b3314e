import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { bayesStrategy } from "../core/bayes.js";
import type { CrashSummary, Observation, RunOutcome } from "../core/outcome.js";
import type { BisectProblem, Strategy } from "../core/strategy.js";
import { chain, sameTitle, times } from "../core/testworld.js";
import { buildsAhead } from "./ahead.js";

const oops: CrashSummary = { title: "KASAN: use-after-free in release_record", alt: [], type: "KASAN", frame: "release_record" };
const T: RunOutcome = { kind: "crash", crash: oops };
const OK: RunOutcome = { kind: "ok" };

function problem(overrides: Partial<BisectProblem> = {}): BisectProblem {
  const graph = chain(64);
  return { kind: "cause", start: "c63", releases: [], graph, startRuns: 10, runsPerCommit: 10, parallelism: 1, sameCrash: sameTitle, seed: 1, good: "c0", ...overrides };
}

const seen = (commit: string, runs: RunOutcome[]): Observation => ({ commit, remedies: [], build: { kind: "ok", signature: `sig-${commit}` }, runs });
const commits = (wishes: { commit: string }[]): string[] => wishes.map((w) => w.commit).sort();

describe("builds ahead: what the strategy would ask next, for each answer in flight", () => {
  it("while the start's first runs go, the good commit (asked if the start crashes) and the first split (asked if the good one is clean)", () => {
    const wishes = buildsAhead(bayesStrategy, problem(), [], [{ commit: "c63", runs: 10, remedies: [] }]);
    assert.equal(wishes[0]?.commit, "c0");
    const step = bayesStrategy.next(problem(), [seen("c63", times(T, 10)), seen("c0", times(OK, 10))]);
    const split = step.kind === "test" ? step.tests[0]?.commit : undefined;
    assert.ok(split !== undefined && split !== "c0" && split !== "c63");
    assert.deepEqual(wishes.map((w) => w.commit), ["c0", split]);
  });

  it("while a midpoint's runs go, one commit on each side of it: the answer decides which is asked", () => {
    const observations = [seen("c63", times(T, 10)), seen("c0", times(OK, 4))];
    const first = bayesStrategy.next(problem(), observations);
    assert.equal(first.kind, "test");
    const midpoint = first.kind === "test" ? (first.tests[0]?.commit ?? "") : "";
    const at = (c: string): number => Number(c.slice(1));
    const wishes = commits(buildsAhead(bayesStrategy, problem(), observations, [{ commit: midpoint, runs: 10, remedies: [] }]));
    assert.equal(wishes.length, 2, `${midpoint}: ${wishes.join(" ")}`);
    assert.ok(wishes.some((c) => at(c) < at(midpoint)) && wishes.some((c) => at(c) > at(midpoint)), `${midpoint}: ${wishes.join(" ")}`);
    // Each wish is what the strategy asks once that answer is in.
    for (const answer of [T, OK]) {
      const step = bayesStrategy.next(problem(), [...observations, seen(midpoint, times(answer, 10))]);
      const asked = step.kind === "test" ? step.tests[0]?.commit : undefined;
      assert.ok(asked !== undefined && wishes.includes(asked), `${answer.kind}: asked ${asked}, wished ${wishes.join(" ")}`);
    }
  });

  it("never a commit built already or in flight, and nothing when nothing is in flight", () => {
    const observations = [seen("c63", times(T, 10))];
    // A strategy that always asks the same two commits.
    const fixed: Strategy = { name: "fixed", next: () => ({ kind: "test", tests: [{ commit: "c63", runs: 1, remedies: [] }, { commit: "c7", runs: 1, remedies: [] }], notes: [] }) };
    assert.deepEqual(commits(buildsAhead(fixed, problem(), observations, [{ commit: "c7", runs: 1, remedies: [] }])), []);
    assert.deepEqual(buildsAhead(bayesStrategy, problem(), observations, []), []);
  });
});
