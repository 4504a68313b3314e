// The report/ API: a console log goes in, a crash report (or none) comes out.
// Everything else in culprit that needs to know "which crash was this" goes through here.

/** What a parsed crash is, as far as telling crashes apart goes. */
export interface CrashIdentity {
  /** syzbot-style title, e.g. "possible deadlock in del_gendisk" (≤ 120 chars). */
  title: string;
  /** Alternative titles the same bug is also known by (compare as a set). */
  alt: string[];
  /** Crash type as syzbot names it: HANG, WARNING, DoS, LOCKDEP, MEMORY_SAFETY_BUG, KASAN-*, ...; "" when unknown. */
  type: string;
  /** The guilty frame (first non-infrastructure frame); "" when none. */
  frame: string;
}

export interface CrashReport extends CrashIdentity {
  /** Source file to blame for maintainer lookup; "" when unknown. */
  guiltyFile: string;
  /** The report is truncated or garbled. */
  corrupted: boolean;
  corruptedReason: string;
  /** The extracted report text. */
  report: string;
  /** 0-based line numbers of the report's first and last line in the console log. */
  startLine: number;
  endLine: number;
  /** A crash that must not be reported (e.g. an out-of-memory kill the fuzzer caused itself). */
  suppressed: boolean;
  /** Up to three frames (ClusterFuzz-style crash state) for de-duplication. */
  crashState: string[];
  /** The top of the stack for graded identity: the guilty frame first, then its callers (up to 6); [] when unknown. */
  frames: string[];
}
