// What a job's row says about it, read off its events and users' corrections: pure views, so
// the store, the import and the server all describe a job the same way.

import type { BisectEvent } from "../bisect/events.js";
import type { BisectResult } from "../bisect/result.js";

export interface EventSummary {
  kind?: string;
  strategy?: string;
  /** The crash bisected: the target picked (or named) on the start commit, else the result's report. */
  crashTitle?: string;
  result?: BisectResult;
  /** How the events end: with a result, with an interruption, or still going (or cut short by a kill). */
  ending: "finished" | "interrupted" | "open";
}

export function summarize(events: readonly BisectEvent[]): EventSummary {
  const summary: EventSummary = { ending: "open" };
  for (const e of events) {
    switch (e.type) {
      case "started":
        summary.kind = e.kind;
        summary.strategy = e.strategy;
        summary.ending = "open";
        break;
      case "note":
        if (e.note.kind === "target") summary.crashTitle = e.note.crash.title;
        break;
      case "interrupted":
        summary.ending = "interrupted";
        break;
      case "finished":
        summary.result = e.result;
        summary.ending = "finished";
        if (summary.crashTitle === undefined && e.result.report) summary.crashTitle = e.result.report.title;
        break;
      default:
        break;
    }
  }
  return summary;
}

/** The row fields a result sets. */
export function resultColumns(result: BisectResult): { outcome: string; culprit: string | null; confidence: number; result: string } {
  return { outcome: result.outcome, culprit: result.culprit?.hash ?? null, confidence: result.confidence, result: JSON.stringify(result) };
}

export interface CorrectionFact {
  at: number;
  by: string;
  kind: "invalid" | "culprit";
  culprit: string | null;
  reason: string;
}

/** A result as users corrected it: the newest correction counts. */
export interface Verdict {
  /** The culprit to believe: set by hand, else the bisection's; none once marked invalid. */
  culprit: string | null;
  source: "bisection" | "hand" | "invalid";
  /** The correction that decided, if any. */
  correction?: CorrectionFact;
}

export function corrected(bisected: string | null, corrections: readonly CorrectionFact[]): Verdict {
  const last = [...corrections].sort((a, b) => a.at - b.at).at(-1);
  if (!last) return { culprit: bisected, source: "bisection" };
  if (last.kind === "invalid") return { culprit: null, source: "invalid", correction: last };
  return { culprit: last.culprit, source: "hand", correction: last };
}
