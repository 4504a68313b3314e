import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Dag } from "./dag.js";
import type { Observation, RunOutcome } from "./outcome.js";
import { reproducerBoundary, reproducerFailsOnStart, withReproducerBoundary } from "./reproducer.js";
import type { BisectProblem, Strategy } from "./strategy.js";

const cannot: RunOutcome = { kind: "untestable", reason: "exit status 2", tail: "sh: ./repro: not found" };
const crash: RunOutcome = { kind: "crash", crash: { title: "KASAN: use-after-free in f", alt: [], type: "KASAN", frame: "f" } };
const ok: RunOutcome = { kind: "ok" };

function obs(commit: string, runs: RunOutcome[], remedies: string[] = []): Observation {
  return { commit, remedies, build: { kind: "ok", signature: "s" }, runs };
}

describe("reproducerFailsOnStart", () => {
  const cases: [string, Observation[], RunOutcome | undefined][] = [
    ["no runs yet", [obs("S", [])], undefined],
    ["every start run could not run", [obs("S", [cannot, cannot])], cannot],
    ["one crash among them", [obs("S", [cannot, crash])], undefined],
    ["one clean run among them", [obs("S", [ok, cannot])], undefined],
    ["only another commit fails", [obs("S", [crash]), obs("A", [cannot, cannot])], undefined],
    ["with a remedy the start is another observation", [obs("S", [crash]), obs("S", [cannot], ["disable:LOCKDEP"])], undefined],
  ];
  for (const [name, observations, want] of cases) {
    it(name, () => assert.deepEqual(reproducerFailsOnStart(observations, "S"), want));
  }
});

describe("reproducerBoundary and withReproducerBoundary", () => {
  // c0 … c9 on one line, c9 the start; the reproducer cannot run before c6, which crashes.
  const hashes = Array.from({ length: 10 }, (_, i) => `c${i}`);
  const graph = new Dag(hashes.map((hash, i) => ({ hash, parents: i === 0 ? [] : [`c${i - 1}`] })));
  const problem: BisectProblem = {
    kind: "cause",
    start: "c9",
    releases: [],
    graph,
    startRuns: 2,
    runsPerCommit: 2,
    parallelism: 1,
    sameCrash: (a, b) => a.title === b.title,
    seed: 1,
  };
  const at = (i: number, runs: RunOutcome[]): Observation => obs(`c${i}`, runs);
  const failedBuild: Observation = { commit: "c5", remedies: [], build: { kind: "failed", excerpt: "error" }, runs: [] };
  const cases: [string, Observation[], ReturnType<typeof reproducerBoundary>][] = [
    ["nothing below the start tested", [at(9, [crash, crash])], undefined],
    ["the edge is not known yet: test between", [at(9, [crash]), at(2, [cannot, cannot])], { kind: "test", commit: "c5" }],
    ["narrowing", [at(9, [crash]), at(6, [crash]), at(2, [cannot]), at(4, [cannot])], { kind: "test", commit: "c5" }],
    ["found", [at(9, [crash]), at(6, [crash]), at(5, [cannot, cannot])], { kind: "found", first: "c6", parent: "c5", reason: "exit status 2" }],
    ["a clean commit in between: an ordinary bisection", [at(9, [crash]), at(7, [ok, ok]), at(5, [cannot])], undefined],
    ["the parent ran once: not the shape", [at(9, [crash]), at(6, [crash]), at(5, [cannot, ok])], undefined],
    ["a build failure at the edge leaves it open", [at(9, [crash]), at(6, [crash]), failedBuild, at(4, [cannot])], undefined],
  ];
  for (const [name, observations, want] of cases) {
    it(name, () => assert.deepEqual(reproducerBoundary(problem, observations), want));
  }

  const givesUp: Strategy = {
    name: "inner",
    next: () => ({ kind: "done", result: { outcome: "inconclusive", candidates: ["c6", "c5"], confidence: 0.5 }, notes: [] }),
  };
  it("turns the inner strategy's inconclusive answer into the first commit where the reproducer runs", () => {
    const step = withReproducerBoundary(givesUp).next(problem, [at(9, [crash]), at(6, [crash]), at(5, [cannot, cannot])]);
    assert.equal(step.kind, "done");
    assert.ok(step.kind === "done");
    assert.deepEqual(step.result, { outcome: "culprit", culprit: "c6", parent: "c5", confidence: 1 });
    assert.match(JSON.stringify(step.notes), /older commits could not run the reproducer \(c5: exit status 2\)/);
  });
  it("tests toward the boundary while it is not known", () => {
    const step = withReproducerBoundary(givesUp).next(problem, [at(9, [crash]), at(3, [cannot])]);
    assert.deepEqual(step.kind === "test" ? step.tests : step, [{ commit: "c6", runs: 2, remedies: [] }]);
  });
  it("leaves an answer alone when the history has another shape", () => {
    const step = withReproducerBoundary(givesUp).next(problem, [at(9, [crash]), at(7, [ok, ok])]);
    assert.deepEqual(step, givesUp.next(problem, []));
  });
});
