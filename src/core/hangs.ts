// When a commit's batch may stop early: its runs so far all hung the same way. A hang ends a run
// before the target could show, so each one is masked, never a verdict; a stretch that hangs
// (Lua's string.rep before 5cfc725a) hangs on every run, and each further run costs the whole
// timeout to say the same. Pure.

import { classifyRun, type SameCrash } from "./evidence.js";
import type { CrashSummary, RunOutcome } from "./outcome.js";

/** Hangs alike that end a batch: the strategy takes a commit's own runs for its share of usable runs from five on. */
export const HANGS_ALIKE = 5;

/** The crash type of a run that never finished (a timeout, a stall, a hung task). */
export const HANG_TYPE = "HANG";

/**
 * True when at least HANGS_ALIKE runs were made and every one hung with the same title, none
 * showing the target (also not in a later report); never when the target is itself a hang.
 */
export function hungAlike(runs: readonly RunOutcome[], target: CrashSummary, sameCrash: SameCrash): boolean {
  if (runs.length < HANGS_ALIKE || target.type === HANG_TYPE) return false;
  const first = runs[0];
  if (first?.kind !== "crash" || first.crash.type !== HANG_TYPE) return false;
  return runs.every((r) => r.kind === "crash" && r.crash.type === HANG_TYPE && r.crash.title === first.crash.title && classifyRun(r, target, sameCrash) === "masked");
}
