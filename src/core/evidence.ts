// What one run says about the target crash: shared by every strategy.

import type { CrashSimilarity, CrashSummary, RunOutcome } from "./outcome.js";

/** What one run says about the target crash. */
export type RunEvidence =
  /** The target crash (same family) happened. */
  | "target"
  /** The run finished without any crash: the target did not happen. */
  | "clean"
  /** Another crash happened first: it hides whether the target would have (censored). */
  | "masked"
  /** Build, boot or infrastructure trouble: says nothing. */
  | "unusable";

/** Crash-family equality (sameCrash of report/, injected so core stays free of it). */
export type SameCrash = (a: CrashSummary, b: CrashSummary) => boolean;

export function classifyRun(run: RunOutcome, target: CrashSummary, sameCrash: SameCrash): RunEvidence {
  switch (run.kind) {
    case "ok":
      return "clean";
    case "crash":
      // A later report in the same log (lockdep, then the oops) still shows the target happened.
      return showsTarget(run.crash, run.more, target, sameCrash) ? "target" : "masked";
    case "boot-failed":
    case "basic-failed":
      // A target that fires while booting still shows the bug is there.
      return showsTarget(run.crash, run.more, target, sameCrash) ? "target" : "unusable";
    case "infra":
    case "untestable":
      return "unusable";
  }
}

function showsTarget(first: CrashSummary, more: readonly CrashSummary[] | undefined, target: CrashSummary, same: SameCrash): boolean {
  return same(first, target) || (more ?? []).some((crash) => same(crash, target));
}

/** The report of a run most like the target, with its similarity; undefined for runs without a report or without a similarity. */
export function targetLikeness(run: RunOutcome, target: CrashSummary, similarity: CrashSimilarity | undefined): { title: string; similarity: number } | undefined {
  if (!similarity || run.kind === "ok" || run.kind === "infra" || run.kind === "untestable") return undefined;
  let best: { title: string; similarity: number } | undefined;
  for (const crash of [run.crash, ...(run.more ?? [])]) {
    const s = similarity(crash, target);
    if (!best || s > best.similarity) best = { title: crash.title, similarity: s };
  }
  return best;
}

/** The most frequent crash among runs (ties: the first seen): by default, the bisection's target. */
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

export interface EvidenceCounts {
  target: number;
  clean: number;
  /** Another crash came first and hid whether the target would have happened. */
  masked: number;
  unusable: number;
}

/** A crash at least this similar to the target is probable evidence of it; below, it masks. */
export const RELATED = 0.5;

/** Runs by what they say; with `similarity`, a run whose report is related to the target (title drift) counts as the target. */
export function countEvidence(runs: readonly RunOutcome[], target: CrashSummary, same: SameCrash, similarity?: CrashSimilarity): EvidenceCounts {
  const counts: EvidenceCounts = { target: 0, clean: 0, masked: 0, unusable: 0 };
  for (const run of runs) {
    const evidence = classifyRun(run, target, same);
    const related = (evidence === "masked" || evidence === "unusable") && (targetLikeness(run, target, similarity)?.similarity ?? 0) >= RELATED;
    counts[related ? "target" : evidence]++;
  }
  return counts;
}
