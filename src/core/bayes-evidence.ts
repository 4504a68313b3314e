// Turns raw observations into what the Bayesian strategy reasons with: per run, target / clean /
// masked / unusable; per binary (commits sharing a signature are one binary), pooled counts.

import type { Dag } from "./dag.js";
import type { CrashSimilarity, CrashSummary, Observation, RunOutcome } from "./outcome.js";
import { RELATED, classifyRun, mostFrequentCrash, targetLikeness, type EvidenceCounts, type SameCrash } from "./evidence.js";

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
  /** Target and clean runs per batch (consecutive `batchSize` runs of one build), for batch-level failure. */
  batches: BatchCounts[];
}

export interface BatchCounts {
  target: number;
  clean: number;
}

/**
 * Batch-failure rates considered (a whole batch shows nothing: a bad host, a broken VM image), and
 * their prior. Dead batches where the bug is read as clean ones, so the rate is learnt low exactly
 * where it matters; the prior must not add to that. With 0.7 on "never" and nothing above 0.35,
 * worlds whose every batch could fail (the suite's batch-failure family, 0.1–0.3) got 6 wrong
 * culprits at ≥ 0.99 in 720 bisections, and at 0.3–0.5 (bench/scenarios/batch-failure-harsh.json)
 * 8% of them; with 0.55 and a point at 0.5, none in the family and one in 120 on the harsh set. A
 * flatter prior (0.4) was as right and cost 7% more wall on worlds without dead batches, where
 * verification asks the clean side more batches (docs/simulator.md, session 11).
 */
export const BATCH_FAILURE_GRID: readonly number[] = [0, 0.05, 0.1, 0.2, 0.35, 0.5];
const BATCH_FAILURE_PRIOR: readonly number[] = [0.55, 0.09, 0.09, 0.09, 0.09, 0.09];

/** The batch-failure prior for batches of `batchSize` runs: a batch of one run is an independent run. */
export function batchFailurePrior(batchSize: number): Float64Array {
  return batchSize > 1 ? Float64Array.from(BATCH_FAILURE_PRIOR) : Float64Array.from(BATCH_FAILURE_GRID, (b) => (b === 0 ? 1 : 0));
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
  /** Prior of the batch-failure rate over BATCH_FAILURE_GRID; all on 0 for batches of one run. The
   *  posterior learns the rate jointly with the culprit (bayes-posterior.ts). */
  batchFailurePrior: Float64Array;
  /** Crashes counted as the target under another title (title drift), by title: how many runs showed each. */
  related: Map<string, number>;
}

/** How runs are graded: similarity for crashes that are not the target by sameCrash, and the batch size. */
export interface Grading {
  similarity?: CrashSimilarity;
  /** Runs of one batch (the VM slots); 1 = every run on its own, no batch-level failure. */
  batchSize?: number;
  /** False: commits with equal signatures are not pooled (they were seen to behave differently). */
  trustSignatures?: boolean;
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
  grading: Grading = {},
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
      if (grading.trustSignatures !== false) union(node, `s${obs.build.signature}`);
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
      group = { members: [], counts: emptyCounts(), current: emptyCounts(), maskingTypes: new Map(), batches: [] };
      byRoot.set(root, group);
      groups.push(group);
    }
    if (!groupOf.has(index)) {
      groupOf.set(index, groups.indexOf(group));
      group.members.push(index);
    }
    return group;
  };
  const batchSize = Math.max(1, grading.batchSize ?? 1);
  const related = new Map<string, number>();
  for (const { index, obs } of known) {
    const group = groupFor(index);
    const isCurrent = remedyKey(obs.remedies) === active;
    obs.runs.forEach((run, r) => {
      const evidence = classifyRun(run, target, sameCrash);
      // A related crash (same type, shared stack: a renamed or inlined function) counts as the
      // target by its similarity; the rest of the run stays censored.
      const like = evidence === "masked" || evidence === "unusable" ? targetLikeness(run, target, grading.similarity) : undefined;
      const weight = like && like.similarity >= RELATED ? like.similarity : 0;
      if (like && weight > 0) related.set(like.title, (related.get(like.title) ?? 0) + 1);
      const add = (counts: EvidenceCounts): void => {
        counts[evidence] += 1 - weight;
        counts.target += weight;
      };
      add(group.counts);
      if (r % batchSize === 0) group.batches.push({ target: 0, clean: 0 });
      const batch = group.batches[group.batches.length - 1] as BatchCounts;
      if (evidence === "target" || evidence === "clean") batch[evidence]++;
      else batch.target += weight;
      if (isCurrent) {
        add(group.current);
        if (evidence === "masked" && weight === 0 && run.kind === "crash") {
          group.maskingTypes.set(run.crash.type, (group.maskingTypes.get(run.crash.type) ?? 0) + 1);
        }
      }
    });
  }
  for (const g of groups) g.members.sort((a, b) => a - b);
  return { groups, groupOf, buildFailed, built, activeRemedies: [...activeRemedies].sort(), batchFailurePrior: batchFailurePrior(batchSize), related };
}

/** E[β^k] under a belief over BATCH_FAILURE_GRID: the chance that k batches at a commit where the bug is all fail. */
export function batchFailureRisk(belief: Float64Array, k: number): number {
  let risk = 0;
  belief.forEach((w, b) => (risk += w * (BATCH_FAILURE_GRID[b] as number) ** k));
  return risk;
}

/**
 * A target named by title only (`--crash TITLE`) learns its type, frames and other titles from the
 * first run that shows it, so remedies can spare it and graded identity can compare stacks.
 * The report of a run is evidence and the type read from the title a guess: where they differ the
 * run's wins, since the runs the target is compared with are typed the same way (a guessed type
 * that no run carries made every drifted title of the bug look unrelated).
 * Returns undefined while no run has shown it.
 */
export function learnTarget(named: CrashSummary, observations: readonly Observation[], sameCrash: SameCrash): CrashSummary | undefined {
  for (const o of observations) {
    for (const run of o.runs) {
      if (run.kind !== "crash" && run.kind !== "boot-failed" && run.kind !== "basic-failed") continue;
      const seen = [run.crash, ...(run.more ?? [])].find((c) => sameCrash(c, named));
      if (!seen) continue;
      const alt = [...new Set([...named.alt, ...seen.alt, seen.title])].filter((t) => t !== named.title);
      return { ...seen, title: named.title, alt, type: seen.type || named.type, frame: seen.frame || named.frame };
    }
  }
  return undefined;
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

