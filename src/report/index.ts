// report/: console log in, crash reports out (the first is the log's title, as syzbot titles it). The only place in culprit that reads console logs.
//
// Kernel oopses get syzbot's titles and types (oopses.ts is the catalogue). Userspace reports:
//   AddressSanitizer: <kind> in <frame>       type ASAN-<KIND>     (kind as in ASan's SUMMARY line,
//   HWAddressSanitizer / MemorySanitizer: ...  HWASAN-/MSAN-<KIND>  "SEGV on unknown address" etc.)
//   LeakSanitizer: detected memory leaks in <frame>                type LEAK
//   ThreadSanitizer: data race in <frame>                          type TSAN-DATA-RACE
//   UBSan: <check> in <frame, else source file>                    type UBSAN
//   assertion failed: <condition> in <function>                    type ASSERT
//   panic: <message> in <frame> (Go), panicked: <message> in <frame or file> (Rust)   type PANIC
//   fatal signal: SIGSEGV (a shell's "Segmentation fault" line, outside kernel consoles) type SIGNAL
// <frame> is the first frame outside the sanitizer runtime, libc and the C++ runtime; numbers,
// addresses and line numbers never appear in titles, so a title survives rebuilds.

import type { CrashReport } from "./types.js";
import { crashes, firstCrash } from "./crash.js";

export type { CrashIdentity, CrashReport } from "./types.js";
export { sameCrash, crashSimilarity, CrashFamily, type CrashShape } from "./family.js";
export { NO_OUTPUT_TITLE, LOST_CONNECTION_TITLE } from "./titles.js";
export { crashOfTitle, type CrashConsole } from "./named.js";

/** The first crash in a console log (kernel oops or userspace report), or null. Never throws. */
export function parse(log: string): CrashReport | null {
  try {
    return firstCrash(log);
  } catch {
    // A parser bug must not take a bisection down; the fuzz test calls firstCrash to catch them.
    return null;
  }
}

/**
 * Every crash report in a console log, in the order they start (at most MAX_REPORTS); the first
 * is what parse() returns. A non-fatal report (lockdep, a WARNING, a UBSan warning) followed by
 * the bug's own report gives both. Never throws; linear in the log's size.
 */
export function parseAll(log: string): CrashReport[] {
  try {
    return crashes(log);
  } catch {
    const first = parse(log);
    return first ? [first] : [];
  }
}
