import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Dag, ancestorCounts, type CommitNode } from "./dag.js";

describe("ancestor counts", () => {
  // A mainline m0…m9 with a side branch (s1 off m2, merged at m5), a second root (an old-base
  // branch r0, r1 merged at m7) and a tip x off the side branch.
  const edges: Record<string, string[]> = {
    m0: [], m1: ["m0"], m2: ["m1"], s1: ["m2"], m3: ["m2"], m4: ["m3"], m5: ["m4", "s1"], m6: ["m5"],
    r0: [], r1: ["r0"], m7: ["m6", "r1"], m8: ["m7"], m9: ["m8"], x: ["s1"],
  };
  const nodes: CommitNode[] = Object.entries(edges).map(([hash, parents]) => ({ hash, parents }));
  const dag = new Dag(nodes);
  const size = (c: number): number => dag.ancestry(c).reduce((a, v) => a + v, 0);
  const cases: [string, string[]][] = [
    ["releases on one line", ["m3", "m5", "m8", "m9"]],
    ["one commit", ["m7"]],
    ["commits on no common line (side branch, old-base root, a tip off the mainline)", ["s1", "m4", "r1", "x", "m9", "m6"]],
    ["the same commit twice, and the root", ["m6", "m6", "m0"]],
  ];
  for (const [name, hashes] of cases) {
    it(name, () => {
      const commits = hashes.map((h) => dag.index(h));
      const counts = ancestorCounts(dag, commits);
      for (const c of commits) assert.equal(counts.get(c), size(c), dag.hash(c));
    });
  }
});
