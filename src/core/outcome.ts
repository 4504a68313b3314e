// Facts observed about one commit: how its build went and what each run showed.
// These are values, produced by build/ and run/+report/, consumed by strategies.

/** The part of a crash report a strategy needs to tell crashes apart. */
export interface CrashSummary {
  title: string;
  alt: string[];
  type: string;
  frame: string;
}

/** What one run of the reproducer showed. Hangs are crashes with a hang title. */
export type RunOutcome =
  | { kind: "ok" }
  | { kind: "crash"; crash: CrashSummary }
  | { kind: "boot-failed"; crash: CrashSummary }
  | { kind: "basic-failed"; crash: CrashSummary }
  | { kind: "infra"; reason: string };

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
  }
}

/** Key of an observation: the same commit built with other remedies is another observation. */
export function observationKey(commit: string, remedies: readonly string[]): string {
  return remedies.length === 0 ? commit : `${commit}+${[...remedies].sort().join(",")}`;
}
