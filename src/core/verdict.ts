// What the runs on one commit say about the *target* crash. A run that shows another crash
// is not evidence that the target is present (the reference log's mistake); it only uses up
// a run that could have shown the target.

import type { EvidenceCounts } from "./evidence.js";

export { countEvidence, mostFrequentCrash, type EvidenceCounts } from "./evidence.js";

/** The state of one commit with respect to the target crash. */
export type CrashState = "crashes" | "clean" | "untestable";

/** Crashes when the target appears at all; clean when at least half the planned runs are clean. */
export function crashState(counts: EvidenceCounts, plannedRuns: number): CrashState {
  if (counts.target > 0) return "crashes";
  if (counts.clean > 0 && counts.clean >= Math.ceil(plannedRuns / 2)) return "clean";
  return "untestable";
}
