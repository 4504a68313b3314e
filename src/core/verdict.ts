// What the runs on one commit say about the *target* crash. A run that shows another crash
// is not evidence that the target is present (the reference log's mistake); it only uses up
// a run that could have shown the target.

import type { CrashSummary, RunOutcome } from "./outcome.js";

export type RunEvidence = "target" | "clean" | "other" | "unusable";

export type SameCrash = (a: CrashSummary, b: CrashSummary) => boolean;

export function runEvidence(run: RunOutcome, target: CrashSummary, same: SameCrash): RunEvidence {
  switch (run.kind) {
    case "ok":
      return "clean";
    case "crash":
      return same(target, run.crash) ? "target" : "other";
    case "boot-failed":
    case "basic-failed":
    case "infra":
      return "unusable";
  }
}

export interface EvidenceCounts {
  target: number;
  clean: number;
  other: number;
  unusable: number;
}

export function countEvidence(runs: readonly RunOutcome[], target: CrashSummary, same: SameCrash): EvidenceCounts {
  const counts: EvidenceCounts = { target: 0, clean: 0, other: 0, unusable: 0 };
  for (const run of runs) counts[runEvidence(run, target, same)]++;
  return counts;
}

/** The state of one commit with respect to the target crash. */
export type CrashState = "crashes" | "clean" | "untestable";

/** Crashes when the target appears at all; clean when at least half the planned runs are clean. */
export function crashState(counts: EvidenceCounts, plannedRuns: number): CrashState {
  if (counts.target > 0) return "crashes";
  if (counts.clean > 0 && counts.clean >= Math.ceil(plannedRuns / 2)) return "clean";
  return "untestable";
}

/** The most frequent crash among runs (ties: the first seen), the bisection's target. */
export function mostFrequentCrash(runs: readonly RunOutcome[]): CrashSummary | undefined {
  const counts = new Map<string, { crash: CrashSummary; n: number }>();
  for (const run of runs) {
    if (run.kind !== "crash") continue;
    const entry = counts.get(run.crash.title);
    if (entry) entry.n++;
    else counts.set(run.crash.title, { crash: run.crash, n: 1 });
  }
  let best: { crash: CrashSummary; n: number } | undefined;
  for (const entry of counts.values()) if (!best || entry.n > best.n) best = entry;
  return best?.crash;
}
