// Small synthetic histories for the core table tests (test-only: nothing in production imports it).

import { Dag } from "./dag.js";
import type { CrashSummary, RunOutcome } from "./outcome.js";

/** Crash identity by title alone: what the table tests mean by "the same crash". */
export const sameTitle = (a: CrashSummary, b: CrashSummary): boolean => a.title === b.title;

/** A linear history c0 ← c1 ← … ← c(n-1). */
export function chain(n: number): Dag {
  return new Dag(Array.from({ length: n }, (_, i) => ({ hash: `c${i}`, parents: i === 0 ? [] : [`c${i - 1}`] })));
}

/** `n` runs with the same outcome. */
export function times(run: RunOutcome, n: number): RunOutcome[] {
  return Array.from({ length: n }, () => run);
}
