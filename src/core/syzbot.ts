// The syzbot-like strategy: reproduce on the start commit, walk release tags newest-first to
// find a good one, then git-bisect with a fixed number of runs per commit. Unlike syzbot it
// judges every commit by the *target* crash only, so an unrelated crash cannot steer it.

import type { Dag } from "./dag.js";
import { nextMidpoint } from "./midpoint.js";
import { observationKey, type CrashSummary, type Observation } from "./outcome.js";
import type { BisectProblem, CommitVerdict, Note, Step, Strategy, TestRequest } from "./strategy.js";
import { countEvidence, crashState, mostFrequentCrash, type CrashState } from "./verdict.js";

interface Judge {
  /** Runs still to do before `commit` can be judged, or its state. */
  state(commit: string, runs: number): { pending: TestRequest } | { state: CrashState };
}

function makeJudge(problem: BisectProblem, observations: readonly Observation[], target: CrashSummary): Judge {
  const byKey = new Map(observations.map((o) => [observationKey(o.commit, o.remedies), o]));
  return {
    state(commit, runs) {
      const seen = byKey.get(observationKey(commit, []));
      if (seen?.build?.kind === "failed") return { state: "untestable" };
      const have = seen?.runs.length ?? 0;
      if (!seen?.build || have < runs) return { pending: { commit, runs: runs - have, remedies: [] } };
      return { state: crashState(countEvidence(seen.runs, target, problem.sameCrash), runs) };
    },
  };
}

/** In git's terms a commit is "bad" when it is in the new state: crashing (cause) or fixed (fix). */
function gitVerdict(kind: BisectProblem["kind"], state: CrashState): CommitVerdict {
  if (state === "untestable") return "skip";
  return (state === "crashes") === (kind === "cause") ? "bad" : "good";
}

export const syzbotStrategy: Strategy = {
  name: "syzbot",
  next(problem, observations) {
    const start = observations.find((o) => o.commit === problem.start && o.remedies.length === 0);
    if (!start?.build || (start.build.kind === "ok" && start.runs.length < problem.startRuns)) {
      return test([{ commit: problem.start, runs: problem.startRuns - (start?.runs.length ?? 0), remedies: [] }]);
    }
    if (start.build.kind === "failed") {
      return noCulprit("untestable", `the start commit ${problem.start} does not build`, []);
    }
    const target = problem.target ?? mostFrequentCrash(start.runs);
    if (!target) {
      return noCulprit("not-reproduced", `the crash did not reproduce on the start commit in ${start.runs.length} runs`, []);
    }
    const judge = makeJudge(problem, observations, target);
    const notes: Note[] = [{ kind: "target", crash: target }];
    const boundary = problem.kind === "cause" ? findGoodRelease(problem, judge, notes) : findFixedEnd(problem, judge);
    if ("step" in boundary) return { ...boundary.step, notes: [...notes, ...boundary.step.notes] };
    return bisect(problem, judge, boundary.bad, boundary.good, target, observations, notes);
  },
};

type Boundary = { bad: string; good: string } | { step: Step };

function findGoodRelease(problem: BisectProblem, judge: Judge, notes: Note[]): Boundary {
  const candidates: { commit: string; tag?: string }[] = problem.good
    ? [{ commit: problem.good }]
    : problem.releases.filter((r) => r.commit !== problem.start).map((r) => ({ commit: r.commit, tag: r.tag }));
  if (candidates.length === 0) {
    return { step: noCulprit("untestable", "no good commit: the start commit has no older release tags (give `good:`)", notes) };
  }
  let bad = problem.start;
  let oldestCrashing: string | undefined;
  for (const candidate of candidates) {
    const judged = judge.state(candidate.commit, problem.runsPerCommit);
    if ("pending" in judged) {
      const release: Note[] = candidate.tag ? [{ kind: "release", tag: candidate.tag, commit: candidate.commit }] : [];
      return { step: test([judged.pending], [...notes, ...release]) };
    }
    if (judged.state === "clean") return { bad, good: candidate.commit };
    if (judged.state === "crashes") {
      bad = candidate.commit;
      oldestCrashing = candidate.tag ?? candidate.commit;
    }
  }
  if (problem.good) {
    const why = oldestCrashing ? `the crash also happens on the given good commit ${problem.good}` : `the given good commit ${problem.good} cannot be tested`;
    return { step: noCulprit(oldestCrashing ? "oldest-crashes" : "untestable", why, notes) };
  }
  return {
    step: oldestCrashing
      ? noCulprit("oldest-crashes", `the crash happens on the oldest release tested (${oldestCrashing})`, notes)
      : noCulprit("untestable", "no release older than the start commit could be tested", notes),
  };
}

function findFixedEnd(problem: BisectProblem, judge: Judge): Boundary {
  const end = problem.good;
  if (!end) return { step: noCulprit("untestable", "fix bisection needs the newer commit to test (`end:`)", []) };
  const judged = judge.state(end, problem.runsPerCommit);
  if ("pending" in judged) return { step: test([judged.pending]) };
  if (judged.state === "crashes") return { step: noCulprit("oldest-crashes", `the crash still happens on ${end}: nothing fixed it`, []) };
  if (judged.state === "untestable") return { step: noCulprit("untestable", `the newest commit ${end} cannot be tested`, []) };
  return { bad: end, good: problem.start };
}

function bisect(
  problem: BisectProblem,
  judge: Judge,
  bad: string,
  good: string,
  target: CrashSummary,
  observations: readonly Observation[],
  notes: Note[],
): Step {
  const dag = problem.graph;
  let badAt = dag.index(bad);
  const goods = [dag.index(good)];
  const skipped = new Set<number>();
  const log: Note[] = [...notes, { kind: "bisect-start", bad, good: [good] }];
  for (;;) {
    const step = nextMidpoint(dag, badAt, goods, skipped);
    if (step.kind === "found") {
      return finish(problem, dag, step.culprit, target, observations, goods, log);
    }
    if (step.kind === "only-skipped") {
      return {
        kind: "done",
        result: { outcome: "inconclusive", candidates: step.candidates.map((c) => dag.hash(c)).reverse(), confidence: confidence(problem, observations, target, goods) },
        notes: log,
      };
    }
    const commit = dag.hash(step.commit);
    const judged = judge.state(commit, problem.runsPerCommit);
    if ("pending" in judged) {
      log.push({ kind: "bisect-step", commit, revisionsLeft: step.revisionsLeft, stepsLeft: step.stepsLeft });
      return test([judged.pending], log);
    }
    const verdict = gitVerdict(problem.kind, judged.state);
    log.push({ kind: "verdict", commit, verdict });
    if (verdict === "bad") badAt = step.commit;
    else if (verdict === "good") goods.push(step.commit);
    else skipped.add(step.commit);
  }
}

function finish(
  problem: BisectProblem,
  dag: Dag,
  culprit: number,
  target: CrashSummary,
  observations: readonly Observation[],
  goods: number[],
  notes: Note[],
): Step {
  const hash = dag.hash(culprit);
  const parentAt = dag.parents[culprit]?.[0];
  const parent = parentAt === undefined ? undefined : dag.hash(parentAt);
  // The parent's build gives the signature that tells a no-op culprit from a real one.
  if (parent && !observations.some((o) => o.commit === parent && o.remedies.length === 0 && o.build)) {
    return test([{ commit: parent, runs: 0, remedies: [] }], notes);
  }
  const confidenceNow = confidence(problem, observations, target, goods);
  return { kind: "done", result: { outcome: "culprit", culprit: hash, ...(parent ? { parent } : {}), confidence: confidenceNow }, notes };
}

/** syzbot's own estimate: for every commit judged clean, the chance that its clean runs
 *  were not just luck, given the reproduction chance seen on the start commit. */
function confidence(problem: BisectProblem, observations: readonly Observation[], target: CrashSummary, goods: number[]): number {
  const start = observations.find((o) => o.commit === problem.start && o.remedies.length === 0);
  const startCounts = countEvidence(start?.runs ?? [], target, problem.sameCrash);
  const usable = startCounts.target + startCounts.clean;
  const chance = usable === 0 ? 0 : startCounts.target / usable;
  const cleanCommits = problem.kind === "cause" ? goods.map((g) => problem.graph.hash(g)) : [];
  let p = 1;
  for (const commit of cleanCommits) {
    const seen = observations.find((o) => o.commit === commit && o.remedies.length === 0);
    const clean = countEvidence(seen?.runs ?? [], target, problem.sameCrash).clean;
    p *= 1 - (1 - chance) ** clean;
  }
  return p;
}

function test(tests: TestRequest[], notes: Note[] = []): Step {
  return { kind: "test", tests, notes };
}

function noCulprit(reason: "not-reproduced" | "oldest-crashes" | "untestable" | "not-in-range", detail: string, notes: Note[]): Step {
  return { kind: "done", result: { outcome: "no-culprit", reason, detail, confidence: 0 }, notes };
}
