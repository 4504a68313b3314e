// What the runs on one commit say about the *target* crash. A run that shows another crash
// is not evidence that the target is present (the reference log's mistake); it only uses up
// a run that could have shown the target.

import type { CrashSummary, RunOutcome } from "./outcome.js";
import { classifyRun, type SameCrash } from "./evidence.js";

export { mostFrequentCrash } from "./evidence.js";

export interface EvidenceCounts {
  target: number;
  clean: number;
  /** Another crash came first and hid whether the target would have happened. */
  masked: number;
  unusable: number;
}

export function countEvidence(runs: readonly RunOutcome[], target: CrashSummary, same: SameCrash): EvidenceCounts {
  const counts: EvidenceCounts = { target: 0, clean: 0, masked: 0, unusable: 0 };
  for (const run of runs) counts[classifyRun(run, target, same)]++;
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
