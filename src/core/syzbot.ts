// syzbot's bisection, as syzkaller's pkg/bisect does it: reproduce on the start commit, test
// release tags newest first until one is good, then git-bisect with a fixed number of runs per
// commit. Title-blind, like syzbot: any crash is "bad". `--strategy syzbot` and the simulator's
// syzbot-2024 run this code, so users who ask for syzbot's behaviour get exactly it; the 2021
// variant is the same procedure with the verdict rules syzbot had then.
//
// Stateless like every Strategy: each call replays the whole procedure against the observations
// and stops at the first test not made yet.

import type { Dag } from "./dag.js";
import { HANG_TYPE } from "./hangs.js";
import { cachedMidpoint } from "./midpoint.js";
import type { CrashSummary, Observation, RunOutcome } from "./outcome.js";
import type { BisectProblem, CommitVerdict, Note, Release, Step, Strategy, StrategyResult, TestRequest } from "./strategy.js";

export interface SyzbotVariant {
  name: string;
  /**
   * "2024": a verdict needs enough runs (bisectionDecision: bad ≥ max(2, (total − infra) / 6)
   * crashes and half the runs usable; good = no crash and half the runs clean, ¾ once flaky),
   * lost-connection and SYZFATAL crashes are ignored unless the start commit's crashes are of that
   * type, an undecided commit with more infra errors than test errors aborts, fix bisection checks
   * that a revision ever had the bug, and the result carries a confidence.
   * "2021": any crash is bad; more than ⅔ of the runs unusable is skip; else a clean run is good.
   */
  rules: "2024" | "2021";
  /** The release tags to test, newest first (in production the orchestrator has picked them already). */
  releases: (releases: readonly Release[]) => Release[];
}

/** Crash types syzbot treats as transient when the start commit did not crash that way (report/'s names). */
const TRANSIENT_TYPES = ["LOST_CONNECTION", "SYZ_FAILURE"];
const LOST_CONNECTION_TYPE = "LOST_CONNECTION";
/** The dashboard does not report a culprit below this confidence (syz-ci's cut-off). */
export const DASHBOARD_CONFIDENCE_CUTOFF = 0.66;
const FLAKY_RATIO = 0.5;

type Verdict = "bad" | "good" | "skip";

interface Tested {
  verdict: Verdict;
  /** bad / (bad + good), 0 without usable runs. */
  badRatio: number;
  good: number;
  /** Crashes that counted, in run order (for the representative report). */
  reports: CrashSummary[];
  /** The verdict rules aborted the bisection: mostly infra errors. */
  infraAbort: boolean;
}

export interface RunCounts {
  total: number;
  bad: number;
  good: number;
  infra: number;
  reports: CrashSummary[];
}

/** syzbot's choice of the representative crash types of some crashes (mostFrequentReports). */
export function representativeCrashes(reports: readonly CrashSummary[]): { report?: CrashSummary; types: string[] } {
  const perType: { type: string; count: number; report: CrashSummary }[] = [];
  let crashes = 0;
  for (const report of reports) {
    if (report.title === "") continue;
    crashes++;
    const entry = perType.find((p) => p.type === report.type);
    if (entry) entry.count++;
    else perType.push({ type: report.type, count: 1, report });
  }
  perType.sort((a, b) => b.count - a.count);
  const types: string[] = [];
  let report: CrashSummary | undefined;
  let taken = 0;
  for (const info of perType) {
    // A hang is taken only when at least half the crashes hang; a lost connection only when alone.
    if (info.type === HANG_TYPE && info.count * 2 < crashes && perType.length > 1) continue;
    if (info.type === LOST_CONNECTION_TYPE && perType.length > 1) continue;
    const needTaken = Math.floor(((crashes + 2) * 2) / 3);
    if (taken < needTaken && types.length < 3) {
      report ??= info.report;
      types.push(info.type);
      taken += info.count;
    }
  }
  return report ? { report, types } : { types };
}

function countRuns(runs: readonly RunOutcome[], rules: SyzbotVariant["rules"], startTypes: readonly string[] | undefined): RunCounts {
  const c: RunCounts = { total: runs.length, bad: 0, good: 0, infra: 0, reports: [] };
  for (const run of runs) {
    switch (run.kind) {
      case "ok":
        c.good++;
        break;
      case "crash": {
        const transient =
          rules === "2024" && startTypes !== undefined && startTypes.length > 0 && TRANSIENT_TYPES.includes(run.crash.type) && !startTypes.includes(run.crash.type);
        if (!transient) {
          c.bad++;
          c.reports.push(run.crash);
        }
        break;
      }
      case "infra":
        c.infra++;
        break;
      case "boot-failed":
      case "basic-failed":
      case "untestable":
        // Kernel test errors: neither good nor bad, and not the infrastructure's fault.
        break;
    }
  }
  return c;
}

/** One commit's verdict from its runs, by the variant's rules. */
export function syzbotDecision(c: RunCounts, rules: SyzbotVariant["rules"], flaky: boolean): { verdict: Verdict; infraAbort: boolean } {
  if (rules === "2021") {
    if (c.bad > 0) return { verdict: "bad", infraAbort: false };
    if (c.total - c.good - c.bad > Math.floor(c.total / 3) * 2) return { verdict: "skip", infraAbort: false };
    return { verdict: c.good > 0 ? "good" : "skip", infraAbort: false };
  }
  const skip = c.total - c.bad - c.good - c.infra;
  const wantBad = Math.max(2, Math.floor((c.total - c.infra) / 6));
  const wantGood = flaky ? Math.floor((c.total * 3) / 4) : Math.floor(c.total / 2);
  const wantTotal = Math.floor(c.total / 2);
  if (c.bad === 0 && c.good >= wantGood) return { verdict: "good", infraAbort: false };
  if (c.bad >= wantBad && c.good + c.bad >= wantTotal) return { verdict: "bad", infraAbort: false };
  return { verdict: "skip", infraAbort: c.infra > skip };
}

/** Thrown when the replay reaches a test not made yet: the step to return. */
class Pending {
  constructor(readonly request: TestRequest) {}
}

/** The bisection aborted (syzbot: an infra error): an inconclusive answer naming nothing. */
class Aborted {
  constructor(readonly why: string) {}
}

interface Replay {
  problem: BisectProblem;
  variant: SyzbotVariant;
  dag: Dag;
  byCommit: Map<string, Observation>;
  notes: Note[];
  /** Every commit test() ran, by commit index (build failures included). */
  results: Map<number, Tested>;
  tests: number;
  flaky: boolean;
  startTypes?: string[];
  reproChance: number;
  confidence: number;
}

/** syzbot's test(): build, run 20 (first test, or once flaky) or 10 times, decide. */
function test(r: Replay, commit: number): Tested {
  const hash = r.dag.hash(commit);
  const planned = r.tests === 0 || r.flaky ? r.problem.startRuns : r.problem.runsPerCommit;
  const seen = r.byCommit.get(hash);
  if (!seen?.build) throw new Pending({ commit: hash, runs: planned, remedies: [] });
  r.tests++;
  let tested: Tested;
  if (seen.build.kind === "failed") {
    tested = { verdict: "skip", badRatio: 0, good: 0, reports: [], infraAbort: false };
  } else {
    if (seen.runs.length < planned) throw new Pending({ commit: hash, runs: planned - seen.runs.length, remedies: [] });
    const counts = countRuns(seen.runs.slice(0, planned), r.variant.rules, r.startTypes);
    const decision = syzbotDecision(counts, r.variant.rules, r.flaky);
    const usable = counts.bad + counts.good;
    tested = { ...decision, badRatio: usable > 0 ? counts.bad / usable : 0, good: counts.good, reports: counts.reports };
  }
  r.results.set(commit, tested);
  if (tested.infraAbort) throw new Aborted(`unable to determine the verdict on ${hash} because of infra errors`);
  if (tested.verdict === "bad" && tested.badRatio < FLAKY_RATIO) r.flaky = true;
  return tested;
}

function say(r: Replay, commit: number, verdict: CommitVerdict): void {
  r.notes.push({ kind: "verdict", commit: r.dag.hash(commit), verdict });
}

/** syzbot states no confidence in a "no culprit" answer: it is a flat claim. */
function noCulprit(reason: "not-reproduced" | "oldest-crashes" | "untestable", detail: string): StrategyResult {
  return { outcome: "no-culprit", reason, detail, confidence: 1 };
}

/** Cause bisection's range: the last bad and the first good release (or the user's good commit). */
function causeRange(r: Replay, start: number): { bad: number; good: number } | StrategyResult {
  const { problem, dag } = r;
  const candidates: { commit: number; tag?: string }[] = problem.good
    ? [{ commit: dag.index(problem.good) }]
    : r.variant
        .releases(problem.releases)
        .filter((rel) => rel.commit !== problem.start && dag.has(rel.commit))
        .map((rel) => ({ commit: dag.index(rel.commit), tag: rel.tag }));
  if (candidates.length === 0) return noCulprit("untestable", "no good commit: the start commit has no older release tags (give `good:`)");
  let lastBad = start;
  let last: { verdict: Verdict; name: string } | undefined;
  for (const candidate of candidates) {
    if (candidate.tag) r.notes.push({ kind: "release", tag: candidate.tag, commit: dag.hash(candidate.commit) });
    const tested = test(r, candidate.commit);
    say(r, candidate.commit, tested.verdict);
    last = { verdict: tested.verdict, name: candidate.tag ?? dag.hash(candidate.commit) };
    if (tested.verdict === "good") return { bad: lastBad, good: candidate.commit };
    if (tested.verdict === "bad") lastBad = candidate.commit;
  }
  if (problem.good) {
    return last?.verdict === "bad"
      ? noCulprit("oldest-crashes", `the crash also happens on the given good commit ${problem.good}`)
      : noCulprit("untestable", `the given good commit ${problem.good} cannot be tested`);
  }
  // Only the oldest tested release decides, as in syzbot's validateCommitRange.
  return last?.verdict === "bad"
    ? noCulprit("oldest-crashes", `the crash happens on the oldest release tested (${last.name})`)
    : noCulprit("untestable", `the oldest release tested (${last?.name ?? "none"}) had build, boot or test errors`);
}

/**
 * Fix bisection only (2024): whether `commit` ever had the bug. A tested ancestor that was not
 * clean says yes (syzbot counts any non-good result); else the merge bases with the start commit
 * are tested. Undefined = cannot tell (syzbot skips the revision).
 */
function hadBug(r: Replay, commit: number, start: number): boolean | undefined {
  const ancestry = r.dag.ancestry(commit);
  for (const [tested, result] of r.results) if (ancestry[tested] && result.verdict !== "good") return true;
  const common = r.dag.ancestry(start);
  for (let i = 0; i < common.length; i++) common[i] = common[i] && ancestry[i] ? 1 : 0;
  const bases: number[] = [];
  for (let i = 0; i < common.length; i++) {
    if (common[i] && !(r.dag.children[i] as readonly number[]).some((c) => common[c])) bases.push(i);
  }
  let anyResult = false;
  for (const base of bases) {
    const result = r.results.get(base) ?? test(r, base);
    if (result.verdict === "skip") continue;
    anyResult = true;
    if (result.verdict !== "good") return true;
  }
  return anyResult ? false : undefined;
}

/** syzbot's testPredicate: the verdict in git's terms (bad = new: crashing for cause, fixed for fix). */
function predicate(r: Replay, commit: number, start: number): Verdict {
  const fix = r.problem.kind === "fix";
  let verdict: Verdict;
  const present = fix && r.variant.rules === "2024" ? hadBug(r, commit, start) : true;
  if (present === undefined) verdict = "skip";
  else if (!present) verdict = "bad"; // not introduced yet: syzbot pretends it crashed
  else {
    const tested = test(r, commit);
    // The result could be a false negative: syzbot's confidence in this step.
    if (tested.verdict === "good") r.confidence *= 1 - (1 - r.reproChance) ** tested.good;
    if (tested.verdict === "bad") r.reproChance = Math.min(r.reproChance, (r.reproChance + tested.badRatio) / 2);
    verdict = tested.verdict;
  }
  if (!fix || verdict === "skip") return verdict;
  return verdict === "bad" ? "good" : "bad";
}

/** Why syzbot's dashboard would call this culprit unreliable and not report it (syz-ci's flags). */
function dashboardDoubts(r: Replay, culprit: number, parentBuild: Observation["build"], own: Observation["build"]): string[] {
  const doubts: string[] = [];
  const parents = r.dag.parents[culprit] as readonly number[];
  if (parents.length > 1) doubts.push("a merge commit");
  if (own?.kind === "ok" && parentBuild?.kind === "ok" && own.signature === parentBuild.signature) doubts.push("does not change the build");
  if (r.problem.releases.some((rel) => rel.commit === r.dag.hash(culprit))) doubts.push("a release commit");
  if (r.variant.rules === "2024" && r.confidence < DASHBOARD_CONFIDENCE_CUTOFF) doubts.push(`confidence ${r.confidence.toFixed(2)} < ${DASHBOARD_CONFIDENCE_CUTOFF}`);
  return doubts;
}

function finish(r: Replay, culprit: number): StrategyResult {
  const { dag } = r;
  const hash = dag.hash(culprit);
  const parents = dag.parents[culprit] as readonly number[];
  const parentAt = parents[0];
  const parent = parentAt === undefined ? undefined : dag.hash(parentAt);
  const own = r.byCommit.get(hash)?.build;
  // syzbot builds an untested parent to tell a no-op culprit (same kernel signature) from a real one.
  let parentBuild: Observation["build"];
  if (parent !== undefined && parents.length === 1 && own?.kind === "ok") {
    parentBuild = r.byCommit.get(parent)?.build;
    if (!parentBuild) throw new Pending({ commit: parent, runs: 0, remedies: [] });
  }
  const doubts = dashboardDoubts(r, culprit, parentBuild, own);
  if (doubts.length > 0) r.notes.push({ kind: "info", text: `syzbot's dashboard would call this result unreliable and not report it: the culprit is ${doubts.join(", ")}` });
  const confidence = r.variant.rules === "2024" ? r.confidence : 1;
  return parent === undefined ? { outcome: "culprit", culprit: hash, confidence } : { outcome: "culprit", culprit: hash, parent, confidence };
}

function bisect(r: Replay): StrategyResult {
  const { problem, dag } = r;
  const start = dag.index(problem.start);
  const first = test(r, start);
  if (r.byCommit.get(problem.start)?.build?.kind === "failed") return noCulprit("untestable", `the start commit ${problem.start} does not build`);
  say(r, start, first.verdict);
  if (first.verdict !== "bad") return noCulprit("not-reproduced", `the crash did not reproduce on the start commit in ${problem.startRuns} runs`);
  const representative = representativeCrashes(first.reports);
  if (representative.report) r.notes.push({ kind: "target", crash: representative.report });
  if (r.variant.rules === "2024") r.startTypes = representative.types;
  r.reproChance = first.badRatio;
  let bad: number;
  const goods: number[] = [];
  if (problem.kind === "cause") {
    const range = causeRange(r, start);
    if ("outcome" in range) return range;
    bad = range.bad;
    goods.push(range.good);
  } else {
    const end = problem.good;
    if (!end) return noCulprit("untestable", "fix bisection needs the newer commit to test (`end:`)");
    const head = dag.index(end);
    const tested = test(r, head);
    say(r, head, tested.verdict === "good" ? "bad" : tested.verdict === "bad" ? "good" : "skip");
    if (tested.verdict === "bad") return noCulprit("oldest-crashes", `the crash still happens on ${end}: nothing fixed it`);
    if (tested.verdict === "skip") return noCulprit("untestable", `the newest commit ${end} cannot be tested`);
    bad = head;
    goods.push(start);
  }
  r.notes.push({ kind: "bisect-start", bad: dag.hash(bad), good: goods.map((g) => dag.hash(g)) });
  const skipped = new Set<number>();
  for (;;) {
    const step = cachedMidpoint(dag, bad, goods, skipped);
    if (step.kind === "found") return finish(r, step.culprit);
    if (step.kind === "only-skipped") {
      return { outcome: "inconclusive", candidates: step.candidates.map((c) => dag.hash(c)).reverse(), confidence: r.variant.rules === "2024" ? r.confidence : 1 };
    }
    r.notes.push({ kind: "bisect-step", commit: dag.hash(step.commit), revisionsLeft: step.revisionsLeft, stepsLeft: step.stepsLeft });
    const verdict = predicate(r, step.commit, start);
    say(r, step.commit, verdict);
    if (verdict === "bad") bad = step.commit;
    else if (verdict === "good") goods.push(step.commit);
    else skipped.add(step.commit);
  }
}

export function syzbotStrategyOf(variant: SyzbotVariant): Strategy {
  return {
    name: variant.name,
    next(problem, observations): Step {
      const byCommit = new Map<string, Observation>();
      // syzbot never builds with remedies: other observations are not its own.
      for (const o of observations) if (o.remedies.length === 0) byCommit.set(o.commit, o);
      const replay: Replay = {
        problem, variant, dag: problem.graph, byCommit, notes: [], results: new Map(), tests: 0, flaky: false, reproChance: 1, confidence: 1,
      };
      try {
        return { kind: "done", result: bisect(replay), notes: replay.notes };
      } catch (e) {
        if (e instanceof Pending) return { kind: "test", tests: [e.request], notes: replay.notes };
        if (e instanceof Aborted) {
          replay.notes.push({ kind: "info", text: e.why });
          return { kind: "done", result: { outcome: "inconclusive", candidates: [], confidence: 0 }, notes: replay.notes };
        }
        throw e;
      }
    },
  };
}

/** `--strategy syzbot`: syzbot's rules as of 2024 on the releases the orchestrator picked. */
export const syzbotStrategy: Strategy = syzbotStrategyOf({ name: "syzbot", rules: "2024", releases: (releases) => [...releases] });
