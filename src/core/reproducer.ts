// Whether the reproducer can run at all. A start commit on which no run could run says the job
// is wrong (a bad path, a syntax the tree does not know). Older commits on which it cannot run
// (Lua before `<const>`: "unknown attribute 'const'") are not evidence either way, but where they
// end is an answer: the first commit on which the reproducer runs, if it crashes there.

import { mostFrequentCrash } from "./evidence.js";
import type { Observation, RunOutcome } from "./outcome.js";
import type { BisectProblem, Step, Strategy } from "./strategy.js";

type Untestable = Extract<RunOutcome, { kind: "untestable" }>;

/** The first failure, when the start commit has finished runs and none of them could run. */
export function reproducerFailsOnStart(observations: readonly Observation[], start: string): Untestable | undefined {
  const runs = observations.filter((o) => o.commit === start && o.remedies.length === 0).flatMap((o) => o.runs);
  if (runs.length === 0) return undefined;
  const failed = runs.filter((r): r is Untestable => r.kind === "untestable");
  return failed.length === runs.length ? failed[0] : undefined;
}

/** Where the reproducer starts to run, along the start commit's first parents. */
export type ReproducerBoundary =
  /** Test this commit next: it lies between the newest commit that cannot run and the oldest that crashes. */
  | { kind: "test"; commit: string }
  /** `first` crashes with the target and its parent `parent` could not run the reproducer at all. */
  | { kind: "found"; first: string; parent: string; reason: string };

/**
 * The boundary between "could not run" and "crashes with the target" on the first-parent line
 * below the start commit; undefined when the history has another shape (a clean or masked commit
 * in between, no commit that could not run, a build failure at the edge).
 */
export function reproducerBoundary(problem: BisectProblem, observations: readonly Observation[]): ReproducerBoundary | undefined {
  if (problem.kind !== "cause") return undefined;
  const runsOf = new Map<string, RunOutcome[]>();
  const builtOk = new Set<string>();
  for (const o of observations) {
    runsOf.set(o.commit, [...(runsOf.get(o.commit) ?? []), ...o.runs]);
    if (o.build?.kind === "ok") builtOk.add(o.commit);
  }
  const target = problem.target ?? mostFrequentCrash(runsOf.get(problem.start) ?? []);
  if (!target) return undefined;
  const dag = problem.graph;
  // Newest first: the start commit, then its first parent, and so on.
  const line: number[] = [];
  for (let at: number | undefined = dag.index(problem.start); at !== undefined; at = dag.parents[at]?.[0]) line.push(at);
  let oldestCrash: number | undefined;
  let untested: number[] = [];
  for (const at of line) {
    const hash = dag.hash(at);
    const runs = runsOf.get(hash) ?? [];
    if (runs.length === 0) {
      // A commit that did not build says nothing; one not tried yet may be the boundary.
      if (!observations.some((o) => o.commit === hash && o.build?.kind === "failed")) untested.push(at);
      continue;
    }
    if (runs.some((r) => r.kind === "crash" && problem.sameCrash(r.crash, target))) {
      oldestCrash = at;
      untested = [];
      continue;
    }
    const failed = runs.filter((r): r is Untestable => r.kind === "untestable");
    if (failed.length !== runs.length || !builtOk.has(hash) || oldestCrash === undefined) return undefined;
    if (untested.length > 0) return { kind: "test", commit: dag.hash(untested[Math.floor(untested.length / 2)] as number) };
    const first = dag.hash(oldestCrash);
    // Only a direct parent makes `first` the boundary; a build-broken stretch between leaves it open.
    if (dag.parents[oldestCrash]?.[0] !== at) return undefined;
    return { kind: "found", first, parent: hash, reason: (failed[0] as Untestable).reason };
  }
  return undefined;
}

/**
 * A strategy that, when `inner` gives up without a culprit, looks for the commit where the
 * reproducer starts to run and names it, saying that older commits could not run the reproducer.
 */
export function withReproducerBoundary(inner: Strategy): Strategy {
  return {
    name: inner.name,
    next(problem, observations, inFlight): Step {
      const step = inner.next(problem, observations, inFlight);
      if (step.kind !== "done" || step.result.outcome === "culprit") return step;
      if (step.result.outcome === "no-culprit" && step.result.reason === "not-reproduced") return step;
      const boundary = reproducerBoundary(problem, observations);
      if (!boundary) return step;
      if (boundary.kind === "test") {
        const text = "older commits could not run the reproducer: looking for the first commit where it runs";
        return { kind: "test", tests: [{ commit: boundary.commit, runs: problem.runsPerCommit, remedies: [] }], notes: [...step.notes, { kind: "info", text }] };
      }
      const text = `older commits could not run the reproducer (${boundary.parent}: ${boundary.reason}); ${boundary.first} is the first commit where it runs, and it crashes there`;
      return {
        kind: "done",
        result: { outcome: "culprit", culprit: boundary.first, parent: boundary.parent, confidence: 1 },
        notes: [...step.notes, { kind: "info", text }],
      };
    },
  };
}
