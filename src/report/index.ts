// report/: console log in, first crash out. The only place in culprit that reads console logs.

import type { CrashReport } from "./types.js";
import { lineAt, lineStarts } from "./text.js";
import { findUserspaceCrash } from "./userspace.js";
import { findKernelCrash } from "./linux.js";

export type { CrashIdentity, CrashReport } from "./types.js";
export { sameCrash, CrashFamily } from "./family.js";
export { NO_OUTPUT_TITLE, LOST_CONNECTION_TITLE } from "./titles.js";

/** The first crash in a console log (kernel oops or userspace report), or null. Never throws. */
export function parse(log: string): CrashReport | null {
  try {
    const starts = lineStarts(log);
    const lineOf = (offset: number): number => lineAt(starts, offset);
    const kernel = findKernelCrash(log, starts, lineOf);
    // Only a userspace report that starts no later than the kernel one can win: stop there.
    const end = kernel ? (starts[kernel.startLine + 1] ?? log.length) : log.length;
    const user = findUserspaceCrash(log, starts, lineOf, end);
    if (!kernel) return user;
    if (!user) return kernel;
    // A userspace report recognised on the same line is more specific than a generic kernel header.
    return user.startLine <= kernel.startLine ? user : kernel;
  } catch {
    // A bug here must not take a bisection down; an unparseable log is reported as no crash.
    return null;
  }
}
