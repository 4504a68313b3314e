// Turns raw observations into what the Bayesian strategy reasons with: per run, target / clean /
// masked / unusable; per binary (commits sharing a signature are one binary), pooled counts.

import type { Dag } from "./dag.js";
import type { CrashSimilarity, CrashSummary, Observation, RunOutcome } from "./outcome.js";
import type { BisectKind } from "./strategy.js";
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

/** Batch-failure rates considered (a whole batch shows nothing: a bad host, a broken VM image), and their prior. */
export const BATCH_FAILURE_GRID: readonly number[] = [0, 0.05, 0.1, 0.2, 0.35];
const BATCH_FAILURE_PRIOR: readonly number[] = [0.7, 0.075, 0.075, 0.075, 0.075];

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
  /** P(batch-failure rate = BATCH_FAILURE_GRID[i] | batches at commits that showed the target); all on 0 for batches of one run. */
  batchFailure: Float64Array;
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
  /** Which way the bug spreads from a commit that showed it (cause: to descendants; fix: to
   *  ancestors): batches there are known to run where the bug is. Absent: only the commits that
   *  showed the target teach the batch-failure rate. */
  kind?: BisectKind;
  /** Commits the problem itself says carry the bug (the start commit): their runs are fresh draws where the bug is. */
  carriers?: readonly number[];
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
  const carriers = grading.kind ? knownCarriers(dag, groups, grading.kind) : new Set<number>();
  for (const c of grading.carriers ?? []) {
    const g = groupOf.get(c);
    if (g !== undefined) carriers.add(g);
  }
  const batchFailure = batchSize > 1 ? batchFailureBelief(groups, carriers) : Float64Array.from(BATCH_FAILURE_GRID, (b) => (b === 0 ? 1 : 0));
  return { groups, groupOf, buildFailed, built, activeRemedies: [...activeRemedies].sort(), batchFailure, related };
}

/** Chance grid for a commit's own reproduction chance when learning batch failure (each commit its own chance). */
const OWN_CHANCE: readonly number[] = [0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.75, 0.9, 0.99];

/**
 * Groups known to carry the bug whatever their own runs showed: a descendant (cause) or an
 * ancestor (fix) of a commit of another group that showed the target.
 */
export function knownCarriers(dag: Dag, groups: readonly EvidenceGroup[], kind: BisectKind): Set<number> {
  const n = dag.size;
  const shownBy = new Int32Array(n).fill(-1);
  groups.forEach((g, i) => {
    if (g.counts.target >= 1) for (const m of g.members) shownBy[m] = i;
  });
  // One pass in topological order (cause: from parents; fix: from children, backwards), keeping
  // up to two distinct groups that showed the target strictly before each commit: enough to know
  // whether one of them is another group than the commit's own.
  const first = new Int32Array(n).fill(-1);
  const second = new Int32Array(n).fill(-1);
  const note = (c: number, g: number): void => {
    if (g < 0 || first[c] === g || second[c] === g) return;
    if (first[c] === -1) first[c] = g;
    else if (second[c] === -1) second[c] = g;
  };
  const visit = (c: number, from: readonly number[]): void => {
    for (const p of from) {
      note(c, shownBy[p] as number);
      note(c, first[p] as number);
      note(c, second[p] as number);
    }
  };
  if (kind === "cause") for (let c = 0; c < n; c++) visit(c, dag.parents[c] as readonly number[]);
  else for (let c = n - 1; c >= 0; c--) visit(c, dag.children[c] as readonly number[]);
  const carriers = new Set<number>();
  groups.forEach((g, i) => {
    if (g.members.some((m) => (first[m] !== -1 && first[m] !== i) || (second[m] !== -1 && second[m] !== i))) carriers.add(i);
  });
  return carriers;
}

/** One group's batches when the bug is there with chance p and a batch fails whole with chance beta. */
function batchesLikelihood(batches: readonly BatchCounts[], p: number, beta: number): number {
  let l = 1;
  for (const x of batches) l *= (1 - beta) * p ** x.target * (1 - p) ** x.clean + (x.target === 0 ? beta : 0);
  return l;
}

/**
 * What batches at commits known to carry the bug say about whole batches failing: there a batch
 * without a single target run is either the chance or a dead batch. A group that carries the bug
 * only because its own runs showed it was chosen by that very result: its likelihood is taken
 * given that it showed the target at all, or its one live batch would count as proof that batches
 * never fail. Each group gets its own chance (marginalised), so a chance that changes along the
 * range is not mistaken for dead batches.
 */
export function batchFailureBelief(groups: readonly EvidenceGroup[], carriers: ReadonlySet<number> = new Set()): Float64Array {
  const B = BATCH_FAILURE_GRID.length;
  const log = Float64Array.from(BATCH_FAILURE_PRIOR, Math.log);
  groups.forEach((g, i) => {
    const known = carriers.has(i);
    if (!known && g.counts.target < 1) return;
    for (let b = 0; b < B; b++) {
      const beta = BATCH_FAILURE_GRID[b] as number;
      let sum = 0;
      for (const p of OWN_CHANCE) {
        const l = batchesLikelihood(g.batches, p, beta);
        // P(some batch shows the target) = 1 − P(every batch shows nothing).
        const shows = known ? 1 : 1 - g.batches.reduce((q, x) => q * ((1 - beta) * (1 - p) ** (x.target + x.clean) + beta), 1);
        sum += l / Math.max(shows, 1e-12) / OWN_CHANCE.length;
      }
      log[b] = (log[b] as number) + Math.log(Math.max(sum, 1e-300));
    }
  });
  const max = Math.max(...log);
  const w = log.map((v) => Math.exp(v - max));
  const total = w.reduce((a, v) => a + v, 0);
  return w.map((v) => v / total);
}

/** E[β^k] under the batch-failure belief: the chance that k batches at a commit where the bug is all fail. */
export function batchFailureRisk(belief: Float64Array, k: number): number {
  let risk = 0;
  belief.forEach((w, b) => (risk += w * (BATCH_FAILURE_GRID[b] as number) ** k));
  return risk;
}

/** The batch-failure rate the posterior uses: the belief's mean. Never 0 while failures cannot be
 *  ruled out: with 0, one clean batch where a deterministic crash was expected would be proof. */
export function batchFailureRate(belief: Float64Array): number {
  return batchFailureRisk(belief, 1);
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

