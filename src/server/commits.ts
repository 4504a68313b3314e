// The per-commit table of a job's page: what each tested commit (with its remedies) showed, and
// which workers built and ran it, read off the events in the order commits were first built.

import type { BisectEvent } from "../bisect/events.js";
import { describeRun, observationKey } from "../core/outcome.js";

export interface CommitRow {
  commit: string;
  remedies: string[];
  /** The release tag it was tested as, or the title a bisection step gave it. */
  label?: string;
  build?: { ok: boolean; signature?: string; cached: boolean; durationMs: number };
  /** Distinct run outcomes with how many runs had each, most frequent first. */
  runs: { outcome: string; count: number }[];
  testMs: number;
  verdict?: "good" | "bad" | "skip";
  /** Its build was under way when the job ended (an answer stops the tests it does not need). */
  stopped?: boolean;
  /** The worker that built it (or is building it); absent when the server did. */
  builtBy?: string;
  /** The workers that ran it, with how many runs each, most first; absent when the server ran them all. */
  ranBy?: { worker: string; count: number }[];
}

export function commitRows(events: readonly BisectEvent[]): CommitRow[] {
  const rows = new Map<string, CommitRow>();
  const labels = new Map<string, string>();
  const verdicts = new Map<string, "good" | "bad" | "skip">();
  const row = (commit: string, remedies: string[]): CommitRow => {
    const key = observationKey(commit, remedies);
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { commit, remedies, runs: [], testMs: 0 }));
    return r;
  };
  for (const e of events) {
    switch (e.type) {
      case "note":
        if (e.note.kind === "release") labels.set(e.note.commit, e.note.tag);
        if (e.note.kind === "bisect-step" && e.title !== undefined && !labels.has(e.note.commit)) labels.set(e.note.commit, e.title);
        if (e.note.kind === "verdict") verdicts.set(e.note.commit, e.note.verdict);
        break;
      case "build-started": {
        const r = row(e.commit, e.remedies);
        if (e.worker !== undefined && r.build === undefined) r.builtBy = e.worker;
        break;
      }
      case "build-finished":
        if (e.worker !== undefined) row(e.commit, e.remedies).builtBy = e.worker;
        row(e.commit, e.remedies).build = {
          ok: e.build.kind === "ok",
          ...(e.build.kind === "ok" ? { signature: e.build.signature } : {}),
          cached: e.cached,
          durationMs: e.durationMs,
        };
        break;
      case "run-finished": {
        const r = row(e.commit, e.remedies);
        const outcome = describeRun(e.outcome);
        const seen = r.runs.find((x) => x.outcome === outcome);
        if (seen) seen.count++;
        else r.runs.push({ outcome, count: 1 });
        if (e.worker !== undefined) {
          r.ranBy ??= [];
          const by = r.ranBy.find((x) => x.worker === e.worker);
          if (by) by.count++;
          else r.ranBy.push({ worker: e.worker, count: 1 });
        }
        break;
      }
      case "tests-finished":
        row(e.commit, e.remedies).testMs += e.durationMs;
        break;
      case "finished":
        for (const r of rows.values()) if (r.build === undefined) r.stopped = true;
        break;
      default:
        break;
    }
  }
  return [...rows.values()].map((r) => {
    const label = labels.get(r.commit);
    const verdict = verdicts.get(r.commit);
    return { ...r, runs: [...r.runs].sort((a, b) => b.count - a.count), ...(r.ranBy ? { ranBy: [...r.ranBy].sort((a, b) => b.count - a.count) } : {}), ...(label !== undefined ? { label } : {}), ...(verdict ? { verdict } : {}) };
  });
}
