// Faithful models of the strategies culprit is measured against: `git bisect run` with a
// crash-detecting script, and syzbot's cause/fix bisection rules as of 2021 and of 2024.
// None is title-aware: any crash is "bad". They are stateless like every Strategy: each call
// replays the whole procedure against the observations and stops at the first test not yet made.

import type { Dag } from "../core/dag.js";
import type { Observation } from "../core/outcome.js";
import { parseRelease } from "../core/releases.js";
import type { BisectProblem, Note, Step, Strategy, StrategyResult, TestRequest } from "../core/strategy.js";
import { chooseMidpoint, type Midpoint } from "./midpoint.js";

export type Verdict = "crash" | "clean" | "skip";

/** Thrown by the lab when the replay reaches a test that has not been made: the step to return. */
class NeedTest {
  constructor(readonly request: TestRequest) {}
}

interface Lab {
  /** The observation of `commit` with at least `runs` runs (0 = built); NeedTest when not made yet. */
  test(commit: number, runs: number): Observation;
}

function labFor(dag: Dag, observations: readonly Observation[]): Lab {
  const byCommit = new Map<string, Observation>();
  for (const o of observations) if (o.remedies.length === 0) byCommit.set(o.commit, o);
  return {
    test(commit, runs) {
      const hash = dag.hash(commit);
      const o = byCommit.get(hash);
      if (o && o.build && (o.build.kind === "failed" || o.runs.length >= runs)) return o;
      throw new NeedTest({ commit: hash, runs: runs - (o?.runs.length ?? 0), remedies: [] });
    },
  };
}

const midpointMemo = new WeakMap<Dag, Map<string, Midpoint>>();

/** Replays recompute the same midpoints again and again: memoised per graph (results are pure). */
function midpoint(dag: Dag, newest: number, olds: readonly number[], skipped: ReadonlySet<number>): Midpoint {
  let memo = midpointMemo.get(dag);
  if (!memo) {
    memo = new Map();
    midpointMemo.set(dag, memo);
  }
  const key = `${newest}|${[...olds].sort((a, b) => a - b).join(",")}|${[...skipped].sort((a, b) => a - b).join(",")}`;
  let m = memo.get(key);
  if (!m) {
    if (memo.size > 5000) memo.clear();
    m = chooseMidpoint(dag, newest, olds, skipped);
    memo.set(key, m);
  }
  return m;
}

interface Counts {
  crashed: number;
  clean: number;
  usable: number;
}

function countRuns(o: Observation, bootFailureIsCrash: boolean): Counts {
  let crashed = 0;
  let clean = 0;
  for (const run of o.runs) {
    if (run.kind === "crash" || (bootFailureIsCrash && (run.kind === "boot-failed" || run.kind === "basic-failed"))) crashed++;
    else if (run.kind === "ok") clean++;
  }
  return { crashed, clean, usable: crashed + clean };
}

interface Rules {
  name: string;
  startRuns(problem: BisectProblem): number;
  runs(problem: BisectProblem, flaky: boolean): number;
  verdict(o: Observation, planned: number, flaky: boolean): Verdict;
  /** Release commits to test, newest first (cause bisection only). */
  releases(problem: BisectProblem): number[];
  /** Build the culprit's parent at the end and refuse a culprit with the parent's signature. */
  checkParentSignature: boolean;
  confidence(startChance: number, cleanVerdicts: readonly number[]): number;
}

export function gitBisectVerdict(o: Observation): Verdict {
  if (o.build?.kind === "failed") return "skip";
  const c = countRuns(o, true);
  if (c.crashed > 0) return "crash";
  return c.clean > 0 ? "clean" : "skip";
}

export function syzbot2021Verdict(o: Observation): Verdict {
  if (o.build?.kind === "failed") return "skip";
  const c = countRuns(o, false);
  if (c.crashed > 0) return "crash";
  return c.clean > 0 ? "clean" : "skip";
}

export function syzbot2024Verdict(o: Observation, planned: number, flaky: boolean): Verdict {
  if (o.build?.kind === "failed") return "skip";
  const c = countRuns(o, false);
  if (c.crashed >= Math.max(2, c.usable / 6) && c.usable >= planned / 2) return "crash";
  if (c.crashed === 0 && c.clean >= planned * (flaky ? 0.75 : 0.5)) return "clean";
  return "skip";
}

/** syzbot 2024's release subset: 2 newest point releases, then every release for the 3 newest, every 2nd up to the 11th, every 3rd after, always the oldest. */
export function syzbot2024Releases(tags: readonly string[]): string[] {
  const versions = tags.map((t) => ({ tag: t, v: parseRelease(t) })).filter((x) => x.v && x.v.pre === undefined);
  const point = versions.filter((x) => (x.v?.numbers.length ?? 0) >= 3 && (x.v?.numbers[2] ?? 0) !== 0).slice(0, 2);
  const majors = versions.filter((x) => (x.v?.numbers.length ?? 0) < 3 || (x.v?.numbers[2] ?? 0) === 0);
  const chosen: string[] = point.map((x) => x.tag);
  let next = 0;
  majors.forEach((x, i) => {
    if (i === next || i === majors.length - 1) {
      chosen.push(x.tag);
      next = i < 2 ? i + 1 : i < 10 ? i + 2 : i + 3;
    }
  });
  return [...new Set(chosen)];
}

function releaseIndices(problem: BisectProblem, tags: readonly string[]): number[] {
  const byTag = new Map(problem.releases.map((r) => [r.tag, r.commit]));
  const dag = problem.graph;
  return tags.map((t) => byTag.get(t)).filter((c): c is string => c !== undefined && dag.has(c)).map((c) => dag.index(c));
}

function run(rules: Rules, problem: BisectProblem, lab: Lab, notes: Note[]): StrategyResult {
  const dag = problem.graph;
  const start = dag.index(problem.start);
  let flaky = false;
  const cleanVerdicts: number[] = [];
  const judge = (commit: number, planned: number): Verdict => {
    const o = lab.test(commit, planned);
    const v = rules.verdict(o, planned, flaky);
    const c = countRuns(o, false);
    if (v === "crash" && c.usable > 0 && c.crashed / c.usable < 0.5) flaky = true;
    if (v === "clean") cleanVerdicts.push(c.clean);
    notes.push({ kind: "verdict", commit: dag.hash(commit), verdict: v === "crash" ? "bad" : v === "clean" ? "good" : "skip" });
    return v;
  };
  const startPlanned = rules.startRuns(problem);
  if (judge(start, startPlanned) !== "crash") {
    return { outcome: "no-culprit", reason: "not-reproduced", detail: "the start commit did not crash", confidence: 1 };
  }
  const s = countRuns(lab.test(start, startPlanned), false);
  const startChance = s.usable > 0 ? s.crashed / s.usable : 1;
  let newest: number;
  const olds: number[] = [];
  if (problem.kind === "cause") {
    let lastBad = start;
    let good: number | undefined;
    for (const r of rules.releases(problem)) {
      if (r === start || !dag.isAncestor(r, lastBad)) continue;
      const v = judge(r, rules.runs(problem, flaky));
      if (v === "crash") lastBad = r;
      if (v === "clean") {
        good = r;
        break;
      }
    }
    if (good === undefined) return { outcome: "no-culprit", reason: "oldest-crashes", detail: "the oldest release tested still crashes", confidence: 1 };
    newest = lastBad;
    olds.push(good);
  } else {
    const end = dag.index(problem.good ?? dag.hash(dag.size - 1));
    const v = judge(end, rules.runs(problem, flaky));
    if (v === "crash") return { outcome: "no-culprit", reason: "oldest-crashes", detail: "the newest commit still crashes", confidence: 1 };
    if (v === "skip") return { outcome: "no-culprit", reason: "untestable", detail: "the newest commit cannot be tested", confidence: 1 };
    newest = end;
    olds.push(start);
  }
  const skipped = new Set<number>();
  for (;;) {
    const m = midpoint(dag, newest, olds, skipped);
    if (m.kind === "only-skipped") {
      return { outcome: "inconclusive", candidates: m.candidates.map((c) => dag.hash(c)), confidence: rules.confidence(startChance, cleanVerdicts) };
    }
    if (m.kind === "found") {
      const culprit = m.culprit;
      const parents = dag.parents[culprit] as readonly number[];
      if (rules.checkParentSignature && parents.length === 1) {
        const mine = lab.test(culprit, 0).build;
        const theirs = lab.test(parents[0] as number, 0).build;
        if (mine?.kind === "ok" && theirs?.kind === "ok" && mine.signature === theirs.signature) {
          notes.push({ kind: "info", text: "the culprit has the same signature as its parent: result not reliable" });
          return { outcome: "inconclusive", candidates: [dag.hash(culprit), dag.hash(parents[0] as number)], confidence: 0 };
        }
      }
      const parent = parents[0];
      const confidence = rules.confidence(startChance, cleanVerdicts);
      return parent === undefined
        ? { outcome: "culprit", culprit: dag.hash(culprit), confidence }
        : { outcome: "culprit", culprit: dag.hash(culprit), parent: dag.hash(parent), confidence };
    }
    const v = judge(m.commit, rules.runs(problem, flaky));
    if (v === "skip") skipped.add(m.commit);
    else if ((v === "crash") === (problem.kind === "cause")) newest = m.commit;
    else olds.push(m.commit);
  }
}

function replayStrategy(rules: Rules): Strategy {
  return {
    name: rules.name,
    next(problem: BisectProblem, observations: readonly Observation[]): Step {
      const notes: Note[] = [];
      try {
        return { kind: "done", result: run(rules, problem, labFor(problem.graph, observations), notes), notes: [] };
      } catch (e) {
        if (e instanceof NeedTest) return { kind: "test", tests: [e.request], notes: notes.slice(-1) };
        throw e;
      }
    },
  };
}

export const gitBisectStrategy: Strategy = replayStrategy({
  name: "git-bisect",
  startRuns: () => 1,
  runs: () => 1,
  verdict: gitBisectVerdict,
  releases: (problem) => {
    // git bisect needs one good commit: the oldest release, or else the oldest commit.
    const oldest = problem.releases[problem.releases.length - 1];
    return oldest && problem.graph.has(oldest.commit) ? [problem.graph.index(oldest.commit)] : [0];
  },
  checkParentSignature: false,
  confidence: () => 1,
});

export const syzbot2021Strategy: Strategy = replayStrategy({
  name: "syzbot-2021",
  startRuns: (problem) => problem.startRuns,
  runs: (problem, flaky) => (flaky ? 2 * problem.runsPerCommit : problem.runsPerCommit),
  verdict: syzbot2021Verdict,
  releases: (problem) => releaseIndices(problem, problem.releases.map((r) => r.tag)),
  checkParentSignature: true,
  confidence: () => 1,
});

export const syzbot2024Strategy: Strategy = replayStrategy({
  name: "syzbot-2024",
  startRuns: (problem) => problem.startRuns,
  runs: (problem) => problem.runsPerCommit,
  verdict: syzbot2024Verdict,
  releases: (problem) => releaseIndices(problem, syzbot2024Releases(problem.releases.map((r) => r.tag))),
  checkParentSignature: true,
  confidence: (p, clean) => clean.reduce((conf, k) => conf * (1 - (1 - p) ** k), 1),
});
