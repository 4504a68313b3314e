// Where a masked stretch ends. When every commit below some point crashes first with another
// crash (Lua's string.rep: everything older than 5cfc725a hangs), the candidates cannot be told
// apart, and the answer people act on is "the first bad commit is at or below E; everything older
// than E is masked", with E the oldest commit that shows the target. To the posterior finding E
// removes only a few candidates, so it is searched for its own sake: a bisection of the first
// parents between the newest masked commit and the oldest one that showed the target. Pure.

import type { Dag } from "./dag.js";
import type { SameCrash } from "./evidence.js";
import { entropy2 } from "./bayes-choose.js";
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
      const probe = bestProbe(between.map(status), (i) => isCandidate.has(between[i] as number));
      return probe === undefined ? undefined : between[probe];
    }
    // Anything else that ran says the stretch is not one masked run up to here.
    if (seen === "target" || seen === "clean") return undefined;
    between.push(c);
  }
  return undefined;
}

/**
 * Where to probe a stretch (newest first; a usable commit beyond each end) for the edge between
 * its two sides: the untested position with the most expected bits, the split's entropy times the
 * chance the commit builds and runs. Commits that did not (broken, unusable) say nothing about the
 * edge, and broken stretches are contiguous: a commit between two of them is taken for one of
 * them, and beside one, the nearer it is the likelier it belongs to it (the stretch's far end is
 * anywhere up to the next usable commit). Halving alone would step through a broken stretch one
 * build at a time (Lua's gmatch-depth: 57 failed builds in a row). Undefined: nothing worth probing.
 */
export function bestProbe(stretch: readonly MaskState[], probeable: (i: number) => boolean): number | undefined {
  const length = stretch.length;
  const silent = (i: number): boolean => stretch[i] === "broken" || stretch[i] === "unusable";
  let best: number | undefined;
  let bestScore = 0;
  for (let i = 0; i < length; i++) {
    if (stretch[i] !== "untested" || !probeable(i)) continue;
    let newer = i - 1;
    while (newer >= 0 && stretch[newer] === "untested") newer--;
    let older = i + 1;
    while (older < length && stretch[older] === "untested") older++;
    const newerSilent = newer >= 0 && silent(newer);
    const olderSilent = older < length && silent(older);
    let usable = 1;
    if (newerSilent && olderSilent) usable = 0;
    else if (newerSilent) usable = (i - newer) / (length - newer);
    else if (olderSilent) usable = (older - i) / (older + 1);
    const split = (i + 1) / (length + 1);
    const score = usable * entropy2(split);
    if (score > bestScore + 1e-12) {
      bestScore = score;
      best = i;
    }
  }
  return best;
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
  if (status(newest) !== "target" || parent === undefined || !maskedBelowSilence(dag, parent, status)) return false;
  // Broken or unusable commits say nothing either way; any other run did.
  const tested = byAge.slice(0, -1).filter((c) => status(c) === "masked" || status(c) === "clean" || status(c) === "target");
  if (tested.some((c) => status(c) !== "masked") || tested.length < MASKED_SAMPLES) return false;
  const olderHalf = new Set(byAge.slice(0, Math.ceil(byAge.length / 2)));
  return tested.some((c) => olderHalf.has(c));
}

/**
 * `from` is masked, or leads down its first parents to a masked commit through commits that say
 * nothing (broken, unusable) and untested ones between two of those: the edge lies in a stretch
 * no test can look into, and nothing left to probe would move it.
 */
function maskedBelowSilence(dag: Dag, from: number, status: (c: number) => MaskState): boolean {
  let silentSeen = false;
  // Untested commits since the last silent one: probeable unless another silent one follows.
  let untestedOpen = false;
  for (let c: number | undefined = from; c !== undefined; c = (dag.parents[c] as readonly number[])[0]) {
    const seen = status(c);
    if (seen === "masked") return !untestedOpen;
    if (seen === "untested") {
      if (!silentSeen) return false;
      untestedOpen = true;
    } else if (seen === "broken" || seen === "unusable") {
      silentSeen = true;
      untestedOpen = false;
    } else {
      return false;
    }
  }
  return false;
}

/**
 * What a commit's runs say about a masked stretch: "masked" only when every run that said anything
 * crashed first with another crash (one clean run says the bug may be absent there: a masking
 * crash that wins only sometimes is no stretch to search the end of); "clean" when some run was.
 */
export type MaskState = "untested" | "target" | "clean" | "masked" | "broken" | "unusable";

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
