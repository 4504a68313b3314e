// The result of a bisection as `--json` writes it (schema documented in docs/result.md).

import type { CommitStatus } from "../core/candidateRanges.js";
import type { BisectKind, SearchedRange } from "../core/strategy.js";

export interface CommitSummary {
  hash: string;
  title: string;
  author: { name: string; email: string };
  date: string;
  message: string;
  diffstat: string;
  parents: string[];
}

export interface BisectResult {
  kind: BisectKind;
  outcome: "culprit" | "inconclusive" | "no-culprit" | "error";
  /** For no-culprit and error: a short machine-readable reason, and the sentence behind it. */
  reason?: string;
  detail?: string;
  strategy: string;
  start: string;
  culprit?: CommitSummary & { signature?: string; parentSignature?: string; releaseTags: string[] };
  /** Inconclusive: the commits one of which is the culprit, newest first. */
  candidates: { hash: string; title: string }[];
  /** Inconclusive: the candidates as stretches of history, newest first, with what their commits showed. */
  candidateRanges?: {
    newest: { hash: string; title: string };
    oldest: { hash: string; title: string };
    /** Only when the range has more than one: its commits with no parent in it, oldest first. */
    oldestEnds?: { hash: string; title: string }[];
    commits: number;
    status: Record<CommitStatus, number>;
    maskedBy?: string;
    /** The newest commit is where a masked stretch ends: the first bad commit is it or one below it. */
    maskedBelowNewest?: true;
  }[];
  /** The culprit's build has the same signature as its parent's: it cannot change behaviour. */
  noop: boolean;
  merge: boolean;
  release: boolean;
  confidence: number;
  revisionsTested: number;
  builds: number;
  cachedBuilds: number;
  runs: number;
  time: { totalMs: number; buildMs: number; testMs: number };
  recipients: { to: string[]; cc: string[] };
  report?: { title: string; type: string; text: string };
  /** Cause: how far back the search looked, and what bounded it there. */
  searched?: { bound: SearchedRange["bound"]; tag?: string; oldest: { hash: string; title: string; date: string }[] };
  workDir: string;
}
