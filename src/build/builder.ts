// The Builder contract. A builder turns a checked-out commit into artifacts and a signature;
// the orchestrator wraps it with the build cache, so a builder never decides about caching.

export interface BuildRequest {
  commit: string;
  /** Checked-out tree of `commit` (a git worktree culprit owns). */
  worktree: string;
  /** Remedies asked for by the strategy, e.g. "disable:LOCKDEP"; a builder may ignore unknown ones. */
  remedies: string[];
  /** Where the builder copies the artifacts it declares (the cache entry being filled). */
  artifactsDir: string;
  /** Build output goes here, whole. */
  logFile: string;
  signal: AbortSignal;
  /** A build ahead of need: run at the lowest CPU priority, so the tests under way keep the CPU. */
  background?: boolean;
}

export type BuildResult =
  | { kind: "ok"; signature: string; durationMs: number }
  | {
      kind: "failed";
      excerpt: string;
      durationMs: number;
      /** Why the failure may not recur (timed out, killed by a signal or the OOM killer): such a
       *  build is retried and never cached as a failure. Absent: the tree itself does not build. */
      transient?: string;
    };

export interface Builder {
  /** Identity of the toolchain for this commit: first line of `<compiler> --version`. */
  toolchain(commit: string): Promise<string>;
  /** Hash of everything besides the tree and toolchain that changes the output (command, config file). */
  configHash(remedies: readonly string[]): string;
  build(request: BuildRequest): Promise<BuildResult>;
}
