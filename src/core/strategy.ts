// The Strategy contract: a pure function from (problem, observations) to the next step.
// No I/O, no clock, no randomness but a given seed. The orchestrator (bisect/) calls it
// after every batch; on resume it replays the recorded observations and calls it again.

import type { Dag } from "./dag.js";
import type { CrashSimilarity, CrashSummary, Observation } from "./outcome.js";

export type BisectKind = "cause" | "fix";

export interface Release {
  tag: string;
  commit: string;
}

export interface BisectProblem {
  kind: BisectKind;
  /** Cause: the commit that crashes (bad). Fix: the old commit that crashes. */
  start: string;
  /** Cause: a known clean ancestor given by the user. Fix: the new commit believed fixed. */
  good?: string;
  /** Release tags reachable from `start` (cause), newest first; empty for fix bisection. */
  releases: Release[];
  /** Every commit that can be tested: `start` and its ancestors down to `good`, else down to
   *  `oldest`, else down to the repository's first commits (cause); or the commits between
   *  `start` and `good` (fix). */
  graph: Dag;
  /** Cause, without `good`: the oldest commit the search may reach (the job's `oldest` bound). */
  oldest?: string;
  /** Commits of `graph` that have no parent in the repository at all (its first commits): a
   *  crash that is already there was introduced there. Absent = the graph's oldest commits are
   *  boundaries, not the start of the history. */
  repositoryRoots?: string[];
  /** Runs on the start commit (syzbot: 20) and on every other commit (syzbot: 10). */
  startRuns: number;
  runsPerCommit: number;
  /** Runs a worker starts at once (its VMs); absent = `runsPerCommit`. A request of more runs
   *  takes one wave of them after another, so fewer runs may cost less time. */
  runsAtOnce?: number;
  /** How many commits may be tested at once. */
  parallelism: number;
  /** Crash-family equality, from report/; injected so core stays free of it. */
  sameCrash: (a: CrashSummary, b: CrashSummary) => boolean;
  /** Graded crash identity, from report/; absent = 1 when sameCrash, else 0. */
  similarity?: CrashSimilarity;
  /** Seed for any randomness the strategy uses. */
  seed: number;
  /** The crash being bisected; absent = the commonest crash of the start commit's runs. */
  target?: CrashSummary;
  /** Remedies the builder can apply and the crash types each one removes (e.g. LOCKDEP). */
  remedies?: RemedyRule[];
  /** Relative cost of a build and of one batch of `runsPerCommit` runs; absent = equal. */
  cost?: TestCost;
}

/** A build option that removes a class of crashes, e.g. `disable:LOCKDEP` removes type LOCKDEP. */
export interface RemedyRule {
  name: string;
  removesTypes: string[];
}

export interface TestCost {
  build: number;
  testBatch: number;
}

/** Build a commit (with these remedies) and run the reproducer `runs` more times; 0 = build only. */
export interface TestRequest {
  commit: string;
  runs: number;
  remedies: string[];
  /** More runs of a commit whose build is recorded, started beside its requests in flight on
   *  another worker: a side that lacks several batches gets them at once, not one after another. */
  alongside?: boolean;
}

/** What a strategy says about a commit, for the log. `new` = bad in cause bisection. */
export type CommitVerdict = "good" | "bad" | "skip";

/** Narrative the log prints; the strategy knows why it picked what it picked. */
export type Note =
  | { kind: "release"; tag: string; commit: string }
  | { kind: "bisect-start"; bad: string; good: string[] }
  | { kind: "bisect-step"; commit: string; revisionsLeft: number; stepsLeft: number }
  | { kind: "verdict"; commit: string; verdict: CommitVerdict }
  | { kind: "target"; crash: CrashSummary }
  | { kind: "info"; text: string };

export type NoCulpritReason =
  /** The start commit never showed the crash. */
  | "not-reproduced"
  /** The oldest release tested still crashes (cause) / the newest still crashes (fix). */
  | "oldest-crashes"
  /** No commit older than start could be tested. */
  | "untestable"
  /** The strategy is confident the bug predates the range or was a flake. */
  | "not-in-range";

/** How far back a cause bisection looked: the oldest commits of the range it searched, and what
 *  bounded it there: the job's good commit, the newest clean release, the job's `oldest` bound,
 *  the repository's first commits, or the range it was given (the simulator's). */
export interface SearchedRange {
  bound: "good" | "release" | "oldest" | "roots" | "range";
  oldest: string[];
  /** bound = release: its tag. */
  tag?: string;
}

export type StrategyResult = (
  | { outcome: "culprit"; culprit: string; parent?: string; confidence: number }
  | { outcome: "inconclusive"; candidates: string[]; confidence: number }
  | { outcome: "no-culprit"; reason: NoCulpritReason; detail: string; confidence: number }
) & { searched?: SearchedRange };

export type Step =
  | { kind: "test"; tests: TestRequest[]; notes: Note[] }
  | { kind: "done"; result: StrategyResult; notes: Note[] };

export interface Strategy {
  readonly name: string;
  /** `inFlight`: tests requested earlier and not finished yet (their results are not in `observations`). */
  next(problem: BisectProblem, observations: readonly Observation[], inFlight?: readonly TestRequest[]): Step;
}
