// The live status line on a terminal: what is being tested, steps left, elapsed time, ETA.
// Another view of the event log; plain log lines stay untouched above it.

import { goDuration } from "../core/duration.js";
import type { BisectEvent } from "./events.js";

export interface ProgressState {
  current?: string;
  phase: "build" | "test" | "idle";
  runsDone: number;
  commitsDone: number;
  stepsLeft?: number;
  elapsedMs: number;
  etaMs?: number;
}

/**
 * Pure: the status a run of events adds up to (so it can be tested without a terminal).
 * `estimatedStepsLeft` stands in when the strategy counts no steps ahead (no bisect-step note).
 */
export function progressOf(events: readonly BisectEvent[], now: number, estimatedStepsLeft?: number): ProgressState {
  const state: ProgressState = { phase: "idle", runsDone: 0, commitsDone: 0, elapsedMs: 0 };
  let startedAt: number | undefined;
  for (const e of events) {
    if (e.type === "started") startedAt ??= e.at;
    if (e.type === "note" && e.note.kind === "bisect-step") state.stepsLeft = e.note.stepsLeft;
    if (e.type === "build-started") {
      state.current = e.commit;
      state.phase = "build";
      state.runsDone = 0;
    }
    if (e.type === "build-finished") state.phase = "test";
    if (e.type === "run-finished") state.runsDone++;
    if (e.type === "tests-finished") {
      state.phase = "idle";
      state.commitsDone++;
    }
  }
  state.stepsLeft ??= estimatedStepsLeft;
  state.elapsedMs = startedAt === undefined ? 0 : now - startedAt;
  if (state.stepsLeft !== undefined && state.commitsDone > 0) {
    state.etaMs = (state.elapsedMs / state.commitsDone) * (state.stepsLeft + 1);
  }
  return state;
}

/** `unknown`: what to say for steps left and the ETA when they are not known (left out if not given). */
export function describeProgress(state: ProgressState, unknown?: string): string {
  const parts = [`${state.commitsDone} tested`];
  if (state.stepsLeft !== undefined) parts.push(`~${state.stepsLeft} steps left`);
  else if (unknown !== undefined) parts.push(`steps left ${unknown}`);
  if (state.current) parts.push(`${state.phase === "build" ? "building" : "testing"} ${state.current.slice(0, 12)}${state.phase === "test" ? ` (${state.runsDone} runs)` : ""}`);
  parts.push(`elapsed ${goDuration(Math.round(state.elapsedMs / 1000) * 1000)}`);
  if (state.etaMs !== undefined) parts.push(`ETA ~${goDuration(Math.round(state.etaMs / 1000) * 1000)}`);
  else if (unknown !== undefined) parts.push(`ETA ${unknown}`);
  return parts.join(" · ");
}

export class Progress {
  private shown = false;
  private timer: NodeJS.Timeout | undefined;
  private events: readonly BisectEvent[] = [];

  constructor(private readonly out: NodeJS.WriteStream) {}

  update(_event: BisectEvent, events: readonly BisectEvent[]): void {
    this.events = events;
    this.render();
    // Keeps the elapsed time moving during long builds.
    this.timer ??= setInterval(() => this.render(), 1000).unref();
  }

  private render(): void {
    const line = describeProgress(progressOf(this.events, Date.now()));
    this.out.write(`\r\x1b[K${line.slice(0, Math.max(40, (this.out.columns || 120) - 1))}`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) this.out.write("\r\x1b[K");
    this.shown = false;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.clear();
  }
}
