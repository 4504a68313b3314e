// Where a cause bisection's good end lies when the job names none. Like syzbot, the release tags
// are tested newest first and the first clean one bounds the search: most bugs are recent, and a
// range that starts at the newest clean release keeps the search away from old code that may no
// longer build. When no release is clean (all crash, or none can be tested) the search goes on
// below them, down to the job's `oldest` bound or the repository's first commits. Pure.

import { Dag, ancestorCounts, cachedAncestry } from "./dag.js";
import { classifyRun, countEvidence, type SameCrash } from "./evidence.js";
import { observationKey, type CrashSummary, type Observation } from "./outcome.js";
import type { BisectProblem, Note, Release, SearchedRange, TestRequest } from "./strategy.js";
import { crashState, type CrashState } from "./verdict.js";

export type GoodEnd =
  /** The problem bounds itself (a good commit, a fix bisection, or no release older than start). */
  | { kind: "given" }
  /** Test these releases (newest first) before anything else; `oldestOpen`: the oldest release
   *  that may still turn out to be the good end (the culprit lies above it unless it crashes). */
  | { kind: "test"; tests: TestRequest[]; notes: Note[]; oldestOpen: Release }
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
 * batch is clean, else untestable). The newest clean release is searched for by halving, not one
 * release after the other: a crash at a release means every newer one crashes too, a clean one
 * every older one is clean, so each test halves the commits between the oldest release known to
 * crash and the newest known clean. A release that showed the target wins over a clean one older
 * than it (a clean batch can be a dead one). Up to `slots` releases are tested at once, spread
 * over that stretch.
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
  const state = releases.map((release): "untested" | "partial" | "failed" | CrashState => {
    const seen = byKey.get(observationKey(release.commit, remedies));
    if (seen?.build?.kind === "failed") return "failed";
    if (!seen?.build) return "untested";
    if (seen.runs.length < runs) return "partial";
    return crashState(countEvidence(seen.runs, target, sameCrash, problem.similarity), runs);
  });
  // A commit that showed the target carries the bug, and so does every release that descends
  // from it, whatever that release's own batches said: with a rare reproducer (unseen-3b's world
  // 37, chance 0.09) a release's few clean runs are no proof, and the search above it would
  // never see the older crash. Runs under any remedies count: remedies never remove the target.
  const dag = problem.graph;
  const shown = showedTarget(dag, observations, target, sameCrash);
  releases.forEach((release, i) => {
    if (state[i] === "crashes" || shown.length === 0) return;
    const below = cachedAncestry(dag, dag.index(release.commit));
    if (shown.some((c) => below[c] === 1)) state[i] = "crashes";
  });
  // Releases are newest first: everything newer than the oldest crashing one crashes.
  const crashing = state.lastIndexOf("crashes");
  const clean = state.findIndex((s, i) => i > crashing && s === "clean");
  const upper = clean < 0 ? releases.length : clean;
  const open: number[] = [];
  for (let i = crashing + 1; i < upper; i++) if (state[i] === "untested" || state[i] === "partial") open.push(i);
  if (open.length === 0) {
    const found = releases[clean];
    if (found) return { kind: "clean", release: found, notes: [{ kind: "info", text: `release ${found.tag} is clean: bisecting between it and the start commit` }] };
    const oldestCrashing = releases[crashing];
    const why = oldestCrashing ? `the crash is already there at the oldest release tested (${oldestCrashing.tag})` : "no release older than the start commit could be tested";
    return { kind: "older", notes: [{ kind: "info", text: `${why}: searching older history` }] };
  }
  const partial = open.filter((i) => state[i] === "partial");
  const picks = [...new Set([...partial, ...halving(problem, releases, open, crashing, clean, Math.max(1, slots))])].slice(0, Math.max(1, slots));
  const byIndex = (i: number): Release => releases[i] as Release;
  const tests: TestRequest[] = picks.map((i) => {
    const seen = byKey.get(observationKey(byIndex(i).commit, remedies));
    return { commit: byIndex(i).commit, runs: runs - (seen?.runs.length ?? 0), remedies: [...remedies] };
  });
  const notes: Note[] = picks.map((i) => ({ kind: "release", tag: byIndex(i).tag, commit: byIndex(i).commit }));
  return { kind: "test", tests, notes, oldestOpen: byIndex(open[open.length - 1] as number) };
}

/** Dag indices of the commits whose runs (under any remedies) showed the target itself. */
function showedTarget(dag: Dag, observations: readonly Observation[], target: CrashSummary, sameCrash: SameCrash): number[] {
  const shown = new Set<number>();
  for (const o of observations) {
    if (!dag.has(o.commit)) continue;
    if (o.runs.some((run) => classifyRun(run, target, sameCrash) === "target")) shown.add(dag.index(o.commit));
  }
  return [...shown];
}

/**
 * Up to `slots` untested releases (indices into `releases`, newest first) that split the commits
 * between the oldest crashing release (or the start) and the newest clean one (or the range's
 * oldest commit) most evenly: the culprit is as likely anywhere in that stretch.
 */
function halving(problem: BisectProblem, releases: readonly Release[], open: readonly number[], crashing: number, clean: number, slots: number): number[] {
  const dag = problem.graph;
  const topCommit = dag.index((releases[crashing] ?? { commit: problem.start }).commit);
  const bottomCommit = clean < 0 ? undefined : dag.index((releases[clean] as Release).commit);
  const openCommits = open.map((i) => dag.index((releases[i] as Release).commit));
  const counts = ancestorCounts(dag, [topCommit, ...(bottomCommit === undefined ? [] : [bottomCommit]), ...openCommits]);
  const top = counts.get(topCommit) as number;
  const bottom = bottomCommit === undefined ? 0 : (counts.get(bottomCommit) as number);
  const sizes = new Map(open.map((i, k) => [i, counts.get(openCommits[k] as number) as number]));
  const picks: number[] = [];
  for (let j = 1; j <= slots && picks.length < open.length; j++) {
    const aim = top - ((top - bottom) * j) / (slots + 1);
    let best: number | undefined;
    for (const i of open) {
      if (picks.includes(i)) continue;
      if (best === undefined || Math.abs((sizes.get(i) as number) - aim) < Math.abs((sizes.get(best) as number) - aim)) best = i;
    }
    if (best !== undefined) picks.push(best);
  }
  return picks;
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
