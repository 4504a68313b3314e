import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Dag } from "./dag.js";
import type { CrashSummary, Observation, RunOutcome } from "./outcome.js";
import type { BisectProblem, Release } from "./strategy.js";
import { findGoodEnd, rangeAbove, searchedRange } from "./goodEnd.js";
import { bayesStrategy } from "./bayes.js";
import { chain, sameTitle, times } from "./testworld.js";

const target: CrashSummary = { title: "KASAN: use-after-free Read in foo", alt: [], type: "KASAN", frame: "foo" };
const other: CrashSummary = { title: "WARNING in bar", alt: [], type: "WARNING", frame: "bar" };
const same = sameTitle;
const T: RunOutcome = { kind: "crash", crash: target };
const OK: RunOutcome = { kind: "ok" };
const MASK: RunOutcome = { kind: "crash", crash: other };



function obs(commit: string, runs: RunOutcome[], build: Observation["build"] = { kind: "ok", signature: `sig-${commit}` }): Observation {
  return { commit, remedies: [], build, runs };
}

// Releases at c10 (v1.0), c30 (v1.1), c50 (v1.2), c70 (v1.3); start c99.
const RELEASES: Release[] = [
  { tag: "v1.3", commit: "c70" },
  { tag: "v1.2", commit: "c50" },
  { tag: "v1.1", commit: "c30" },
  { tag: "v1.0", commit: "c10" },
];

function problem(overrides: Partial<BisectProblem> = {}): BisectProblem {
  const graph = chain(100);
  return {
    kind: "cause",
    start: "c99",
    releases: RELEASES,
    graph,
    startRuns: 10,
    runsPerCommit: 10,
    parallelism: 1,
    sameCrash: same,
    seed: 1,
    target,
    ...overrides,
  };
}

const START = obs("c99", times(T, 10));
const FAILED: Observation["build"] = { kind: "failed", excerpt: "error: old compiler" };

describe("findGoodEnd: the newest clean release bounds the search, found by halving", () => {
  const cases: { name: string; observations: Observation[]; slots?: number; problem?: Partial<BisectProblem>; want: string }[] = [
    { name: "nothing tested yet: the release that halves the range", observations: [START], want: "test c50" },
    { name: "two slots: the releases at a third and two thirds of the range", observations: [START], slots: 2, want: "test c70 c30" },
    { name: "a release crashes: halve what is older", observations: [START, obs("c70", times(T, 10))], want: "test c30" },
    { name: "a release is clean: halve what is newer", observations: [START, obs("c30", times(OK, 10))], want: "test c70" },
    { name: "clean with no untested release newer: bisect above it", observations: [START, obs("c70", times(T, 10)), obs("c50", times(OK, 10))], want: "clean v1.2" },
    {
      name: "a crash older than a clean release wins: the clean batch may have been a dead one",
      observations: [START, obs("c50", times(OK, 10)), obs("c30", times(T, 10))],
      want: "test c10",
    },
    { name: "the newest release is clean: bisect above it", observations: [START, obs("c70", times(OK, 10))], want: "clean v1.3" },
    {
      name: "a release that does not build is skipped",
      observations: [START, obs("c70", times(T, 10)), obs("c50", [], FAILED)],
      want: "test c30",
    },
    {
      name: "a masked release is untestable: skipped",
      observations: [START, obs("c70", times(MASK, 10)), obs("c50", times(OK, 10))],
      want: "clean v1.2",
    },
    {
      name: "a half-tested release gets the rest of its batch",
      observations: [START, obs("c70", times(OK, 4))],
      want: "test c70",
    },
    {
      name: "a clean release that later shows the target is no longer the good end",
      observations: [START, obs("c70", [...times(OK, 10), T]), obs("c50", times(OK, 10))],
      want: "clean v1.2",
    },
    {
      name: "a commit older than a clean release showed the target (under other remedies): that release carries the bug",
      observations: [START, obs("c70", times(T, 10)), obs("c50", times(OK, 10)), { ...obs("c40", [OK, T]), remedies: ["disable:LOCKDEP"] }],
      want: "test c30",
    },
    {
      name: "a crash newer than a clean release says nothing about it",
      observations: [START, obs("c70", times(T, 10)), obs("c50", times(OK, 10)), obs("c60", [OK, T])],
      want: "clean v1.2",
    },
    {
      name: "every release crashes: search older history",
      observations: [START, ...["c70", "c50", "c30", "c10"].map((c) => obs(c, times(T, 10)))],
      want: "older",
    },
    {
      name: "no release builds: search older history",
      observations: [START, ...["c70", "c50", "c30", "c10"].map((c) => obs(c, [], FAILED))],
      want: "older",
    },
    { name: "a good commit given: no release phase", observations: [START], problem: { good: "c40" }, want: "given" },
    { name: "fix bisection: no release phase", observations: [START], problem: { kind: "fix" }, want: "given" },
    {
      name: "releases newer than the start commit are not ancestors: ignored",
      observations: [obs("c60", times(T, 10))],
      problem: { start: "c60" },
      slots: 4,
      want: "test c50 c30 c10",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = problem(c.problem);
      const end = findGoodEnd(p, c.observations, target, same, [], c.slots ?? 1);
      const got =
        end.kind === "test" ? `test ${end.tests.map((t) => t.commit).join(" ")}` : end.kind === "clean" ? `clean ${end.release.tag}` : end.kind;
      assert.equal(got, c.want);
    });
  }
});

describe("rangeAbove and searchedRange", () => {
  it("keeps the start commit's ancestors down to the bound, the bound included", () => {
    // c0 ← c1 ← c2 ← c4 (merge of c2 and c3); c3's parent is c0: a side branch forked below c2.
    const dag = new Dag([
      { hash: "c0", parents: [] },
      { hash: "c1", parents: ["c0"] },
      { hash: "c2", parents: ["c1"] },
      { hash: "c3", parents: ["c0"] },
      { hash: "c4", parents: ["c2", "c3"] },
      { hash: "c5", parents: ["c4"] },
    ]);
    const range = rangeAbove(dag, "c5", "c2");
    assert.deepEqual([...range.hashes].sort(), ["c2", "c3", "c4", "c5"]);
    assert.deepEqual(range.parents[range.index("c3")], [], "the side branch's root keeps no parent inside the range");
    assert.equal(rangeAbove(dag, "c5", "c2"), range, "memoised: the strategy's caches stay warm");
  });

  const cases: { name: string; problem: Partial<BisectProblem>; want: string }[] = [
    { name: "a good commit", problem: { good: "c40" }, want: "good c40" },
    { name: "the job's oldest bound", problem: { oldest: "c0" }, want: "oldest c0" },
    { name: "down to the repository's first commit", problem: { repositoryRoots: ["c0"] }, want: "roots c0" },
    { name: "a range given as is (the simulator's)", problem: {}, want: "range c0" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = searchedRange(problem(c.problem));
      assert.equal(`${r.bound} ${r.oldest.join(" ")}`, c.want);
    });
  }
});

describe("the Bayesian strategy with releases", () => {
  function run(p: BisectProblem, truth: (commit: number) => RunOutcome[], limit = 80): ReturnType<typeof bayesStrategy.next> {
    const observations: Observation[] = [];
    for (let i = 0; i < limit; i++) {
      const step = bayesStrategy.next(p, observations);
      if (step.kind === "done") return step;
      for (const t of step.tests) {
        const index = Number(t.commit.slice(1));
        const o = observations.find((x) => x.commit === t.commit);
        const runs = truth(index).slice(0, t.runs);
        if (o) o.runs.push(...runs);
        else observations.push(obs(t.commit, runs));
      }
    }
    throw new Error("no answer");
  }
  const culpritAt = (c: number) => (i: number) => times(i >= c ? T : OK, 20);

  it("bisects above the newest clean release and says so", () => {
    const step = run(problem(), culpritAt(80));
    assert.equal(step.kind, "done");
    if (step.kind !== "done") return;
    assert.equal(step.result.outcome, "culprit");
    assert.equal(step.result.outcome === "culprit" && step.result.culprit, "c80");
    assert.deepEqual(step.result.searched, { bound: "release", oldest: ["c70"], tag: "v1.3" });
  });

  it("goes below the oldest release when every release crashes", () => {
    const step = run(problem({ repositoryRoots: ["c0"] }), culpritAt(4));
    assert.equal(step.kind === "done" && step.result.outcome === "culprit" && step.result.culprit, "c4");
  });

  it("names the repository's first commit when the crash is already there", () => {
    const step = run(problem({ repositoryRoots: ["c0"] }), culpritAt(0));
    assert.equal(step.kind === "done" && step.result.outcome === "culprit" && step.result.culprit, "c0");
  });

  it("stops at the oldest bound: the crash predates it", () => {
    const dag = rangeAbove(chain(100), "c99", "c5");
    const step = run(problem({ graph: dag, oldest: "c5" }), culpritAt(0));
    assert.equal(step.kind, "done");
    if (step.kind !== "done") return;
    assert.equal(step.result.outcome, "no-culprit");
    assert.match(step.result.outcome === "no-culprit" ? step.result.detail : "", /oldest commit allowed \(c5\)/);
    assert.deepEqual(step.result.searched, { bound: "oldest", oldest: ["c5"] });
  });

  it("a single-commit history whose commit crashes: that commit", () => {
    const one = new Dag([{ hash: "c0", parents: [] }]);
    const step = run(problem({ graph: one, start: "c0", releases: [], repositoryRoots: ["c0"] }), culpritAt(0));
    assert.equal(step.kind === "done" && step.result.outcome === "culprit" && step.result.culprit, "c0");
  });
});
