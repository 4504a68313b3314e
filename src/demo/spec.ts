// The demo's history: ~300 commits of a small C program, with every difficulty culprit
// is built for — a flaky crash, an unrelated crash in part of the range, a build-broken
// stretch, comment-only commits, merges and release tags.

import type { HistorySpec } from "./history.js";

export const DEMO_HISTORY: HistorySpec = {
  mainCommits: 290,
  culprit: 196,
  targetPercent: 40,
  other: { from: 100, to: 170, percent: 25 },
  buildBroken: { from: 228, to: 236 },
  releases: { 0: "v1.0", 60: "v1.1", 120: "v1.2", 172: "v1.3", 240: "v2.0-rc1", 268: "v2.0" },
  commentOnlyEvery: 3,
  sideBranches: [
    { mergeAt: 80, length: 5 },
    { mergeAt: 210, length: 6 },
  ],
  randomness: "urandom",
  sanitize: true,
};
