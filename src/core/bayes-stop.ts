// When to stop: the confidence target, the verification a single culprit needs before it is
// reported, and the budget after which the honest answer is "inconclusive".

import type { Dag } from "./dag.js";
import type { BisectKind } from "./strategy.js";
import { batchFailureRisk, type Evidence, type EvidenceCounts } from "./bayes-evidence.js";
import { ownReproChanceQuantile } from "./bayes-posterior.js";

export const CONFIDENCE_TARGET = 0.95;

/** Clean runs needed on the clean side so that a bug reproducing with chance p would have shown (miss ≤ `miss`). */
export function cleanRunsNeeded(chance: number, miss = 0.05): number {
  if (chance >= 0.999) return 1;
  if (chance <= 0) return Infinity;
  return Math.min(80, Math.ceil(Math.log(miss) / Math.log1p(-chance)));
}

/** Miss allowed on the clean side of a culprit, at the crashing side's own chance (a wrong single culprit should stay rare, ≤ 2%). */
const LOCAL_MISS = 0.01;
/** Chance allowed, under the learnt batch-failure rate, that every clean batch on the clean side was
 *  dead instead: a wrong single culprit must stay rare (≤ 2% of any kind of world), and this is
 *  only one way to reach one. */
const BATCH_MISS = 0.0005;
/** Chance allowed that every half batch of a clean side's own check was dead: the check only
 *  guards the assumption that equal builds behave alike, which rarely fails. */
const OWN_MISS = 0.01;

export type Verification =
  | { kind: "verified" }
  /** These commits need (more) runs before the culprit can be reported; `ownOnly` of them only
   *  need a few runs of their own (their signature's pooled evidence is already enough);
   *  `batches[i]`: how many batches of runs `commits[i]` still lacks by the counts so far. */
  | { kind: "test"; commits: number[]; ownOnly?: number[]; batches?: number[] }
  /** A commit that must be tested cannot be (build broken, always masked). */
  | { kind: "impossible"; commits: number[] }
  /** A clean-side commit crashed in its own runs although its build equals clean ones: the crash
   *  depends on something the build signature does not cover, and evidence shared by signature
   *  cannot be trusted here. */
  | { kind: "contradiction"; commits: number[] }
  /** A clean-side commit showed the target: the pair is no culprit and its parent, whatever the posterior says. */
  | { kind: "clean-side-crashed"; commits: number[] };

function countsOf(evidence: Evidence, commit: number): EvidenceCounts | undefined {
  const g = evidence.groupOf.get(commit);
  return g === undefined ? undefined : evidence.groups[g]?.counts;
}

/** Counts of runs made with the active remedies: culprit and parent are compared under the same remedies. */
function currentOf(evidence: Evidence, commit: number): EvidenceCounts | undefined {
  const g = evidence.groupOf.get(commit);
  return g === undefined ? undefined : evidence.groups[g]?.current;
}

/** Batches at a commit in which the target never showed. */
function cleanBatches(evidence: Evidence, commit: number): number {
  const g = evidence.groups[evidence.groupOf.get(commit) ?? -1];
  return g ? g.batches.filter((b) => b.target === 0 && b.clean > 0).length : 0;
}

/**
 * How many batches without the target a clean side needs so that, under the posterior's belief
 * about the batch-failure rate, dead batches explain it at most BATCH_MISS of the time; at least
 * two when batches hold several runs: a dead batch looks exactly like a clean one.
 */
export function cleanBatchesNeeded(batchFailure: Float64Array | undefined, batchSize: number): number {
  const least = batchSize > 1 ? 2 : 1;
  if (!batchFailure) return least;
  // Ends: the grid's highest rate to the k-th power falls below BATCH_MISS for a k of a few.
  let k = least;
  while (batchFailureRisk(batchFailure, k) > BATCH_MISS) k++;
  return k;
}

/**
 * Before naming `culprit`: the crashing side must have shown the target, and the clean side must
 * be clean over enough runs for the learned chance. Cause: crashing side = the culprit, clean side
 * = its parents. Fix: the other way round.
 */
export function verifyCulprit(
  dag: Dag,
  kind: BisectKind,
  evidence: Evidence,
  culprit: number,
  chance: number,
  untestable: (commit: number) => boolean,
  /** The commit's own runs, not pooled with commits of the same signature; undefined when it has none. */
  ownCounts: (commit: number) => EvidenceCounts | undefined = () => undefined,
  /** Runs of one batch (the VM slots). */
  batchSize = 1,
  /** The posterior's chance spread: above 0 the chance differs along the range, and the crashing side's own runs bound it even for single-run batches. */
  spread = 0,
  /** A good end the search found (a release that tested clean): the clean side of a culprit whose
   *  parents all lie outside the range, since its being good rests on that end's runs alone. */
  boundary?: number,
  /** The posterior's belief about the batch-failure rate (Posterior.batchFailure); absent: batches do not fail whole. */
  batchFailure?: Float64Array,
): Verification {
  const inRange = dag.parents[culprit] as readonly number[];
  const parents = kind === "cause" && inRange.length === 0 && boundary !== undefined && boundary !== culprit ? [boundary] : inRange;
  const crashing = kind === "cause" ? [culprit] : [...parents];
  const clean = kind === "cause" ? [...parents] : [culprit];
  // The chance may be lower here than where it was learnt: the crashing side's own runs bound it
  // (their 10% quantile: a lucky streak there must not make the clean side look cleaner than it is).
  const local = Math.min(...crashing.map((c) => {
    const own = currentOf(evidence, c);
    return own ? ownReproChanceQuantile(own.target, own.clean, 0.1) : chance;
  }));
  // With one run per batch the crashing side's own rate is a single run: it bounds nothing unless the chance is known to spread.
  const need = spread > 0 || batchSize > 1 ? Math.max(cleanRunsNeeded(chance), cleanRunsNeeded(local, LOCAL_MISS)) : cleanRunsNeeded(chance);
  const batchesNeeded = cleanBatchesNeeded(batchFailure, batchSize);
  const missing: number[] = [];
  /** Batches a clean side still lacks: the clean runs it is short of, and the clean batches. */
  const lacking = new Map<number, number>();
  const ownOnly: number[] = [];
  const contradicted: number[] = [];
  const crashed: number[] = [];
  // A side known only through other commits of its signature is tested itself: equal builds
  // are assumed to behave alike, and the culprit is where that assumption would hurt most.
  const shared = (c: number): boolean => (evidence.groups[evidence.groupOf.get(c) ?? -1]?.members.length ?? 0) > 1;
  for (const c of crashing) {
    if ((currentOf(evidence, c)?.target ?? 0) === 0) missing.push(c);
    else if (shared(c)) {
      const own = ownCounts(c);
      if (own && own.target === 0 && own.clean >= cleanRunsNeeded(chance)) contradicted.push(c);
      else if (!own || own.target === 0) ownOnly.push(c);
    }
  }
  // A clean side's own check stands alone against dead batches: under a learnt batch-failure
  // rate one half batch could be dead as easily as clean (unseen-3a's world 30 at batches of three).
  const ownHalf = Math.ceil(Math.max(1, batchSize) / 2);
  let ownBatches = 1;
  if (batchFailure && batchSize > 1) while (batchFailureRisk(batchFailure, ownBatches) > OWN_MISS) ownBatches++;
  for (const c of clean) {
    const counts = currentOf(evidence, c);
    if ((counts?.target ?? 0) >= 1) crashed.push(c);
    if (!counts || counts.clean < need || cleanBatches(evidence, c) < batchesNeeded) {
      missing.push(c);
      const runsShort = Math.ceil((need - (counts?.clean ?? 0)) / Math.max(1, batchSize));
      lacking.set(c, Math.max(1, runsShort, batchesNeeded - cleanBatches(evidence, c)));
    }
    if (!shared(c)) continue;
    const own = ownCounts(c);
    if (own && own.target > 0) contradicted.push(c);
    else if ((!own || own.clean < ownBatches * ownHalf) && !missing.includes(c)) ownOnly.push(c);
  }
  if (contradicted.length > 0) return { kind: "contradiction", commits: contradicted };
  if (crashed.length > 0) return { kind: "clean-side-crashed", commits: crashed };
  if (missing.length === 0 && ownOnly.length > 0) {
    const blocked = ownOnly.filter(untestable);
    if (blocked.length > 0) return { kind: "impossible", commits: blocked };
    return { kind: "test", commits: ownOnly, ownOnly };
  }
  if (missing.length === 0) return { kind: "verified" };
  const blocked = missing.filter(untestable);
  if (blocked.length > 0) return { kind: "impossible", commits: blocked };
  return { kind: "test", commits: missing, batches: missing.map((c) => lacking.get(c) ?? 1) };
}

/**
 * Commits of one signature that behaved differently in their own runs: one showed the target, and
 * another stayed clean over enough runs (and a full batch at least) that a bug reproducing with
 * `chance` would have shown. Equal builds are assumed to behave
 * alike; where they do not, the crash depends on something the declared artifacts miss (a change
 * to a script the reproducer loads, a firmware file), and pooling their runs hides the culprit.
 * Checked on every step, not only when a culprit is verified: pooled, such a pair reads as dead
 * batches of one binary, and the leading culprit may never be the commit where they differ.
 */
export function signaturesContradicted(
  evidence: Evidence,
  ownCounts: (commit: number) => EvidenceCounts | undefined,
  chance: number,
  batchSize: number,
): boolean {
  // A full batch at least: a dead one is possible, but distrust only costs runs, never an answer.
  const need = Math.max(cleanRunsNeeded(chance, LOCAL_MISS), batchSize);
  for (const group of evidence.groups) {
    if (group.members.length < 2 || group.counts.target === 0) continue;
    const own = group.members.map(ownCounts);
    const crashed = own.some((c) => (c?.target ?? 0) > 0);
    const clean = own.some((c) => c !== undefined && c.target === 0 && c.clean >= need);
    if (crashed && clean) return true;
  }
  return false;
}

/** Batches (builds and run batches) one bisection may spend before it settles for "inconclusive". */
export function batchBudget(commits: number): number {
  return 30 + 5 * Math.ceil(Math.log2(commits + 1));
}

/**
 * Before saying "present everywhere" (cause: older than the range; fix: never fixed) the target
 * must have been seen at the range's end the claim rests on: every oldest commit (cause) or every
 * newest commit (fix). Its prior is lumped, so without this a few untested commits at the end
 * could be outweighed without ever being tested.
 */
export function verifyEverywhere(
  dag: Dag,
  kind: BisectKind,
  evidence: Evidence,
  untestable: (commit: number) => boolean,
  ownCounts: (commit: number) => EvidenceCounts | undefined = () => undefined,
): Verification {
  const ends: number[] = [];
  for (let i = 0; i < dag.size; i++) {
    const edge = kind === "cause" ? (dag.parents[i] as readonly number[]).length === 0 : (dag.children[i] as readonly number[]).length === 0;
    if (edge) ends.push(i);
  }
  // An end known only through equal builds must show the target in its own runs; clean own runs there contradict the signature.
  const shared = (c: number): boolean => (evidence.groups[evidence.groupOf.get(c) ?? -1]?.members.length ?? 0) > 1;
  const contradicted = ends.filter((c) => shared(c) && (countsOf(evidence, c)?.target ?? 0) >= 1 && (ownCounts(c)?.target ?? 0) === 0 && (ownCounts(c)?.clean ?? 0) >= 5);
  if (contradicted.length > 0) return { kind: "contradiction", commits: contradicted };
  const missing = ends.filter((c) => (countsOf(evidence, c)?.target ?? 0) < 1 || (shared(c) && (ownCounts(c)?.target ?? 0) < 1));
  if (missing.length === 0) return { kind: "verified" };
  const blocked = missing.filter(untestable);
  if (blocked.length > 0) return { kind: "impossible", commits: blocked };
  return { kind: "test", commits: missing };
}
