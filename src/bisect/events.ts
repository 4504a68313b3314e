// The event log: every fact of a bisection, one JSON object per line, appended as it happens.
// The human log, the progress display and the JSON result are views of it; `--resume`
// replays it into observations and continues without repeating finished work.

import { appendFileSync, existsSync, readFileSync } from "node:fs";
import type { BuildOutcome, Observation, RunOutcome } from "../core/outcome.js";
import { observationKey } from "../core/outcome.js";
import type { BisectKind, Note } from "../core/strategy.js";
import type { BisectResult } from "./result.js";

export type BisectEvent =
  | { type: "started"; at: number; kind: BisectKind; start: string; strategy: string; resumed: boolean }
  | { type: "note"; at: number; note: Note; title?: string }
  | { type: "build-started"; at: number; commit: string; remedies: string[]; toolchain: string }
  | {
      type: "build-finished";
      at: number;
      commit: string;
      remedies: string[];
      build: BuildOutcome;
      cached: boolean;
      durationMs: number;
      logFile: string;
      signatureLabel: string;
    }
  | { type: "run-finished"; at: number; commit: string; remedies: string[]; index: number; outcome: RunOutcome; durationMs: number; logFile: string }
  | { type: "tests-finished"; at: number; commit: string; remedies: string[]; runs: number; durationMs: number }
  | { type: "interrupted"; at: number }
  | { type: "finished"; at: number; result: BisectResult };

export class EventLog {
  readonly events: BisectEvent[] = [];
  private readonly listeners: ((event: BisectEvent) => void)[] = [];

  constructor(readonly file: string) {
    if (existsSync(file)) {
      for (const line of readFileSync(file, "utf8").split("\n")) {
        if (line.trim().length === 0) continue;
        try {
          this.events.push(JSON.parse(line) as BisectEvent);
        } catch {
          // A line cut short by kill -9 is the only way to get here; what it said is redone.
        }
      }
    }
  }

  onEvent(listener: (event: BisectEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Appends synchronously, so an event is on disk before anything that depends on it happens. */
  record(event: BisectEvent): void {
    appendFileSync(this.file, JSON.stringify(event) + "\n");
    this.events.push(event);
    for (const listener of this.listeners) listener(event);
  }
}

/** Observations (builds and runs per commit+remedies) as recorded so far. */
export function observationsOf(events: readonly BisectEvent[]): Observation[] {
  const byKey = new Map<string, Observation>();
  const get = (commit: string, remedies: string[]): Observation => {
    const key = observationKey(commit, remedies);
    let o = byKey.get(key);
    if (!o) {
      o = { commit, remedies, runs: [] };
      byKey.set(key, o);
    }
    return o;
  };
  for (const e of events) {
    if (e.type === "build-finished") get(e.commit, e.remedies).build = e.build;
    if (e.type === "run-finished") get(e.commit, e.remedies).runs.push(e.outcome);
  }
  return [...byKey.values()];
}
