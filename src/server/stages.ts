// A job's stages as the dashboard shows them (reproduce → find good → bisect → verify → done),
// read off its events: which commits were tested tells how far it got.

import type { BisectEvent } from "../bisect/events.js";
import { CONFIDENCE_TARGET } from "../core/bayes-stop.js";

export const STAGE_NAMES = ["reproduce", "find good", "bisect", "verify", "done"] as const;
export type StageName = (typeof STAGE_NAMES)[number];
export type StageState = "done" | "current" | "pending" | "skipped";

export interface Stage {
  name: StageName;
  state: StageState;
}

/**
 * `leadingMass`: the posterior's leading hypothesis now; the strategy verifies a culprit once it
 * holds CONFIDENCE_TARGET, so from then on the tests are verification.
 */
export function stagesOf(events: readonly BisectEvent[], leadingMass: number): Stage[] {
  let problem: Extract<BisectEvent, { type: "problem" }> | undefined;
  let targetKnown = false;
  let releaseTested = false;
  let bisectTested = false;
  let finished: Extract<BisectEvent, { type: "finished" }> | undefined;
  for (const e of events) {
    if (e.type === "problem") problem ??= e;
    if (e.type === "note" && e.note.kind === "target") targetKnown = true;
    if (e.type === "finished") finished = e;
    if (e.type === "tests-started" && problem && e.commit !== problem.start) {
      if (problem.releases.some((r) => r.commit === e.commit)) releaseTested = true;
      else bisectTested = true;
    }
  }
  const goodGiven = problem !== undefined && problem.good !== undefined;
  const confident = finished ? finished.result.outcome === "culprit" && finished.result.confidence >= CONFIDENCE_TARGET : targetKnown && bisectTested && leadingMass >= CONFIDENCE_TARGET;
  const reached: Record<StageName, boolean> = {
    reproduce: true,
    "find good": !goodGiven && releaseTested,
    bisect: bisectTested,
    verify: confident,
    done: finished !== undefined,
  };
  // The furthest stage reached is the current one; one not reached before it was skipped (a good
  // commit given, no culprit to verify), and one after it waits, unless the job has ended.
  const furthest = STAGE_NAMES.reduce((at, name, i) => (reached[name] ? i : at), 0);
  return STAGE_NAMES.map((name, i): Stage => {
    if (i === furthest) return { name, state: finished ? "done" : "current" };
    if (i < furthest) return { name, state: reached[name] ? "done" : "skipped" };
    return { name, state: finished ? "skipped" : "pending" };
  });
}
