// The first crash of a console log, kernel or userspace, whichever starts first.

import type { CrashReport } from "./types.js";
import { lineAt, lineStarts } from "./text.js";
import { findUserspaceCrash } from "./userspace.js";
import { findKernelCrash } from "./linux.js";

// Kernel-table reports that plain userspace programs (Go, syzkaller's tools) print too.
const goStyleHeaders = new Set(["panic", "go runtime error", "SYZFAIL", "SYZFATAL"]);

/** Like parse(), but a bug in a parser throws instead of reading as "no crash" (for tests). */
export function firstCrash(log: string): CrashReport | null {
  const starts = lineStarts(log);
  const lineOf = (offset: number): number => lineAt(starts, offset);
  const kernel = findKernelCrash(log, starts, lineOf);
  // Only a userspace report that starts no later than the kernel one can win: stop there.
  const end = kernel ? (starts[kernel.startLine + 1] ?? log.length) : log.length;
  // In a kernel console, asserts, panics and a shell's "Segmentation fault" are the reproducer's
  // own business (a kernel bug shows up as an oops), and Go panics are named the way syzbot
  // names them. Sanitizer reports are unambiguous everywhere.
  const kernelConsole =
    (kernel !== null && !goStyleHeaders.has(kernel.title.split(":")[0] ?? "")) || /(?:^|\n)\[ *\d+\.\d+\]/.test(log.slice(0, 1 << 20));
  const user = findUserspaceCrash(log, starts, lineOf, end, { programReports: !kernelConsole });
  if (!kernel) return user;
  if (!user) return kernel;
  // A userspace report recognised on the same line is more specific than a generic kernel header.
  return user.startLine <= kernel.startLine ? user : kernel;
}
