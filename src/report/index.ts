// report/: console log in, first crash out. The only place in culprit that reads console logs.

import type { CrashReport } from "./types.js";
import { firstCrash } from "./crash.js";

export type { CrashIdentity, CrashReport } from "./types.js";
export { sameCrash, CrashFamily } from "./family.js";
export { NO_OUTPUT_TITLE, LOST_CONNECTION_TITLE } from "./titles.js";

/** The first crash in a console log (kernel oops or userspace report), or null. Never throws. */
export function parse(log: string): CrashReport | null {
  try {
    return firstCrash(log);
  } catch {
    // A parser bug must not take a bisection down; the fuzz test calls firstCrash to catch them.
    return null;
  }
}
