// When to stop: the confidence target, the verification a single culprit needs before it is
// reported, and the budget after which the honest answer is "inconclusive".

import type { Dag } from "./dag.js";
import type { BisectKind } from "./strategy.js";
import type { Evidence, EvidenceCounts } from "./bayes-evidence.js";

export const CONFIDENCE_TARGET = 0.95;

/** Clean runs needed on the clean side so that a bug reproducing with chance p would have shown (miss ≤ 5%). */
export function cleanRunsNeeded(chance: number): number {
  if (chance >= 0.999) return 1;
  if (chance <= 0) return Infinity;
  return Math.min(80, Math.ceil(Math.log(0.05) / Math.log1p(-chance)));
}

export type Verification =
  | { kind: "verified" }
  /** These commits need (more) runs before the culprit can be reported; `ownOnly` of them only
   *  need a few runs of their own (their signature's pooled evidence is already enough). */
  | { kind: "test"; commits: number[]; ownOnly?: number[] }
  /** A commit that must be tested cannot be (build broken, always masked). */
  | { kind: "impossible"; commits: number[] }
  /** A clean-side commit crashed in its own runs although its build equals clean ones: the crash
   *  depends on something the build signature does not cover, and evidence shared by signature
   *  cannot be trusted here. */
  | { kind: "contradiction"; commits: number[] };

function countsOf(evidence: Evidence, commit: number): EvidenceCounts | undefined {
  const g = evidence.groupOf.get(commit);
  return g === undefined ? undefined : evidence.groups[g]?.counts;
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
): Verification {
  const parents = dag.parents[culprit] as readonly number[];
  const crashing = kind === "cause" ? [culprit] : [...parents];
  const clean = kind === "cause" ? [...parents] : [culprit];
  const need = cleanRunsNeeded(chance);
  const missing: number[] = [];
  const ownOnly: number[] = [];
  const contradicted: number[] = [];
  // A side known only through other commits of its signature is tested itself: equal builds
  // are assumed to behave alike, and the culprit is where that assumption would hurt most.
  const shared = (c: number): boolean => (evidence.groups[evidence.groupOf.get(c) ?? -1]?.members.length ?? 0) > 1;
  for (const c of crashing) {
    if ((countsOf(evidence, c)?.target ?? 0) === 0) missing.push(c);
    else if (shared(c)) {
      const own = ownCounts(c);
      if (own && own.target === 0 && own.clean >= need) contradicted.push(c);
      else if (!own || own.target === 0) ownOnly.push(c);
    }
  }
  for (const c of clean) {
    const counts = countsOf(evidence, c);
    if (!counts || counts.clean < need) missing.push(c);
    if (!shared(c)) continue;
    const own = ownCounts(c);
    if (own && own.target > 0) contradicted.push(c);
    else if ((!own || own.target + own.clean === 0) && !missing.includes(c)) ownOnly.push(c);
  }
  if (contradicted.length > 0) return { kind: "contradiction", commits: contradicted };
  if (missing.length === 0 && ownOnly.length > 0) {
    const blocked = ownOnly.filter(untestable);
    if (blocked.length > 0) return { kind: "impossible", commits: blocked };
    return { kind: "test", commits: ownOnly, ownOnly };
  }
  if (missing.length === 0) return { kind: "verified" };
  const blocked = missing.filter(untestable);
  if (blocked.length > 0) return { kind: "impossible", commits: blocked };
  return { kind: "test", commits: missing };
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
export function verifyEverywhere(dag: Dag, kind: BisectKind, evidence: Evidence, untestable: (commit: number) => boolean): Verification {
  const ends: number[] = [];
  for (let i = 0; i < dag.size; i++) {
    const edge = kind === "cause" ? (dag.parents[i] as readonly number[]).length === 0 : (dag.children[i] as readonly number[]).length === 0;
    if (edge) ends.push(i);
  }
  const missing = ends.filter((c) => (countsOf(evidence, c)?.target ?? 0) === 0);
  if (missing.length === 0) return { kind: "verified" };
  const blocked = missing.filter(untestable);
  if (blocked.length > 0) return { kind: "impossible", commits: blocked };
  return { kind: "test", commits: missing };
}
