// Turns raw observations into what the Bayesian strategy reasons with: per run, target / clean /
// masked / unusable; per binary (commits sharing a signature are one binary), pooled counts.

import type { Dag } from "./dag.js";
import type { CrashSummary, Observation, RunOutcome } from "./outcome.js";
import { classifyRun, mostFrequentCrash, type EvidenceCounts, type SameCrash } from "./evidence.js";

export type { EvidenceCounts } from "./evidence.js";


export function emptyCounts(): EvidenceCounts {
  return { target: 0, clean: 0, masked: 0, unusable: 0 };
}

/** One binary: every commit known to build to the same signature, with all their runs pooled. */
export interface EvidenceGroup {
  /** Dag indices of the commits in the group, ascending. */
  members: number[];
  counts: EvidenceCounts;
  /** Counts of runs made with the currently active remedies only (masking is judged on these). */
  current: EvidenceCounts;
  /** Types of the crashes that masked the target under the active remedies, with counts. */
  maskingTypes: Map<string, number>;
}

export interface Evidence {
  groups: EvidenceGroup[];
  /** Dag index → index into `groups`, for commits with any observation that built or ran. */
  groupOf: Map<number, number>;
  /** Commits whose build failed. */
  buildFailed: Set<number>;
  /** observationKey-like `${index}|${remedies}` of builds that succeeded (cheap to test again). */
  built: Set<string>;
  /** Remedies applied so far: once applied, every later build uses them. */
  activeRemedies: string[];
}

export function remedyKey(remedies: readonly string[]): string {
  return [...remedies].sort().join(",");
}

export function builtKey(index: number, remedies: readonly string[]): string {
  return `${index}|${remedyKey(remedies)}`;
}

/** Remedies ever applied, sorted: applying one is a commitment for the rest of the bisection. */
export function appliedRemedies(observations: readonly Observation[]): string[] {
  const all = new Set<string>();
  for (const o of observations) for (const r of o.remedies) all.add(r);
  return [...all].sort();
}

export function gatherEvidence(
  dag: Dag,
  observations: readonly Observation[],
  target: CrashSummary,
  sameCrash: SameCrash,
  activeRemedies: readonly string[],
): Evidence {
  // Union-find over commits and signatures: two commits with one signature are one binary.
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== undefined && parent.get(root) !== root) root = parent.get(root) as string;
    let at = x;
    while (at !== root) {
      const next = parent.get(at) as string;
      parent.set(at, root);
      at = next;
    }
    return root;
  };
  const union = (a: string, b: string): void => {
    if (!parent.has(a)) parent.set(a, a);
    if (!parent.has(b)) parent.set(b, b);
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra, rb);
  };
  const buildFailed = new Set<number>();
  const built = new Set<string>();
  const active = remedyKey(activeRemedies);
  const known: { index: number; obs: Observation }[] = [];
  for (const obs of observations) {
    if (!dag.has(obs.commit)) continue;
    const index = dag.index(obs.commit);
    const node = `c${index}`;
    if (!parent.has(node)) parent.set(node, node);
    if (obs.build?.kind === "failed") {
      buildFailed.add(index);
      continue;
    }
    if (obs.build?.kind === "ok") {
      union(node, `s${obs.build.signature}`);
      built.add(builtKey(index, obs.remedies));
    }
    known.push({ index, obs });
  }
  const byRoot = new Map<string, EvidenceGroup>();
  const groupOf = new Map<number, number>();
  const groups: EvidenceGroup[] = [];
  const groupFor = (index: number): EvidenceGroup => {
    const root = find(`c${index}`);
    let group = byRoot.get(root);
    if (!group) {
      group = { members: [], counts: emptyCounts(), current: emptyCounts(), maskingTypes: new Map() };
      byRoot.set(root, group);
      groups.push(group);
    }
    if (!groupOf.has(index)) {
      groupOf.set(index, groups.indexOf(group));
      group.members.push(index);
    }
    return group;
  };
  for (const { index, obs } of known) {
    const group = groupFor(index);
    const isCurrent = remedyKey(obs.remedies) === active;
    for (const run of obs.runs) {
      const evidence = classifyRun(run, target, sameCrash);
      group.counts[evidence]++;
      if (isCurrent) {
        group.current[evidence]++;
        if (evidence === "masked" && run.kind === "crash") {
          group.maskingTypes.set(run.crash.type, (group.maskingTypes.get(run.crash.type) ?? 0) + 1);
        }
      }
    }
  }
  for (const g of groups) g.members.sort((a, b) => a - b);
  return { groups, groupOf, buildFailed, built, activeRemedies: [...activeRemedies].sort() };
}

/**
 * The crash to bisect when the problem names none, from the start commit's runs: the commonest
 * title once it is clear (seen twice, and twice as often as any other), or, with `settle`, the
 * commonest whatever the margin.
 */
export function startTarget(runs: readonly RunOutcome[], settle: boolean): CrashSummary | undefined {
  const counts = new Map<string, number>();
  for (const run of runs) if (run.kind === "crash") counts.set(run.crash.title, (counts.get(run.crash.title) ?? 0) + 1);
  const ranked = [...counts.values()].sort((a, b) => b - a);
  const first = ranked[0] ?? 0;
  const second = ranked[1] ?? 0;
  if (!settle && (first < 2 || first < 2 * second)) return undefined;
  return mostFrequentCrash(runs);
}

