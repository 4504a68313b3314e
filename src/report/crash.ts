// The crashes of a console log, kernel or userspace, in the order they start.

import type { CrashReport } from "./types.js";
import { lineAt, lineStarts } from "./text.js";
import { findUserspaceCrash } from "./userspace.js";
import { KernelScanner, type KernelFind } from "./linux.js";

// Kernel-table reports that plain userspace programs (Go, syzkaller's tools) print too.
const goStyleHeaders = new Set(["panic", "go runtime error", "SYZFAIL", "SYZFATAL"]);

const consoleTimestamp = /(?:^|\n)\[ *\d+\.\d+\]/;

/**
 * Reports read from one log at most: a kernel in KASAN multi-shot mode can print thousands, and
 * the first few say which bugs the log holds. Also what keeps reading every report linear.
 */
export const MAX_REPORTS = 32;

/** Like parseAll(), but a bug in a parser throws instead of reading as "no crash" (for tests). */
export function crashes(log: string, max = MAX_REPORTS): CrashReport[] {
  const starts = lineStarts(log);
  const lineOf = (offset: number): number => lineAt(starts, offset);
  const kernelScan = new KernelScanner(log, starts, lineOf);
  // The next kernel report at or after the current line; it stays the answer until passed.
  let kernel: KernelFind | null | undefined;
  let kernelSeen = false;
  let timestamps: boolean | null = null;
  const found: CrashReport[] = [];
  let from = 0;
  while (found.length < max && from < starts.length) {
    if (kernel === undefined || (kernel !== null && kernel.report.startLine < from)) kernel = kernelScan.next(from);
    if (kernel && !goStyleHeaders.has(kernel.report.title.split(":")[0] ?? "")) kernelSeen = true;
    // In a kernel console, asserts, panics and a shell's "Segmentation fault" are the reproducer's
    // own business (a kernel bug shows up as an oops), and Go panics are named the way syzbot
    // names them. Sanitizer reports are unambiguous everywhere.
    const kernelConsole = kernelSeen || (timestamps ??= consoleTimestamp.test(log.slice(0, 1 << 20)));
    // Only a userspace report that starts no later than the kernel one can win: stop there.
    const end = kernel ? (starts[kernel.report.startLine + 1] ?? log.length) : log.length;
    const user = findUserspaceCrash(log, starts, lineOf, { programReports: !kernelConsole }, starts[from] ?? log.length, end);
    // A userspace report recognised on the same line is more specific than a generic kernel header.
    if (user && (!kernel || user.startLine <= kernel.report.startLine)) {
      found.push(user);
      from = Math.max(user.startLine, user.endLine) + 1;
    } else if (kernel) {
      found.push(kernel.report);
      from = Math.max(kernel.report.startLine + 1, kernel.nextLine);
    } else {
      break;
    }
  }
  return found;
}

/** Like parse(), but a bug in a parser throws instead of reading as "no crash" (for tests). */
export function firstCrash(log: string): CrashReport | null {
  return crashes(log, 1)[0] ?? null;
}
