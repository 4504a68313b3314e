// Grading a result against the truth of its world, and the per-strategy summary with calibration.

import type { StrategyResult } from "../core/strategy.js";
import type { SimRun } from "./simulate.js";
import type { World } from "./world.js";

export type Grade =
  /** Named exactly the true culprit. */
  | "correct"
  /** Said "no culprit" and there is none in the range. */
  | "correct-none"
  /** A list that holds the culprit hidden by a broken stretch, no longer than the stretch plus one. */
  | "correct-list"
  | "wrong-single"
  | "wrong-none"
  /** A list of candidates that leaves the culprit out: a wrong answer in a list's clothes (the user
   *  reads those commits and not the guilty one). */
  | "wrong-list"
  | "inconclusive"
  /** A single culprit that syzbot's dashboard would not report (merge, no-op, release, low confidence): not correct. */
  | "unreliable";

export function isCorrect(grade: Grade): boolean {
  return grade === "correct" || grade === "correct-none" || grade === "correct-list";
}

/** Length of the broken stretch (build or boot; touching stretches are one) that hides the culprit: it lies inside, or just after it. */
function hidingStretchLength(world: World, culprit: number): number | undefined {
  const { scenario } = world;
  const stretches = [...scenario.buildBroken, ...scenario.bootBroken].sort((a, b) => a.from - b.from);
  const merged: { from: number; to: number }[] = [];
  for (const s of stretches) {
    const last = merged[merged.length - 1];
    if (last && s.from <= last.to + 1) last.to = Math.max(last.to, s.to);
    else merged.push({ ...s });
  }
  for (const s of merged) {
    if (culprit >= s.from && culprit <= s.to + 1) return s.to - s.from + 1;
  }
  return undefined;
}

/** The dashboard's cut-off on syzbot's own confidence (syz-ci: below it the result is ignored). */
const DASHBOARD_CONFIDENCE_CUTOFF = 0.66;

/**
 * Why syzbot's dashboard would call a culprit unreliable (syz-ci's flags): it is a merge, it does
 * not change the build (same signature as its only parent), it carries a release tag, or syzbot's
 * confidence is below the cut-off. Empty = reliable.
 */
export function dashboardDoubts(world: World, result: StrategyResult): string[] {
  if (result.outcome !== "culprit") return [];
  const index = world.byHash.get(result.culprit);
  if (index === undefined) return [];
  const parents = world.history.parents[index] as number[];
  const doubts: string[] = [];
  if (parents.length > 1) doubts.push("merge");
  if (parents.length === 1 && world.signature[index] === world.signature[parents[0] as number]) doubts.push("no-op");
  if (world.history.releases.some((r) => r.index === index)) doubts.push("release");
  if (result.confidence < DASHBOARD_CONFIDENCE_CUTOFF) doubts.push("low-confidence");
  return doubts;
}

/** `dashboard`: grade as syzbot's dashboard does, where an unreliable culprit is not a result (syzbot's own strategies). */
export function grade(world: World, result: StrategyResult, dashboard = false): Grade {
  if (dashboard && dashboardDoubts(world, result).length > 0) return "unreliable";
  // A bug that appears at the oldest commit is present in the whole range: "older than the range".
  const truth = world.scenario.culprit === 0 && world.scenario.kind === "cause" ? null : world.scenario.culprit;
  const truthHash = truth === null ? undefined : world.history.hashes[truth];
  switch (result.outcome) {
    case "culprit":
      return result.culprit === truthHash ? "correct" : "wrong-single";
    case "no-culprit":
      return truth === null ? "correct-none" : "wrong-none";
    case "inconclusive": {
      if (truth === null || truthHash === undefined) return "inconclusive";
      const stretch = hidingStretchLength(world, truth);
      if (stretch !== undefined && result.candidates.includes(truthHash) && result.candidates.length <= stretch + 1) return "correct-list";
      if (result.candidates.length > 0 && !result.candidates.includes(truthHash)) return "wrong-list";
      return "inconclusive";
    }
  }
}

export interface GradedRun extends SimRun {
  scenario: string;
  family: string;
  strategy: string;
  workers: number;
  grade: Grade;
}

export interface CalibrationRow {
  /** Decile lower edge: 0.0, 0.1, ... 0.9. */
  from: number;
  results: number;
  correct: number;
}

export interface Summary {
  strategy: string;
  workers: number;
  scenarios: number;
  correctPct: number;
  wrongSinglePct: number;
  inconclusivePct: number;
  wrongListPct: number;
  unreliablePct: number;
  correctNonePct: number;
  wrongNonePct: number;
  meanBuilds: number;
  meanRuns: number;
  meanWallHours: number;
  p90WallHours: number;
  calibration: CalibrationRow[];
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

/** Calibration covers results that claim something (a culprit or "no culprit") with a confidence. */
export function summarise(strategy: string, workers: number, runs: readonly GradedRun[]): Summary {
  const n = runs.length;
  const pct = (pred: (r: GradedRun) => boolean): number => (n === 0 ? 0 : (100 * runs.filter(pred).length) / n);
  const mean = (f: (r: GradedRun) => number): number => (n === 0 ? 0 : runs.reduce((s, r) => s + f(r), 0) / n);
  const walls = runs.map((r) => r.wallMinutes / 60).sort((a, b) => a - b);
  const calibration: CalibrationRow[] = Array.from({ length: 10 }, (_, d) => ({ from: d / 10, results: 0, correct: 0 }));
  for (const r of runs) {
    if (r.result.outcome === "inconclusive") continue;
    const decile = Math.min(9, Math.max(0, Math.floor(r.result.confidence * 10 + 1e-9)));
    const row = calibration[decile] as CalibrationRow;
    row.results++;
    if (isCorrect(r.grade)) row.correct++;
  }
  return {
    strategy,
    workers,
    scenarios: n,
    correctPct: pct((r) => isCorrect(r.grade)),
    wrongSinglePct: pct((r) => r.grade === "wrong-single"),
    inconclusivePct: pct((r) => r.grade === "inconclusive"),
    wrongListPct: pct((r) => r.grade === "wrong-list"),
    unreliablePct: pct((r) => r.grade === "unreliable"),
    correctNonePct: pct((r) => r.grade === "correct-none"),
    wrongNonePct: pct((r) => r.grade === "wrong-none"),
    meanBuilds: mean((r) => r.builds),
    meanRuns: mean((r) => r.runs),
    meanWallHours: mean((r) => r.wallMinutes / 60),
    p90WallHours: percentile(walls, 0.9),
    calibration,
  };
}
