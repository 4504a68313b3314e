// Where a cause bisection's good end lies when the job names none. Like syzbot, the release tags
// are tested newest first and the first clean one bounds the search: most bugs are recent, and a
// range that starts at the newest clean release keeps the search away from old code that may no
// longer build. When no release is clean (all crash, or none can be tested) the search goes on
// below them, down to the job's `oldest` bound or the repository's first commits. Pure.

import { Dag, cachedAncestry } from "./dag.js";
import { countEvidence, type SameCrash } from "./evidence.js";
import { observationKey, type CrashSummary, type Observation } from "./outcome.js";
import type { BisectProblem, Note, Release, SearchedRange, TestRequest } from "./strategy.js";
import { crashState } from "./verdict.js";

export type GoodEnd =
  /** The problem bounds itself (a good commit, a fix bisection, or no release older than start). */
  | { kind: "given" }
  /** Test these releases (newest first) before anything else. */
  | { kind: "test"; tests: TestRequest[]; notes: Note[] }
  /** The newest clean release, every newer one crashing or untestable: bisect above it. */
  | { kind: "clean"; release: Release; notes: Note[] }
  /** No release is clean: search the whole graph, older history included. */
  | { kind: "older"; notes: Note[] };

/** Releases a cause bisection may start from: strict ancestors of the start commit inside the graph, newest first. */
export function releasesBelow(problem: BisectProblem): Release[] {
  const dag = problem.graph;
  const above = cachedAncestry(dag, dag.index(problem.start));
  return problem.releases.filter((r) => r.commit !== problem.start && dag.has(r.commit) && above[dag.index(r.commit)] === 1);
}

/**
 * The good end, from the releases' observations under the active remedies: a release is judged
 * like syzbot judges one (crashes when the target shows at all, clean when at least half of a
 * batch is clean, else untestable). Up to `slots` untested releases are tested at once, never
 * one older than a release already known clean.
 */
export function findGoodEnd(
  problem: BisectProblem,
  observations: readonly Observation[],
  target: CrashSummary,
  sameCrash: SameCrash,
  remedies: readonly string[],
  slots: number,
): GoodEnd {
  if (problem.kind !== "cause" || problem.good !== undefined) return { kind: "given" };
  const releases = releasesBelow(problem);
  if (releases.length === 0) return { kind: "given" };
  const runs = Math.max(1, problem.runsPerCommit);
  const byKey = new Map(observations.map((o) => [observationKey(o.commit, o.remedies), o]));
  const tests: TestRequest[] = [];
  const notes: Note[] = [];
  let crashing: Release | undefined;
  for (const release of releases) {
    const seen = byKey.get(observationKey(release.commit, remedies));
    if (seen?.build?.kind === "failed") continue;
    const have = seen?.runs.length ?? 0;
    if (!seen?.build || have < runs) {
      if (tests.length < slots) {
        tests.push({ commit: release.commit, runs: runs - have, remedies: [...remedies] });
        notes.push({ kind: "release", tag: release.tag, commit: release.commit });
      }
      continue;
    }
    const state = crashState(countEvidence(seen.runs, target, sameCrash, problem.similarity), runs);
    if (state === "clean") {
      if (tests.length > 0) return { kind: "test", tests, notes };
      return { kind: "clean", release, notes: [{ kind: "info", text: `release ${release.tag} is clean: bisecting between it and the start commit` }] };
    }
    if (state === "crashes") crashing = release;
  }
  if (tests.length > 0) return { kind: "test", tests, notes };
  const why = crashing ? `the crash is already there at the oldest release tested (${crashing.tag})` : "no release older than the start commit could be tested";
  return { kind: "older", notes: [{ kind: "info", text: `${why}: searching older history` }] };
}

const ranges = new WeakMap<Dag, Map<string, Dag>>();

/** The commits of `dag` that `start` descends from, down to `bound` (kept, as its oldest commit); memoised per graph. */
export function rangeAbove(dag: Dag, start: string, bound: string): Dag {
  let cache = ranges.get(dag);
  if (!cache) {
    cache = new Map();
    ranges.set(dag, cache);
  }
  const key = `${start}..${bound}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const inside = dag.ancestry(dag.index(start));
  const below = dag.ancestry(dag.index(bound));
  const nodes = [];
  for (let i = 0; i < dag.size; i++) {
    if (inside[i] !== 1 || (below[i] === 1 && dag.hash(i) !== bound)) continue;
    nodes.push({ hash: dag.hash(i), parents: (dag.parents[i] as readonly number[]).map((p) => dag.hash(p)) });
  }
  const range = new Dag(nodes);
  if (cache.size >= 64) cache.clear();
  cache.set(key, range);
  return range;
}

/** The problem narrowed to the range above a clean release: that release is its good end. */
export function aboveRelease(problem: BisectProblem, release: Release): BisectProblem {
  return { ...problem, graph: rangeAbove(problem.graph, problem.start, release.commit), good: release.commit, releases: [] };
}

/** The oldest commits of the graph: roots of the range. */
export function rangeRoots(dag: Dag): string[] {
  const roots: string[] = [];
  for (let i = 0; i < dag.size; i++) if ((dag.parents[i] as readonly number[]).length === 0) roots.push(dag.hash(i));
  return roots;
}

/** How far back a search of `problem` looks (cause): its good commit, its oldest bound, or its roots. */
export function searchedRange(problem: BisectProblem): SearchedRange {
  if (problem.good !== undefined) return { bound: "good", oldest: [problem.good] };
  if (problem.oldest !== undefined) return { bound: "oldest", oldest: [problem.oldest] };
  const roots = rangeRoots(problem.graph);
  const first = new Set(problem.repositoryRoots ?? []);
  if (roots.length > 0 && roots.every((r) => first.has(r))) return { bound: "roots", oldest: roots };
  return { bound: "range", oldest: roots };
}
