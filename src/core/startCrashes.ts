// Which crashes the start commit's console logs hold: one log may print several reports (a lockdep
// splat, then the oops), and runs may differ. When there is more than one, the log says which is
// bisected, so a reader who wanted another one knows to name it with `crash:`. Pure.

import type { SameCrash } from "./evidence.js";
import type { CrashSummary, RunOutcome } from "./outcome.js";
import type { Note } from "./strategy.js";

/** Distinct crashes among the runs' first and later reports, in order of first appearance, with how many runs showed each. */
export function distinctCrashes(runs: readonly RunOutcome[], sameCrash: SameCrash): { crash: CrashSummary; runs: number }[] {
  const found: { crash: CrashSummary; runs: number }[] = [];
  for (const run of runs) {
    if (run.kind !== "crash") continue;
    const inRun = new Set<number>();
    for (const crash of [run.crash, ...(run.more ?? [])]) {
      let at = found.findIndex((f) => sameCrash(f.crash, crash));
      if (at < 0) at = found.push({ crash, runs: 0 }) - 1;
      inRun.add(at);
    }
    for (const at of inRun) (found[at] as { runs: number }).runs++;
  }
  return found;
}

/** A note naming the start commit's distinct crashes and the one bisected; none when there is only one. */
export function startCrashesNote(runs: readonly RunOutcome[], target: CrashSummary, sameCrash: SameCrash): Note | undefined {
  const crashes = distinctCrashes(runs, sameCrash);
  if (crashes.length < 2) return undefined;
  // The target first and the rest in order of appearance: the note stays the same as runs add up.
  const others = crashes.filter((c) => !sameCrash(c.crash, target)).map((c) => JSON.stringify(c.crash.title));
  const text = `the start commit's logs hold ${crashes.length} distinct crashes: bisecting ${JSON.stringify(target.title)}; also seen: ${others.join(", ")}`;
  return { kind: "info", text };
}
