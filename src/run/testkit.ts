// Test helpers for runners: crash reports without a console log behind them.

import type { CrashReport } from "../report/types.js";

/** A report titled `title` starting on line `at`, everything else empty. */
export function reportTitled(title: string, at = 0, suppressed = false): CrashReport {
  return {
    title,
    alt: [],
    type: "",
    frame: "",
    guiltyFile: "",
    corrupted: false,
    corruptedReason: "",
    report: title,
    startLine: at,
    endLine: at,
    suppressed,
    crashState: [],
    frames: [],
  };
}
