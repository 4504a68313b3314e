import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { candidateRanges, type CandidateRange } from "./candidateRanges.js";
import { Dag } from "./dag.js";
import type { CrashSummary, Observation, RunOutcome } from "./outcome.js";
import { sameTitle } from "./testworld.js";

const target: CrashSummary = { title: "exit status 3", alt: [], type: "EXIT", frame: "" };
const hang: CrashSummary = { title: "reproducer hung", alt: [], type: "HANG", frame: "" };
const same = sameTitle;
const T: RunOutcome = { kind: "crash", crash: target };
const H: RunOutcome = { kind: "crash", crash: hang };
const OK: RunOutcome = { kind: "ok" };
const INFRA: RunOutcome = { kind: "infra", reason: "lost connection" };

// c0 ← … ← c9 on the main line; a side branch s0 ← s1 forks at c2 and merges at c6 (c6's parents: c5, s1).
const dag = new Dag([
  ...Array.from({ length: 10 }, (_, i) => ({ hash: `c${i}`, parents: i === 0 ? [] : i === 6 ? ["c5", "s1"] : [`c${i - 1}`] })),
  { hash: "s0", parents: ["c2"] },
  { hash: "s1", parents: ["s0"] },
]);

function ran(commit: string, runs: RunOutcome[]): Observation {
  return { commit, remedies: [], build: { kind: "ok", signature: `sig-${commit}` }, runs };
}
/** A commit whose build is byte-for-byte its parent's: it cannot be the culprit, whatever it showed. */
function sameBuildAs(commit: string, parent: string, runs: RunOutcome[]): Observation {
  return { commit, remedies: [], build: { kind: "ok", signature: `sig-${parent}` }, runs };
}
function broken(commit: string): Observation {
  return { commit, remedies: [], build: { kind: "failed", excerpt: "error" }, runs: [] };
}
const none = { target: 0, clean: 0, masked: 0, broken: 0, unusable: 0, untested: 0 };

describe("candidateRanges: an inconclusive answer as stretches of history", () => {
  const cases: { name: string; candidates: string[]; observations: Observation[]; want: CandidateRange[] }[] = [
    {
      name: "everything older than the first target commit hangs: one range, said why",
      candidates: ["c1", "c2", "c3", "c4"],
      observations: [ran("c4", [T, T]), ran("c3", [H, H]), ran("c1", [H, H, H])],
      want: [{ newest: "c4", oldest: "c1", commits: 4, status: { ...none, target: 1, masked: 2, untested: 1 }, maskedBy: "reproducer hung", maskedBelowNewest: true }],
    },
    {
      name: "two stretches apart: two ranges, newest first",
      candidates: ["c1", "c2", "c7", "c8"],
      observations: [broken("c7"), broken("c8"), ran("c1", [INFRA, INFRA]), ran("c2", [OK, INFRA, INFRA])],
      want: [
        { newest: "c8", oldest: "c7", commits: 2, status: { ...none, broken: 2 } },
        { newest: "c2", oldest: "c1", commits: 2, status: { ...none, unusable: 2 } },
      ],
    },
    {
      name: "a side branch joins the range through the merge",
      candidates: ["s0", "s1", "c6"],
      observations: [ran("c6", [T]), ran("s0", [OK, OK])],
      want: [{ newest: "c6", oldest: "s0", commits: 3, status: { ...none, target: 1, clean: 1, untested: 1 } }],
    },
    {
      // Lua's v5.4.6..HEAD: the good commit was released from a side line, so the range has two roots.
      name: "a range with two roots names both oldest ends",
      candidates: ["c4", "c5", "s0", "s1", "c6"],
      observations: [ran("c6", [T]), ran("s0", [H, H]), ran("c4", [H])],
      want: [{ newest: "c6", oldest: "s0", oldestEnds: ["s0", "c4"], commits: 5, status: { ...none, target: 1, masked: 2, untested: 2 }, maskedBy: "reproducer hung" }],
    },
    {
      // Lua's string.rep once the end of the hangs is found: the answer people act on.
      name: "the newest commit is where a masked stretch ends",
      candidates: ["c1", "c2", "c3", "c4", "c5"],
      observations: [ran("c5", [T, T]), ran("c4", [H, H]), ran("c2", [H])],
      want: [{ newest: "c5", oldest: "c1", commits: 5, status: { ...none, target: 1, masked: 2, untested: 2 }, maskedBy: "reproducer hung", maskedBelowNewest: true }],
    },
    {
      name: "a masked commit not right below the newest: where the masking ends is not known",
      candidates: ["c1", "c2", "c3", "c4", "c5"],
      observations: [ran("c5", [T, T]), ran("c2", [H])],
      want: [{ newest: "c5", oldest: "c1", commits: 5, status: { ...none, target: 1, masked: 1, untested: 3 }, maskedBy: "reproducer hung" }],
    },
    {
      name: "a single candidate is a range of one",
      candidates: ["c5"],
      observations: [ran("c5", [T, OK])],
      want: [{ newest: "c5", oldest: "c5", commits: 1, status: { ...none, target: 1 } }],
    },
    {
      name: "a commit that built once and failed once is not broken; candidates outside the graph are ignored",
      candidates: ["c3", "x9"],
      observations: [ran("c3", [OK]), { ...broken("c3"), remedies: ["disable:LOCKDEP"] }],
      want: [{ newest: "c3", oldest: "c3", commits: 1, status: { ...none, clean: 1 } }],
    },
    {
      // Lua's string.rep history: "Details (comments)" commits left out as candidates split one hang into three.
      name: "a commit left out only because it builds to its parent's build does not split the stretch",
      candidates: ["c1", "c2", "c3", "c4", "c6", "c7"],
      observations: [ran("c7", [T]), ran("c4", [H, H]), sameBuildAs("c5", "c4", [H, H]), ran("c2", [H])],
      want: [{ newest: "c7", oldest: "c1", commits: 6, status: { ...none, target: 1, masked: 2, untested: 3 }, maskedBy: "reproducer hung" }],
    },
    {
      name: "a commit left out for what it showed still splits",
      candidates: ["c1", "c2", "c3", "c4", "c6", "c7"],
      observations: [ran("c7", [T]), ran("c4", [H, H]), ran("c5", [OK, OK]), ran("c2", [H])],
      want: [
        { newest: "c7", oldest: "c6", commits: 2, status: { ...none, target: 1, untested: 1 } },
        { newest: "c4", oldest: "c1", commits: 4, status: { ...none, masked: 2, untested: 2 }, maskedBy: "reproducer hung" },
      ],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(candidateRanges(dag, c.candidates, c.observations, target, same), c.want));
});
