// Where a masked stretch ends. When every commit below some point crashes first with another
// crash (Lua's string.rep: everything older than 5cfc725a hangs), the candidates cannot be told
// apart, and the answer people act on is "the first bad commit is at or below E; everything older
// than E is masked", with E the oldest commit that shows the target. To the posterior finding E
// removes only a few candidates, so it is searched for its own sake: a bisection of the first
// parents between the newest masked commit and the oldest one that showed the target. Pure.

import type { Dag } from "./dag.js";
import type { SameCrash } from "./evidence.js";
import { commitStatus } from "./candidateRanges.js";
import type { CrashSummary, Observation } from "./outcome.js";

/**
 * The commit to test next to find the masked stretch's end below the newest candidate, or
 * undefined when there is none to find (the newest candidate did not show the target, no masked
 * commit lies below it on its first parents) or it is found (no untested candidate between).
 * `observations`: those under the active remedies.
 */
export function maskEdgeToTest(dag: Dag, candidates: readonly number[], observations: readonly Observation[], target: CrashSummary, sameCrash: SameCrash): number | undefined {
  if (candidates.length === 0) return undefined;
  const status = maskStateOf(dag, observations, target, sameCrash);
  const isCandidate = new Set(candidates);
  const newest = Math.max(...candidates);
  if (status(newest) !== "target") return undefined;
  const between: number[] = [];
  for (let c = (dag.parents[newest] as readonly number[])[0]; c !== undefined; c = (dag.parents[c] as readonly number[])[0]) {
    const seen = status(c);
    if (seen === "masked") {
      // Newest first: the middle one halves the stretch where the masking ends.
      const open = between.filter((b) => isCandidate.has(b) && status(b) === "untested");
      return open[Math.floor(open.length / 2)];
    }
    // Anything else that ran says the stretch is not one masked run up to here.
    if (seen === "target" || seen === "clean") return undefined;
    between.push(c);
  }
  return undefined;
}

/** Tested candidates, all masked, that say a found edge has only the mask below it. */
export const MASKED_SAMPLES = 3;

/**
 * The masked stretch's end is found, and the candidates have nothing else to show: the newest
 * shows the target, its first parent is masked, every other tested candidate is masked too, and
 * at least MASKED_SAMPLES of them were tested, one in the older half of the candidates (not only
 * the edge search's, which crowd the edge). Testing more of the stretch would cost a batch of
 * masked runs each, and the posterior (to which a masked run says nothing) would go on asking.
 */
export function maskedStretchFound(dag: Dag, candidates: readonly number[], observations: readonly Observation[], target: CrashSummary, sameCrash: SameCrash): boolean {
  if (candidates.length === 0) return false;
  const status = maskStateOf(dag, observations, target, sameCrash);
  const byAge = [...candidates].sort((a, b) => a - b);
  const newest = byAge[byAge.length - 1] as number;
  const parent = (dag.parents[newest] as readonly number[])[0];
  if (status(newest) !== "target" || parent === undefined || status(parent) !== "masked") return false;
  // Broken or unusable commits say nothing either way; any other run did.
  const tested = byAge.slice(0, -1).filter((c) => status(c) === "masked" || status(c) === "clean" || status(c) === "target");
  if (tested.some((c) => status(c) !== "masked") || tested.length < MASKED_SAMPLES) return false;
  const olderHalf = new Set(byAge.slice(0, Math.ceil(byAge.length / 2)));
  return tested.some((c) => olderHalf.has(c));
}

/**
 * What a commit's runs say about a masked stretch: "masked" only when every run that said anything
 * crashed first with another crash (one clean run says the bug may be absent there: a masking
 * crash that wins only sometimes is no stretch to search the end of); "clean" when some run was.
 */
type MaskState = "untested" | "target" | "clean" | "masked" | "broken" | "unusable";

function maskStateOf(dag: Dag, observations: readonly Observation[], target: CrashSummary, sameCrash: SameCrash): (c: number) => MaskState {
  const byCommit = new Map<string, Observation[]>();
  for (const o of observations) byCommit.set(o.commit, [...(byCommit.get(o.commit) ?? []), o]);
  return (c) => {
    const { status, counts } = commitStatus(byCommit.get(dag.hash(c)) ?? [], target, sameCrash);
    // commitStatus calls a commit masked when most of its runs were; here one clean run is enough to say otherwise.
    if (status === "broken" || status === "untested" || status === "target") return status;
    if (counts.clean > 0) return "clean";
    return counts.masked > 0 ? "masked" : "unusable";
  };
}
