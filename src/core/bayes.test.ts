import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Dag, cachedAncestry } from "./dag.js";
import type { CrashSummary, Observation, RunOutcome } from "./outcome.js";
import type { BisectProblem } from "./strategy.js";
import { BATCH_FAILURE_GRID, batchFailurePrior, batchFailureRisk, gatherEvidence } from "./bayes-evidence.js";
import { classifyRun, countEvidence, type RunEvidence } from "./evidence.js";
import { computePosterior, credibleSet, topHypothesis } from "./bayes-posterior.js";
import { goodCheckRuns, presenceAt, runSizes, testInformation } from "./bayes-choose.js";
import { cleanBatchesNeeded, cleanRunsNeeded, verifyCulprit, type Verification } from "./bayes-stop.js";
import { bayesStrategy, remedyToApply } from "./bayes.js";
import { chain, sameTitle, times } from "./testworld.js";

const target: CrashSummary = { title: "general protection fault in blk_mq_run_hw_queues", alt: [], type: "DoS", frame: "" };
const deadlock: CrashSummary = { title: "possible deadlock in del_gendisk", alt: [], type: "LOCKDEP", frame: "" };
const same = sameTitle;

const T: RunOutcome = { kind: "crash", crash: target };
const OK: RunOutcome = { kind: "ok" };
const MASK: RunOutcome = { kind: "crash", crash: deadlock };


function obs(commit: string, runs: RunOutcome[], signature = `sig-${commit}`): Observation {
  return { commit, remedies: [], build: { kind: "ok", signature }, runs };
}


function problem(dag: Dag, overrides: Partial<BisectProblem> = {}): BisectProblem {
  return {
    kind: "cause",
    start: dag.hash(dag.size - 1),
    releases: [],
    graph: dag,
    startRuns: 20,
    runsPerCommit: 10,
    parallelism: 1,
    sameCrash: same,
    seed: 1,
    target,
    ...overrides,
  };
}

describe("classifyRun: what one run says about the target", () => {
  const cases: [string, RunOutcome, RunEvidence][] = [
    ["the target crash", T, "target"],
    ["a clean run", OK, "clean"],
    ["another crash hides the target", MASK, "masked"],
    ["boot failure", { kind: "boot-failed", crash: { title: "kernel panic", alt: [], type: "BOOT", frame: "" } }, "unusable"],
    ["the target while booting still counts", { kind: "boot-failed", crash: target }, "target"],
    ["infrastructure trouble", { kind: "infra", reason: "lost connection" }, "unusable"],
  ];
  for (const [name, run, want] of cases) it(name, () => assert.equal(classifyRun(run, target, same), want));
});

describe("posterior over the culprit", () => {
  const dag = chain(10);
  const cases: { name: string; observations: Observation[]; top: string; atLeast: number }[] = [
    {
      name: "bad start, clean c4 (reliable repro): culprit in c5..c9, c5 not yet favoured over the rest",
      observations: [obs("c9", times(T, 20)), obs("c4", times(OK, 10))],
      top: "c5",
      atLeast: 0.15,
    },
    {
      name: "c5 crashes, c4 clean: c5",
      observations: [obs("c9", times(T, 20)), obs("c4", times(OK, 10)), obs("c5", [...times(T, 9), ...times(OK, 1)])],
      top: "c5",
      atLeast: 0.95,
    },
    {
      name: "the oldest commit crashes too: older than the range",
      observations: [obs("c9", times(T, 20)), obs("c0", [...times(T, 5), ...times(OK, 5)])],
      top: "everywhere",
      atLeast: 0.95,
    },
    {
      name: "masked runs are censored, not bad: c5 all masked leaves c5..c9 open",
      observations: [obs("c9", times(T, 20)), obs("c4", times(OK, 10)), obs("c5", times(MASK, 10))],
      top: "c5",
      atLeast: 0.15,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const post = computePosterior(dag, "cause", gatherEvidence(dag, c.observations, target, same, []));
      const top = topHypothesis(post.mass);
      const name = top === post.everywhere ? "everywhere" : top === post.nowhere ? "nowhere" : dag.hash(top);
      assert.equal(name, c.top);
      assert.ok((post.mass[top] as number) >= c.atLeast, `mass ${post.mass[top]}`);
      const total = [...post.mass].reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(total - 1) < 1e-9);
    });
  }

  it("a masked commit does not move the posterior at all", () => {
    const base = [obs("c9", times(T, 20)), obs("c4", times(OK, 10))];
    const a = computePosterior(dag, "cause", gatherEvidence(dag, base, target, same, []));
    const b = computePosterior(dag, "cause", gatherEvidence(dag, [...base, obs("c7", times(MASK, 10))], target, same, []));
    for (let h = 0; h < a.mass.length; h++) assert.ok(Math.abs((a.mass[h] as number) - (b.mass[h] as number)) < 1e-12);
  });

  it("a commit with its parent's signature cannot be the culprit", () => {
    const o = [obs("c9", times(T, 20)), obs("c4", times(OK, 10)), obs("c6", times(T, 10)), obs("c5", [], "sig-c4")];
    const post = computePosterior(dag, "cause", gatherEvidence(dag, o, target, same, []));
    assert.ok((post.mass[5] as number) < 1e-6);
    assert.equal(topHypothesis(post.mass), 6);
  });

  it("a low reproduction chance keeps the posterior open after one clean batch", () => {
    const flaky = [obs("c9", [...times(T, 2), ...times(OK, 18)]), obs("c4", times(OK, 10))];
    const reliable = [obs("c9", times(T, 20)), obs("c4", times(OK, 10))];
    const massBelow = (o: Observation[]): number => {
      const post = computePosterior(dag, "cause", gatherEvidence(dag, o, target, same, []));
      return [1, 2, 3, 4].reduce((s, c) => s + (post.mass[c] as number), 0) + (post.mass[post.everywhere] as number);
    };
    assert.ok(massBelow(flaky) > 0.2, `flaky ${massBelow(flaky)}`);
    assert.ok(massBelow(reliable) < 0.01, `reliable ${massBelow(reliable)}`);
  });

  it("fix bisection: the culprit is where the crash stops", () => {
    const o = [obs("c0", times(T, 20)), obs("c9", times(OK, 10)), obs("c3", times(T, 10)), obs("c4", times(OK, 10))];
    const post = computePosterior(dag, "fix", gatherEvidence(dag, o, target, same, []));
    assert.equal(topHypothesis(post.mass), 4);
  });

  it("on a merge, the bug is present iff the culprit is an ancestor", () => {
    // m0 ← a1 ← m3(merge of a1, b2) with b2 a side branch off m0.
    const merge = new Dag([
      { hash: "m0", parents: [] },
      { hash: "a1", parents: ["m0"] },
      { hash: "b2", parents: ["m0"] },
      { hash: "m3", parents: ["a1", "b2"] },
    ]);
    const o = [obs("m3", times(T, 20)), obs("a1", times(OK, 10)), obs("m0", times(OK, 10)), obs("b2", times(T, 10))];
    const post = computePosterior(merge, "cause", gatherEvidence(merge, o, target, same, []));
    assert.equal(merge.hash(topHypothesis(post.mass)), "b2");
  });
});

describe("credibleSet: the shortest list holding the level", () => {
  const cases: [string, number[], number, number[]][] = [
    ["one dominant", [0.96, 0.02, 0.02], 0.95, [0]],
    ["two needed", [0.5, 0.46, 0.04], 0.95, [0, 1]],
    ["order by mass", [0.1, 0.2, 0.7], 0.85, [2, 1]],
  ];
  for (const [name, mass, level, want] of cases) it(name, () => assert.deepEqual(credibleSet(Float64Array.from(mass), level), want));
});

describe("stop rule", () => {
  const cases: [number, number][] = [
    [1, 1],
    [0.5, 5],
    [0.1, 29],
    [0.01, 80],
  ];
  for (const [chance, runs] of cases) it(`clean runs needed at chance ${chance}: ${runs}`, () => assert.equal(cleanRunsNeeded(chance), runs));

  const dag = chain(10);
  const verify = (o: Observation[], culprit: number, chance: number) =>
    verifyCulprit(dag, "cause", gatherEvidence(dag, o, target, same, []), culprit, chance, () => false);
  it("verified: target at the culprit, parent clean long enough", () => {
    assert.deepEqual(verify([obs("c5", times(T, 3)), obs("c4", times(OK, 10))], 5, 0.5), { kind: "verified" });
  });
  it("the culprit itself must have shown the target", () => {
    assert.deepEqual(verify([obs("c6", times(T, 3)), obs("c4", times(OK, 10))], 5, 0.5), { kind: "test", commits: [5], batches: [1] });
  });
  it("a culprit whose parents lie outside the range: a found good end is its clean side", () => {
    const branch = new Dag([{ hash: "r", parents: [] }, { hash: "x", parents: [] }, { hash: "s", parents: ["r", "x"] }]);
    const check = (o: Observation[], boundary?: number) =>
      verifyCulprit(branch, "cause", gatherEvidence(branch, o, target, same, []), branch.index("x"), 0.5, () => false, () => undefined, 1, 0, boundary);
    const o = [obs("s", times(T, 10)), obs("x", times(T, 3))];
    assert.deepEqual(check(o), { kind: "verified" });
    // Five clean runs needed at chance 0.5, in batches of one: five batches, which may run at once.
    assert.deepEqual(check(o, branch.index("r")), { kind: "test", commits: [branch.index("r")], batches: [5] });
    assert.deepEqual(check([...o, obs("r", times(OK, 10))], branch.index("r")), { kind: "verified" });
    assert.deepEqual(check([...o, obs("r", times(T, 1))], branch.index("r")), { kind: "clean-side-crashed", commits: [branch.index("r")] });
  });
  it("the parent needs more clean runs when the chance is low: as many batches as the runs it lacks fill", () => {
    // 29 clean runs rule out a 10% chance (miss ≤ 5%): 19 more, batches of one run.
    assert.deepEqual(verify([obs("c5", times(T, 3)), obs("c4", times(OK, 10))], 5, 0.1), { kind: "test", commits: [4], batches: [19] });
    const inBatches = (o: Observation[]) =>
      verifyCulprit(dag, "cause", gatherEvidence(dag, o, target, same, [], { batchSize: 10 }), 5, 0.1, () => false, () => undefined, 10);
    // In batches of ten the 19 runs it lacks fill two.
    assert.deepEqual(inBatches([obs("c5", times(T, 3)), obs("c4", times(OK, 10))]), { kind: "test", commits: [4], batches: [2] });
  });
  it("a clean side short of clean batches, not runs, lacks those batches", () => {
    // Chance 0.9 needs 2 clean runs, and batches of ten need two clean batches; more are asked when batches are believed to fail.
    const check = (o: Observation[], failing?: Float64Array) =>
      verifyCulprit(dag, "cause", gatherEvidence(dag, o, target, same, [], { batchSize: 10 }), 5, 0.9, () => false, () => undefined, 10, 0, undefined, failing);
    const o = [obs("c5", times(T, 10)), obs("c4", times(OK, 10))];
    assert.deepEqual(check(o), { kind: "test", commits: [4], batches: [1] });
    const lacking = (v: Verification): number => (v.kind === "test" ? (v.batches?.[0] ?? 0) : 0);
    const often = Float64Array.from(BATCH_FAILURE_GRID, (b) => (b === Math.max(...BATCH_FAILURE_GRID) ? 1 : 0));
    assert.equal(lacking(check(o, often)), cleanBatchesNeeded(often, 10) - 1);
    assert.ok(lacking(check(o, often)) > 1);
  });

  // Equal signatures share evidence; before a culprit rests on shared evidence, the commit itself is run.
  const verifyOwn = (o: Observation[], culprit: number) =>
    verifyCulprit(dag, "cause", gatherEvidence(dag, o, target, same, []), culprit, 0.5, () => false, (c) => {
      const own = o.find((x) => x.commit === `c${c}`);
      return own ? countEvidence(own.runs, target, same) : undefined;
    });
  it("a culprit known only through a same-signature child is run itself", () => {
    assert.deepEqual(verifyOwn([obs("c6", times(T, 3), "s"), obs("c5", [], "s"), obs("c4", times(OK, 10))], 5), {
      kind: "test",
      commits: [5],
      ownOnly: [5],
    });
  });
  it("a culprit whose own runs are clean while its same-signature child crashes: contradiction", () => {
    assert.deepEqual(verifyOwn([obs("c6", times(T, 3), "s"), obs("c5", times(OK, 10), "s"), obs("c4", times(OK, 10))], 5), {
      kind: "contradiction",
      commits: [5],
    });
  });
  it("a parent that crashes in its own runs while its same-signature parent is clean: contradiction", () => {
    assert.deepEqual(verifyOwn([obs("c5", times(T, 3)), obs("c4", times(T, 2), "p"), obs("c3", times(OK, 20), "p")], 5), {
      kind: "contradiction",
      commits: [4],
    });
  });
});

describe("batch failure: learnt jointly with the culprit", () => {
  const dag = chain(10);
  const risk = (o: Observation[], kind: "cause" | "fix" = "cause") =>
    batchFailureRisk(computePosterior(dag, kind, gatherEvidence(dag, o, target, same, [], { batchSize: 10 })).batchFailure, 1);
  const prior = risk([]);
  const dead = [...times(OK, 10)];
  const live = [...times(T, 5), ...times(OK, 5)];
  const cases: [string, Observation[], "cause" | "fix", "less" | "same" | "more"][] = [
    ["live batches at commits that showed the target: batches rarely fail", [5, 6, 7, 8, 9].map((c) => obs(`c${c}`, live)), "cause", "less"],
    ["clean batches at descendants of a crashing commit: dead batches", [obs("c5", live), obs("c6", dead), obs("c7", dead)], "cause", "more"],
    ["fix: the bug is at ancestors of a crashing commit, so their clean batches were dead", [obs("c5", live), obs("c4", dead), obs("c3", dead)], "fix", "more"],
    ["the start commit's dead batch counts", [obs("c9", [...live, ...dead])], "cause", "more"],
  ];
  for (const [name, o, kind, want] of cases) {
    it(name, () => {
      const r = risk(o, kind);
      const got = Math.abs(r - prior) < 1e-9 ? "same" : r < prior ? "less" : "more";
      assert.equal(got, want, `risk ${r} against the prior's ${prior}`);
    });
  }
  it("the prior's mean with no evidence", () => {
    assert.ok(Math.abs(prior - batchFailureRisk(batchFailurePrior(10), 1)) < 1e-12, `${prior}`);
    assert.equal(batchFailureRisk(computePosterior(dag, "cause", gatherEvidence(dag, [], target, same, [], { batchSize: 1 })).batchFailure, 1), 0);
  });
  it("a clean batch below the lowest crashing commit may be a dead one: it is not taken as proof that batches never fail", () => {
    // The carriers-only estimate ignored it (nothing below it crashed), yet it is where a dead batch
    // at a commit that carries the bug lands: the search walked up past it.
    const above = [6, 7, 8, 9].map((c) => obs(`c${c}`, live));
    assert.ok(risk([...above, obs("c5", dead)]) > risk(above));
    // Its own posterior: the culprit is c6 unless that batch was dead.
    const post = computePosterior(dag, "cause", gatherEvidence(dag, [...above, obs("c5", dead)], target, same, [], { batchSize: 10 }));
    const older = [0, 1, 2, 3, 4, 5].reduce((a, c) => a + (post.mass[c] as number), 0) + (post.mass[post.everywhere] as number);
    assert.ok(older > 0.02, `older hypotheses ${older}`);
  });
  it("the grid holds no failure and rates up to a third of batches", () => {
    assert.equal(BATCH_FAILURE_GRID[0], 0);
    assert.ok((BATCH_FAILURE_GRID.at(-1) as number) >= 0.3);
  });
});

describe("information per batch", () => {
  const dag = chain(3);
  it("an even split with a reliable reproducer is worth about one bit; a settled commit none", () => {
    const o = [obs("c2", times(T, 40))];
    const post = computePosterior(dag, "cause", gatherEvidence(dag, o, target, same, []));
    const atStart = testInformation(presenceAt(post, cachedAncestry(dag, 2)), 10);
    assert.ok(atStart < 0.01, `start ${atStart}`);
    const mid = testInformation(presenceAt(post, cachedAncestry(dag, 1)), 10);
    assert.ok(mid > 0.5 && mid <= 1, `mid ${mid}`);
    assert.ok(testInformation(presenceAt(post, cachedAncestry(dag, 1)), 1) < mid);
  });
  it("a commit whose many clean runs a chance of its own explains answers little when asked again", () => {
    const o = [obs("c2", times(T, 40))];
    const post = computePosterior(dag, "cause", gatherEvidence(dag, o, target, same, []));
    const presence = presenceAt(post, cachedAncestry(dag, 1));
    const fresh = testInformation(presence, 10, { spread: 0.25, target: 0, clean: 0 });
    const askedOften = testInformation(presence, 10, { spread: 0.25, target: 0, clean: 80 });
    assert.ok(askedOften < fresh / 4, `asked often ${askedOften}, fresh ${fresh}`);
    // Without spread the commit's runs are the range's chance: its earlier runs change nothing here.
    assert.equal(testInformation(presence, 10, { spread: 0, target: 0, clean: 80 }), testInformation(presence, 10));
  });
  it("a batch that may be dead answers less than one that cannot be", () => {
    const o = [obs("c2", times(T, 40))];
    const post = computePosterior(dag, "cause", gatherEvidence(dag, o, target, same, []));
    const presence = presenceAt(post, cachedAncestry(dag, 1));
    const dead = Float64Array.from(BATCH_FAILURE_GRID, (b) => (b === 0.35 ? 1 : 0));
    assert.ok(testInformation(presence, 10, { spread: 0, target: 0, clean: 0, batchFailure: dead }) < testInformation(presence, 10) * 0.8);
  });
});

describe("request sizes: whole waves of the VMs", () => {
  const cases: [string, number, number, number[]][] = [
    ["one wave holds every run: the job's size alone", 10, 10, [10]],
    ["more VMs than runs: the job's size alone", 10, 16, [10]],
    ["4 VMs, 10 runs: one wave, two, or all three", 10, 4, [4, 8, 10]],
    ["5 VMs, 10 runs: one wave or both", 10, 5, [5, 10]],
    ["one VM: every count up to the job's", 3, 1, [1, 2, 3]],
  ];
  for (const [name, runs, vms, want] of cases) it(name, () => assert.deepEqual(runSizes(runs, vms), want));
});

describe("request sizes the strategy asks for", () => {
  const wide = chain(64);
  const searchRuns = (start: RunOutcome[], overrides: Partial<BisectProblem>): number[] => {
    const step = bayesStrategy.next(problem(wide, overrides), [obs("c63", start)]);
    return step.kind === "test" ? step.tests.map((t) => t.runs) : [];
  };
  it("a reproducer that always fires is asked one wave of 4 VMs, not three", () => {
    assert.deepEqual(searchRuns(times(T, 20), { runsAtOnce: 4 }), [4]);
  });
  it("a reproducer that fires in one run of ten gets every run, where a build costs more than a wave", () => {
    const flaky = Array.from({ length: 30 }, (_, i) => (i % 10 === 0 ? T : OK));
    assert.deepEqual(searchRuns(flaky, { runsAtOnce: 4, cost: { build: 5, testBatch: 3 } }), [10]);
    // Builds as cheap as a batch: two waves tell nearly as much as three, for less.
    assert.deepEqual(searchRuns(flaky, { runsAtOnce: 4 }), [8]);
  });
  it("where the VMs take every run at once, the size is the job's", () => {
    assert.deepEqual(searchRuns(times(T, 20), {}), [10]);
    assert.deepEqual(searchRuns(times(T, 20), { runsAtOnce: 10 }), [10]);
  });
  it("a reproducer that always fires is asked one wave whatever a build costs", () => {
    assert.deepEqual(searchRuns(times(T, 20), { runsAtOnce: 4, cost: { build: 0.01, testBatch: 3 } }), [4]);
    assert.deepEqual(searchRuns(times(T, 20), { runsAtOnce: 4, cost: { build: 50, testBatch: 3 } }), [4]);
  });
});

describe("runs for the check of the user's good commit", () => {
  // [name, sizes, start hits, start tries (hits + clean), runs]
  const cases: [string, number[], number, number, number][] = [
    ["every run of ten crashed: one wave of 4 shows a bug there", [4, 8, 10], 10, 10, 4],
    ["eight of ten: two waves", [4, 8, 10], 8, 10, 8],
    ["three of ten: the whole batch, the most there is", [4, 8, 10], 3, 10, 10],
    ["one wave holds every run: the job's size", [10], 10, 10, 10],
    ["two of two, read low as one in two: two waves", [4, 8, 10], 2, 2, 8],
    ["no tries (every run masked): the whole batch", [4, 8, 10], 0, 0, 10],
  ];
  for (const [name, sizes, hits, tries, want] of cases) it(name, () => assert.equal(goodCheckRuns(sizes, hits, tries), want));

  const wide = chain(64);
  const goodRuns = (start: RunOutcome[], overrides: Partial<BisectProblem>): number[] => {
    const step = bayesStrategy.next(problem(wide, { good: "c0", ...overrides }), [obs("c63", start)]);
    return step.kind === "test" ? step.tests.filter((t) => t.commit === "c0").map((t) => t.runs) : [];
  };
  it("a start that crashed every time: the good commit is asked one wave, right after the start", () => {
    assert.deepEqual(goodRuns(times(T, 10), { runsAtOnce: 4 }), [4]);
  });
  it("a start that crashed three times in ten: the good commit gets the whole batch", () => {
    const flaky = Array.from({ length: 10 }, (_, i) => (i % 3 === 0 && i < 9 ? T : OK));
    assert.deepEqual(goodRuns(flaky, { runsAtOnce: 4 }), [10]);
  });
  it("where the VMs take every run at once, the check is the job's size", () => {
    assert.deepEqual(goodRuns(times(T, 10), {}), [10]);
  });
});

describe("remedies", () => {
  const group = (masked: number, types: [string, number][], hits = 0, clean = 0) => ({
    members: [1],
    counts: { target: hits, clean, masked, unusable: 0 },
    current: { target: hits, clean, masked, unusable: 0 },
    maskingTypes: new Map(types),
    batches: [],
  });
  const rules = [{ name: "disable:LOCKDEP", removesTypes: ["LOCKDEP"] }];
  const cases: [string, ReturnType<typeof group>[], CrashSummary, string[], string | undefined][] = [
    ["lockdep masks the target: disable it", [group(8, [["LOCKDEP", 8]], 1, 1)], target, [], "disable:LOCKDEP"],
    ["rare masking: leave it", [group(2, [["LOCKDEP", 2]], 4, 4)], target, [], undefined],
    ["the remedy would hide the target too", [group(8, [["LOCKDEP", 8]])], { ...target, type: "LOCKDEP" }, [], undefined],
    ["already applied", [group(8, [["LOCKDEP", 8]])], target, ["disable:LOCKDEP"], undefined],
    ["no rule for the masking type", [group(8, [["HANG", 8]])], target, [], undefined],
  ];
  for (const [name, groups, tgt, active, want] of cases) it(name, () => assert.equal(remedyToApply(rules, groups, tgt, active), want));
});

describe("the culprit strategy, step by step", () => {
  const dag = chain(8);
  it("first tests the start commit", () => {
    const step = bayesStrategy.next(problem(dag), []);
    assert.equal(step.kind, "test");
    if (step.kind === "test") assert.deepEqual(step.tests.map((t) => t.commit), ["c7"]);
  });
  it("with idle workers, also splits the range at once", () => {
    const step = bayesStrategy.next(problem(dag, { parallelism: 3 }), []);
    assert.equal(step.kind === "test" ? step.tests.length : 0, 3);
  });
  it("with idle workers and no target named, splits the range while the start commit names it", () => {
    const { target: _named, ...unnamed } = problem(dag, { parallelism: 3 });
    const step = bayesStrategy.next(unnamed, []);
    assert.equal(step.kind === "test" && step.tests.length, 3);
    assert.equal(step.kind === "test" && step.tests[0]?.commit, "c7");
  });
  it("with a good commit given, idle workers test it and split the range beside the start", () => {
    const { target: _named, ...unnamed } = problem(dag, { parallelism: 4, good: "c0" });
    const step = bayesStrategy.next(unnamed, []);
    const commits = step.kind === "test" ? step.tests.map((t) => t.commit) : [];
    assert.deepEqual(commits.slice(0, 2), ["c7", "c0"]);
    assert.equal(new Set(commits).size, 4);
  });
  it("a split answered before the start commit's first batch frees its worker for another split", () => {
    const wide = chain(64);
    const { target: _named, ...unnamed } = problem(wide, { parallelism: 3 });
    const opening = bayesStrategy.next(unnamed, []);
    const [startTest, answered, waiting] = opening.kind === "test" ? opening.tests : [];
    assert.ok(startTest && answered && waiting);
    const step = bayesStrategy.next(unnamed, [obs(answered.commit, times(OK, 10))], [startTest, waiting]);
    const asked = step.kind === "test" ? step.tests.map((t) => t.commit).filter((c) => c !== "c63") : [];
    assert.equal(asked.length, 1);
    assert.ok(![answered.commit, waiting.commit].includes(asked[0] as string));
  });
  it("once the start's first batch came back without a crash, the other workers wait for its retries", () => {
    const { target: _named, ...unnamed } = problem(dag, { parallelism: 3 });
    const step = bayesStrategy.next(unnamed, [obs("c7", times(OK, 20))]);
    assert.deepEqual(step.kind === "test" && step.tests.map((t) => t.commit), ["c7"]);
  });
  it("a parent that lacks several batches gets them on idle workers at once, counting those in flight", () => {
    // c4 leads at ≥ 95%; its parent has two clean batches of the several a batch failure rate asks for.
    const o = [obs("c7", times(T, 20)), obs("c3", times(OK, 20)), obs("c4", times(T, 10))];
    const step = bayesStrategy.next(problem(dag, { parallelism: 4 }), o);
    const parent = step.kind === "test" ? step.tests.filter((t) => t.commit === "c3") : [];
    assert.ok(parent.length >= 2, `asked ${parent.length} batches of c3`);
    assert.deepEqual(parent.map((t) => t.alongside === true), parent.map((_t, i) => i > 0));
    const [first] = parent;
    assert.ok(first);
    const next = bayesStrategy.next(problem(dag, { parallelism: 4 }), o, [first]);
    assert.equal(next.kind === "test" && next.tests.filter((t) => t.commit === "c3" && t.alongside).length, parent.length - 1);
    // At P=1 the same batches are asked one after the other: the one worker takes the first.
    const alone = bayesStrategy.next(problem(dag), o);
    assert.deepEqual(alone.kind === "test" && alone.tests[0], { commit: "c3", runs: 10, remedies: [] });
  });
  it("workers the release phase leaves free split the range above the oldest release still open", () => {
    const long = chain(16);
    const withRelease = (parallelism: number) => problem(long, { parallelism, releases: [{ tag: "v1", commit: "c4" }] });
    const o = [obs("c15", times(T, 20))];
    const step = bayesStrategy.next(withRelease(4), o);
    const commits = step.kind === "test" ? step.tests.map((t) => t.commit) : [];
    assert.equal(commits[0], "c4");
    assert.equal(new Set(commits).size, 4);
    for (const c of commits.slice(1)) assert.ok(Number(c.slice(1)) > 4 && c !== "c15", `${c} lies above the release, below the start`);
    // A split answered while the release is in flight: its worker gets another split, not the release again.
    const answered = commits[3] as string;
    const freed = bayesStrategy.next(withRelease(4), [...o, obs(answered, times(OK, 10))], step.kind === "test" ? step.tests.slice(0, 3) : []);
    const more = freed.kind === "test" ? freed.tests.map((t) => t.commit).filter((c) => c !== "c4") : [];
    assert.equal(more.length, 1);
    assert.ok(!commits.includes(more[0] as string));
    // One worker tests the release alone, as syzbot does.
    const alone = bayesStrategy.next(withRelease(1), o);
    assert.deepEqual(alone.kind === "test" && alone.tests.map((t) => t.commit), ["c4"]);
  });
  it("a test in flight is not asked for again: the free worker gets the question it leaves open", () => {
    const o = [obs("c7", times(T, 20))];
    const both = bayesStrategy.next(problem(dag, { parallelism: 2 }), o);
    const first = both.kind === "test" ? both.tests[0] : undefined;
    assert.ok(first && both.kind === "test" && both.tests.length === 2);
    const step = bayesStrategy.next(problem(dag, { parallelism: 2 }), o, [first]);
    assert.equal(step.kind === "test" && step.tests.length, 1);
    assert.notEqual(step.kind === "test" && step.tests[0]?.commit, first.commit);
  });
  it("no target crash at the start after three tries: not reproduced", () => {
    const step = bayesStrategy.next(problem(dag), [obs("c7", times(OK, 60))]);
    assert.equal(step.kind, "done");
    if (step.kind === "done") assert.equal(step.result.outcome === "no-culprit" && step.result.reason, "not-reproduced");
  });
  it("a parent clean in a single batch is run again: a whole batch can fail to show anything", () => {
    const o = [obs("c7", times(T, 20)), obs("c3", times(OK, 10)), obs("c4", times(T, 10))];
    const step = bayesStrategy.next(problem(dag), o);
    assert.deepEqual(step.kind === "test" && step.tests.map((t) => t.commit), ["c3"]);
  });
  // Six clean batches on the clean side: three live batches in all cannot rule out batches that
  // fail whole, half of them even (the prior's highest rate); five are not enough.
  it("names a verified culprit", () => {
    const clean = (batches: number) => [obs("c7", times(T, 20)), obs("c3", times(OK, 10 * batches)), obs("c4", times(T, 10))];
    const short = bayesStrategy.next(problem(dag), clean(5));
    assert.deepEqual(short.kind === "test" && short.tests.map((t) => t.commit), ["c3"]);
    const step = bayesStrategy.next(problem(dag), clean(6));
    assert.equal(step.kind, "done");
    if (step.kind === "done") assert.deepEqual(step.result.outcome === "culprit" && [step.result.culprit, step.result.parent], ["c4", "c3"]);
  });
  it("a long stretch that does not build: the one commit between it and a crashing commit is tested, not left in the list", () => {
    // c20…c54 fail to build, c56 crashed, c55 untested: the mass is flat over 37 commits, and the
    // quantiles and the four "leaders" (ties: the oldest) never reached c55. Untested, it stays in
    // the answer with c56, a list one longer than the stretch (build-broken-4, seed 6).
    const long = chain(80);
    const broken = Array.from({ length: 35 }, (_, i) => ({ commit: `c${20 + i}`, remedies: [], build: { kind: "failed" as const, excerpt: "" }, runs: [] }));
    const o = [obs("c79", times(T, 20)), obs("c19", times(OK, 60)), ...broken, obs("c56", times(T, 10))];
    const step = bayesStrategy.next(problem(long), o);
    assert.deepEqual(step.kind === "test" && step.tests.map((t) => t.commit), ["c55"]);
  });
  it("a broken build next to the culprit ends inconclusive with both candidates", () => {
    // Seven clean batches at c2: with three live batches in all, six dead ones in a row are still worth a look.
    const o = [obs("c7", times(T, 20)), obs("c2", times(OK, 70)), { commit: "c3", remedies: [], build: { kind: "failed" as const, excerpt: "" }, runs: [] }, obs("c4", times(T, 10))];
    const step = bayesStrategy.next(problem(dag), o);
    assert.equal(step.kind, "done");
    if (step.kind === "done") {
      assert.equal(step.result.outcome, "inconclusive");
      if (step.result.outcome === "inconclusive") assert.deepEqual([...step.result.candidates].sort(), ["c3", "c4"]);
    }
  });
  it("is pure: the same input gives the same step", () => {
    const o = [obs("c7", [...times(T, 5), ...times(OK, 15)])];
    assert.deepEqual(bayesStrategy.next(problem(dag), o), bayesStrategy.next(problem(dag), o));
  });
});
