// The posterior a job's page draws: the probability that each commit of the range is the culprit,
// in graph order, as the strategy's own posterior code computes it from the runs recorded so far,
// with every tested commit marked by what its runs said. A view of the events: nothing is stored.

import type { BisectEvent } from "../bisect/events.js";
import { observationsOf } from "../bisect/events.js";
import { appliedRemedies, gatherEvidence } from "../core/bayes-evidence.js";
import { baseRoot, computePosterior, topHypothesis } from "../core/bayes-posterior.js";
import type { Dag } from "../core/dag.js";
import type { CrashSimilarity, CrashSummary } from "../core/outcome.js";
import { countEvidence, crashState } from "../core/verdict.js";

/** What a tested commit's own runs said: the target (bad), clean (good), only other crashes (masked), nothing usable (skip). */
export type CommitMark = "good" | "bad" | "skip" | "masked";

export interface PosteriorSeries {
  /** Commits of the range, oldest first (graph order), abbreviated to 12 characters. */
  commits: string[];
  /** mass[i]: P(commits[i] is the culprit | the runs so far). */
  mass: number[];
  /** Tested commits by graph index, with what their runs said. */
  marks: { index: number; mark: CommitMark }[];
  /** P(older than the range / never fixed) and P(the start commit's crash was a flake). */
  everywhere: number;
  nowhere: number;
  /** The leading hypothesis: a graph index, or "everywhere" / "nowhere". */
  leading: number | "everywhere" | "nowhere";
  /** Runs the series is computed from. */
  runs: number;
}

export interface Grading {
  sameCrash: (a: CrashSummary, b: CrashSummary) => boolean;
  similarity?: CrashSimilarity;
  /** Runs per commit the job asked for (the strategy's batch size). */
  runsPerCommit: number;
}

/** The series after `events`; undefined until the range and the target crash are known. */
export function posteriorSeries(dag: Dag, events: readonly BisectEvent[], grading: Grading): PosteriorSeries | undefined {
  let problem: Extract<BisectEvent, { type: "problem" }> | undefined;
  let target: CrashSummary | undefined;
  for (const e of events) {
    if (e.type === "problem") problem ??= e;
    // The strategy names the target once the start commit's runs show it (learnt later from a title).
    if (e.type === "note" && e.note.kind === "target") target = e.note.crash;
  }
  if (!problem || !target || !dag.has(problem.start)) return undefined;
  const observations = observationsOf(events);
  const start = dag.index(problem.start);
  const evidence = gatherEvidence(dag, observations, target, grading.sameCrash, appliedRemedies(observations), {
    ...(grading.similarity ? { similarity: grading.similarity } : {}),
    batchSize: grading.runsPerCommit,
    trustSignatures: true,
  });
  const post = computePosterior(dag, problem.kind, evidence, baseRoot(dag, problem.kind, start, problem.good));
  const marks: PosteriorSeries["marks"] = [];
  for (const o of observations) {
    if (!dag.has(o.commit)) continue;
    const index = dag.index(o.commit);
    if (marks.some((m) => m.index === index)) continue;
    const all = observations.filter((x) => x.commit === o.commit);
    if (all.some((x) => x.build?.kind === "failed") && all.every((x) => x.runs.length === 0)) {
      marks.push({ index, mark: "skip" });
      continue;
    }
    const runs = all.flatMap((x) => x.runs);
    if (runs.length === 0) continue;
    const counts = countEvidence(runs, target, grading.sameCrash, grading.similarity);
    const state = crashState(counts, Math.min(grading.runsPerCommit, runs.length));
    marks.push({ index, mark: state === "crashes" ? "bad" : state === "clean" ? "good" : counts.masked > 0 ? "masked" : "skip" });
  }
  marks.sort((a, b) => a.index - b.index);
  const top = topHypothesis(post.mass);
  return {
    commits: dag.hashes.map((h) => h.slice(0, 12)),
    mass: Array.from(post.mass.subarray(0, post.n), round),
    marks,
    everywhere: round(post.mass[post.everywhere] as number),
    nowhere: round(post.mass[post.nowhere] as number),
    leading: top === post.everywhere ? "everywhere" : top === post.nowhere ? "nowhere" : top,
    runs: observations.reduce((n, o) => n + o.runs.length, 0),
  };
}

/** Six significant digits: the chart cannot show more, and the JSON stays small. */
function round(p: number): number {
  return Number(p.toPrecision(6));
}
