// An inconclusive answer as stretches of history rather than a list of hashes: the candidates
// that hang together in the graph form one range, and each range says what its tested commits
// showed (another crash first, no build, nothing usable), which is why it could not be split.
// Pure: the graph, the candidates and the observations in, the ranges out.

import type { Dag } from "./dag.js";
import { classifyRun, type EvidenceCounts, type SameCrash } from "./evidence.js";
import type { CrashSummary, Observation } from "./outcome.js";

/** What the runs of one commit showed, for the range it belongs to. */
export type CommitStatus = "target" | "clean" | "masked" | "broken" | "unusable" | "untested";

export interface CandidateRange {
  /** The range's newest and oldest commit (both candidates); the first bad commit is one of the range. */
  newest: string;
  oldest: string;
  /**
   * Only when the range has more than one: its commits with no parent in it, oldest first (the
   * first is `oldest`). A good commit released from a side line leaves two such ends, and the
   * first bad commit may lie above either.
   */
  oldestEnds?: string[];
  /** Candidates in the range. */
  commits: number;
  /** Candidates of the range by what their runs showed. */
  status: Record<CommitStatus, number>;
  /** The commonest crash that came before the target could show, in its masked commits. */
  maskedBy?: string;
  /**
   * The newest commit is where a masked stretch ends: it is the only one of the range that showed
   * the target, none ran clean, and its first parent is masked (Lua's string.rep: everything older
   * than 5cfc725a hangs). The first bad commit is then the newest or any commit below it.
   */
  maskedBelowNewest?: true;
}

/** One commit's status from all its observations: a build failure or a majority of masked or unusable runs wins over a few informative runs. */
export function commitStatus(observations: readonly Observation[], target: CrashSummary, sameCrash: SameCrash): { status: CommitStatus; maskedBy: Map<string, number>; counts: EvidenceCounts } {
  const counts = { target: 0, clean: 0, masked: 0, unusable: 0 };
  const maskedBy = new Map<string, number>();
  let built = false;
  let failed = false;
  for (const o of observations) {
    if (o.build?.kind === "failed") failed = true;
    if (o.build?.kind === "ok") built = true;
    for (const run of o.runs) {
      const evidence = classifyRun(run, target, sameCrash);
      counts[evidence]++;
      if (evidence === "masked" && run.kind === "crash") maskedBy.set(run.crash.title, (maskedBy.get(run.crash.title) ?? 0) + 1);
    }
  }
  const total = counts.target + counts.clean + counts.masked + counts.unusable;
  if (failed && !built) return { status: "broken", maskedBy, counts };
  if (total === 0) return { status: "untested", maskedBy, counts };
  if (counts.target > 0) return { status: "target", maskedBy, counts };
  const informative = counts.clean;
  if (counts.masked >= informative && counts.masked >= counts.unusable) return { status: "masked", maskedBy, counts };
  if (counts.unusable > informative) return { status: "unusable", maskedBy, counts };
  return { status: "clean", maskedBy, counts };
}

/** Commits whose build (under some remedies) has the same signature as one of their parents' under the same remedies. */
function sameBuildAsParent(dag: Dag, byCommit: ReadonlyMap<string, readonly Observation[]>): Set<number> {
  const signature = (commit: string, remedies: string): string | undefined => {
    const o = byCommit.get(commit)?.find((x) => x.remedies.join(",") === remedies);
    return o?.build?.kind === "ok" ? o.build.signature : undefined;
  };
  const same = new Set<number>();
  for (const [commit, observed] of byCommit) {
    if (!dag.has(commit)) continue;
    const c = dag.index(commit);
    for (const o of observed) {
      if (o.build?.kind !== "ok") continue;
      const remedies = o.remedies.join(",");
      const mine = o.build.signature;
      if ((dag.parents[c] as readonly number[]).some((p) => signature(dag.hash(p), remedies) === mine)) same.add(c);
    }
  }
  return same;
}

/** A commit's first parent, past parents that build to their own parent's build (they are no candidates). */
function firstParentSeen(dag: Dag, c: number, sameBuild: ReadonlySet<number>): number | undefined {
  let p = (dag.parents[c] as readonly number[])[0];
  while (p !== undefined && sameBuild.has(p)) p = (dag.parents[p] as readonly number[])[0];
  return p;
}

/**
 * Candidates joined by parent–child edges form one range, also across commits that are no
 * candidates only because they build to their parent's build; ranges newest first. Commits outside
 * the graph are ignored (a strategy names candidates of its own range).
 */
export function candidateRanges(
  dag: Dag,
  candidates: readonly string[],
  observations: readonly Observation[],
  target: CrashSummary,
  sameCrash: SameCrash,
): CandidateRange[] {
  const members = [...new Set(candidates.filter((c) => dag.has(c)).map((c) => dag.index(c)))].sort((a, b) => a - b);
  const inSet = new Set(members);
  // Union-find over the candidates, joined along the graph's edges.
  const leader = new Map(members.map((m) => [m, m]));
  const find = (x: number): number => {
    let root = x;
    while (leader.get(root) !== root) root = leader.get(root) as number;
    leader.set(x, root);
    return root;
  };
  const byCommit = new Map<string, Observation[]>();
  for (const o of observations) byCommit.set(o.commit, [...(byCommit.get(o.commit) ?? []), o]);
  const sameBuild = sameBuildAsParent(dag, byCommit);
  const hasParentInRange = new Set<number>();
  for (const m of members) {
    // A commit built to its parent's build is no candidate, but it does not end the stretch either.
    const parents = [...(dag.parents[m] as readonly number[])];
    const seen = new Set<number>();
    while (parents.length > 0) {
      const p = parents.pop() as number;
      if (seen.has(p)) continue;
      seen.add(p);
      if (inSet.has(p)) {
        leader.set(find(m), find(p));
        hasParentInRange.add(m);
      } else if (sameBuild.has(p)) parents.push(...(dag.parents[p] as readonly number[]));
    }
  }
  const groups = new Map<number, number[]>();
  for (const m of members) groups.set(find(m), [...(groups.get(find(m)) ?? []), m]);
  const ranges: CandidateRange[] = [];
  for (const group of groups.values()) {
    const status: Record<CommitStatus, number> = { target: 0, clean: 0, masked: 0, broken: 0, unusable: 0, untested: 0 };
    const masking = new Map<string, number>();
    for (const m of group) {
      const seen = commitStatus(byCommit.get(dag.hash(m)) ?? [], target, sameCrash);
      status[seen.status]++;
      if (seen.status === "masked") for (const [title, n] of seen.maskedBy) masking.set(title, (masking.get(title) ?? 0) + n);
    }
    const maskedBy = [...masking.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
    const ends = group.filter((m) => !hasParentInRange.has(m)).map((m) => dag.hash(m));
    const newest = group[group.length - 1] as number;
    const parent = firstParentSeen(dag, newest, sameBuild);
    const statusOf = (c: number): CommitStatus => commitStatus(byCommit.get(dag.hash(c)) ?? [], target, sameCrash).status;
    const edge = status.target === 1 && status.clean === 0 && statusOf(newest) === "target" && parent !== undefined && inSet.has(parent) && statusOf(parent) === "masked";
    ranges.push({
      newest: dag.hash(group[group.length - 1] as number),
      oldest: dag.hash(group[0] as number),
      ...(ends.length > 1 ? { oldestEnds: ends } : {}),
      commits: group.length,
      status,
      ...(maskedBy !== undefined ? { maskedBy } : {}),
      ...(edge ? { maskedBelowNewest: true as const } : {}),
    });
  }
  return ranges.sort((a, b) => dag.index(b.newest) - dag.index(a.newest));
}
