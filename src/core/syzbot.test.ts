import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Dag } from "./dag.js";
import type { CrashSummary, Observation, RunOutcome } from "./outcome.js";
import type { BisectProblem, Step } from "./strategy.js";
import { representativeCrashes, syzbotDecision, syzbotStrategy, syzbotStrategyOf, type RunCounts } from "./syzbot.js";
import { chain } from "./testworld.js";

const crash = (title: string, type: string): CrashSummary => ({ title, alt: [], type, frame: "" });
const target = crash("KASAN: use-after-free Read in foo", "KASAN-UAF");
const lost = crash("lost connection to test machine", "LOST_CONNECTION");

function counts(total: number, bad: number, good: number, infra = 0): RunCounts {
  return { total, bad, good, infra, reports: [] };
}

describe("syzbot's verdict on one commit", () => {
  // [name, counts, rules, flaky, verdict, aborts]
  const cases: [string, RunCounts, "2024" | "2021", boolean, string, boolean][] = [
    ["2024: two crashes of ten are bad", counts(10, 2, 8), "2024", false, "bad", false],
    ["2024: one crash of ten is not enough", counts(10, 1, 9), "2024", false, "skip", false],
    ["2024: twenty runs need three crashes", counts(20, 2, 18), "2024", false, "skip", false],
    ["2024: twenty runs, three crashes", counts(20, 3, 17), "2024", false, "bad", false],
    ["2024: (total − infra) / 6 divides as integers: 20 runs, 3 lost, 2 crashes", counts(20, 2, 15, 3), "2024", false, "bad", false],
    ["2024: all clean", counts(10, 0, 10), "2024", false, "good", false],
    ["2024: half the runs clean is good", counts(10, 0, 5), "2024", false, "good", false],
    ["2024: flaky needs three quarters, truncated: 7 of 10", counts(10, 0, 7, 3), "2024", true, "good", false],
    ["2024: flaky, 6 of 10 clean", counts(10, 0, 6), "2024", true, "skip", false],
    ["2024: crashes need half the runs usable", counts(10, 2, 2), "2024", false, "skip", false],
    ["2024: undecided with more infra errors than test errors aborts", counts(10, 1, 3, 4), "2024", false, "skip", true],
    ["2024: undecided with as many test errors goes on", counts(10, 0, 2, 4), "2024", false, "skip", false],
    ["2021: one crash is bad", counts(10, 1, 9), "2021", false, "bad", false],
    ["2021: one clean run is good", counts(10, 0, 4), "2021", false, "good", false],
    ["2021: more than two thirds unusable (7 of 10) is skip", counts(10, 0, 3), "2021", false, "skip", false],
    ["2021: 20 runs: 12 unusable is not more than 12", counts(20, 0, 8), "2021", false, "good", false],
    ["2021: nothing usable", counts(10, 0, 0, 10), "2021", false, "skip", false],
  ];
  for (const [name, c, rules, flaky, verdict, aborts] of cases) {
    it(name, () => assert.deepEqual(syzbotDecision(c, rules, flaky), { verdict, infraAbort: aborts }));
  }
});

describe("syzbot's representative crash types", () => {
  const cases: [string, CrashSummary[], string[]][] = [
    ["the commonest type, while it covers two thirds of the crashes", [...Array(5).fill(target), crash("WARNING in bar", "WARNING")], ["KASAN-UAF"]],
    ["further types until two thirds are covered", [target, target, crash("WARNING in bar", "WARNING")], ["KASAN-UAF", "WARNING"]],
    ["a lost connection only when it is the only type", [lost, lost, lost, target], ["KASAN-UAF"]],
    ["a lost connection alone", [lost, lost], ["LOST_CONNECTION"]],
    ["a hang needs half the crashes", [crash("INFO: task hung in x", "HANG"), target, target], ["KASAN-UAF"]],
  ];
  for (const [name, reports, types] of cases) it(name, () => assert.deepEqual(representativeCrashes(reports).types, types));
});


function problem(dag: Dag, overrides: Partial<BisectProblem> = {}): BisectProblem {
  return {
    kind: "cause",
    start: dag.hash(dag.size - 1),
    releases: [{ tag: "v1.0", commit: "c0" }],
    graph: dag,
    startRuns: 20,
    runsPerCommit: 10,
    parallelism: 1,
    sameCrash: (a, b) => a.title === b.title,
    seed: 1,
    ...overrides,
  };
}

/** Runs a strategy against a world given as a function (commit, run number) → outcome. */
function drive(p: BisectProblem, world: (commit: string, run: number) => RunOutcome, strategy = syzbotStrategy): { result: Step; asked: Map<string, number> } {
  const observations = new Map<string, Observation>();
  const asked = new Map<string, number>();
  for (let i = 0; i < 200; i++) {
    const step = strategy.next(p, [...observations.values()]);
    if (step.kind === "done") return { result: step, asked };
    for (const t of step.tests) {
      const o = observations.get(t.commit) ?? { commit: t.commit, remedies: [], build: { kind: "ok", signature: `s-${t.commit}` }, runs: [] };
      const have = o.runs.length;
      observations.set(t.commit, { ...o, runs: [...o.runs, ...Array.from({ length: t.runs }, (_, r) => world(t.commit, have + r))] });
      if (t.runs > 0) asked.set(t.commit, (asked.get(t.commit) ?? 0) + t.runs);
    }
  }
  throw new Error("did not finish");
}

const index = (hash: string): number => Number(hash.slice(1));

describe("syzbot's procedure", () => {
  it("names a deterministic culprit with confidence 1 and no dashboard doubt", () => {
    const { result } = drive(problem(chain(20)), (c) => (index(c) >= 13 ? { kind: "crash", crash: target } : { kind: "ok" }));
    assert.equal(result.kind === "done" && result.result.outcome === "culprit" && result.result.culprit, "c13");
    assert.ok(result.kind === "done" && !result.notes.some((n) => n.kind === "info"));
  });

  it("runs 20 times per commit once a bad verdict crashed in under half the runs", () => {
    // 4 of 10 crash on every buggy commit: the start's 20 runs flag it flaky.
    const { asked } = drive(problem(chain(40)), (c, run) => (index(c) >= 25 && run % 10 < 4 ? { kind: "crash", crash: target } : { kind: "ok" }));
    assert.equal(asked.get("c39"), 20);
    assert.equal(asked.get("c0"), 20);
    assert.ok([...asked.values()].every((n) => n === 20), JSON.stringify([...asked]));
  });

  it("ignores lost connections on other commits when the start commit crashed otherwise", () => {
    // Commits from 5 on lose the connection in 3 of 10 runs; the bug is at 15.
    const world = (c: string, run: number): RunOutcome => {
      if (index(c) >= 15 && run % 2 === 0) return { kind: "crash", crash: target };
      if (index(c) >= 5 && run % 10 < 3) return { kind: "crash", crash: lost };
      return { kind: "ok" };
    };
    const { result } = drive(problem(chain(20)), world);
    assert.equal(result.kind === "done" && result.result.outcome === "culprit" && result.result.culprit, "c15");
    const r2021 = drive(problem(chain(20)), world, syzbotStrategyOf({ name: "syzbot-2021", rules: "2021", releases: (r) => [...r] })).result;
    assert.notEqual(r2021.kind === "done" && r2021.result.outcome === "culprit" && r2021.result.culprit, "c15", "2021 counted them as crashes");
  });

  it("fix bisection skips revisions it cannot tell had the bug (an old-base branch) without testing them", () => {
    // c0 (start, crashes) … c9 fixed at c6; r0 ← r1 a branch based outside the range, merged at m.
    const nodes = [
      ...Array.from({ length: 6 }, (_, i) => ({ hash: `c${i}`, parents: i === 0 ? [] : [`c${i - 1}`] })),
      { hash: "r0", parents: [] },
      { hash: "r1", parents: ["r0"] },
      { hash: "c6", parents: ["c5", "r1"] },
      ...Array.from({ length: 3 }, (_, i) => ({ hash: `c${7 + i}`, parents: [`c${6 + i}`] })),
    ];
    const dag = new Dag(nodes);
    const crashes = (c: string): boolean => c.startsWith("c") && index(c) < 6;
    const { result, asked } = drive(problem(dag, { kind: "fix", start: "c0", good: "c9", releases: [] }), (c) => (crashes(c) ? { kind: "crash", crash: target } : { kind: "ok" }));
    // git bisect still offers r0 and r1; syzbot cannot tell whether they had the bug, skips them and ends inconclusive.
    assert.deepEqual(result.kind === "done" && result.result.outcome === "inconclusive" && [...result.result.candidates].sort(), ["c6", "r0", "r1"]);
    assert.ok(!asked.has("r0") && !asked.has("r1"), `tested ${[...asked.keys()]}`);
  });

  it("says why the dashboard would not report a merge culprit", () => {
    const dag = new Dag([
      { hash: "c0", parents: [] },
      { hash: "c1", parents: ["c0"] },
      { hash: "b0", parents: ["c0"] },
      { hash: "c2", parents: ["c1", "b0"] },
      { hash: "c3", parents: ["c2"] },
    ]);
    const { result } = drive(problem(dag, { start: "c3" }), (c) => (c === "c2" || c === "c3" ? { kind: "crash", crash: target } : { kind: "ok" }));
    assert.equal(result.kind === "done" && result.result.outcome === "culprit" && result.result.culprit, "c2");
    assert.ok(result.kind === "done" && result.notes.some((n) => n.kind === "info" && n.text.includes("merge")));
  });
});
