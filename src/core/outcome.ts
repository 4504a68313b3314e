// Facts observed about one commit: how its build went and what each run showed.
// These are values, produced by build/ and run/+report/, consumed by strategies.

/** The part of a crash report a strategy needs to tell crashes apart. */
export interface CrashSummary {
  title: string;
  alt: string[];
  type: string;
  frame: string;
  /** The top stack frames, guilty frame first where known (for graded crash identity); absent in old event logs. */
  frames?: string[];
  /** The guilty source file; absent or "" when unknown. */
  file?: string;
}

/** How much a crash looks like the target: 1 = the same bug, 0 = unrelated (report/'s crashSimilarity, injected). */
export type CrashSimilarity = (crash: CrashSummary, target: CrashSummary) => number;

/** What one run of the reproducer showed. Hangs are crashes with a hang title. `crash` is the log's
 *  first report (its title, as syzbot titles a log); `more` the later reports of the same log, in order. */
export type RunOutcome =
  | { kind: "ok" }
  | { kind: "crash"; crash: CrashSummary; more?: CrashSummary[] }
  | { kind: "boot-failed"; crash: CrashSummary; more?: CrashSummary[] }
  | { kind: "basic-failed"; crash: CrashSummary; more?: CrashSummary[] }
  | { kind: "infra"; reason: string }
  /** The reproducer could not run on this build (it errored out without crashing: an unknown
   *  syntax, a missing file, its own failed check); `tail` is the end of its output. Says nothing. */
  | { kind: "untestable"; reason: string; tail: string };

export type BuildOutcome =
  | { kind: "ok"; signature: string }
  | { kind: "failed"; excerpt: string };

/** Everything known about one commit built with one set of remedies. */
export interface Observation {
  commit: string;
  /** Remedies the build was made with (e.g. "disable:LOCKDEP"); sorted, usually empty. */
  remedies: string[];
  build?: BuildOutcome;
  runs: RunOutcome[];
}

/** One line per run, as the log prints it (the reference log's wording). */
export function describeRun(run: RunOutcome): string {
  switch (run.kind) {
    case "ok":
      return "OK";
    case "crash":
      return `crashed: ${run.crash.title}`;
    case "boot-failed":
      return `boot failed: ${run.crash.title}`;
    case "basic-failed":
      return `basic testing failed: ${run.crash.title}`;
    case "infra":
      return `infra problem: ${run.reason}`;
    case "untestable":
      return `reproducer could not run: ${run.reason}`;
  }
}

/** Key of an observation: the same commit built with other remedies is another observation. */
export function observationKey(commit: string, remedies: readonly string[]): string {
  return remedies.length === 0 ? commit : `${commit}+${[...remedies].sort().join(",")}`;
}
