import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Dag } from "./dag.js";
import { estimateSteps, nextMidpoint } from "./midpoint.js";

/** A linear history c0 <- c1 <- ... <- c(n-1). */
function line(n: number): Dag {
  return new Dag(Array.from({ length: n }, (_, i) => ({ hash: `c${i}`, parents: i === 0 ? [] : [`c${i - 1}`] })));
}

describe("git-bisect midpoint", () => {
  it("matches git's step estimates (reference log figures)", () => {
    assert.equal(estimateSteps(17479), 13);
    assert.equal(estimateSteps(2), 0);
    assert.equal(estimateSteps(4), 1);
  });

  it("halves a linear range", () => {
    const dag = line(17);
    const step = nextMidpoint(dag, 16, [0], new Set());
    assert.equal(step.kind, "test");
    if (step.kind === "test") {
      assert.equal(step.candidates, 16);
      assert.ok(step.commit === 8 || step.commit === 9, `picked ${step.commit}`);
    }
  });

  it("finds the culprit when one candidate is left", () => {
    const dag = line(5);
    assert.deepEqual(nextMidpoint(dag, 3, [2], new Set()), { kind: "found", culprit: 3 });
  });

  it("steps around skipped commits and gives up with the skipped list", () => {
    const dag = line(5);
    const step = nextMidpoint(dag, 4, [1], new Set([2]));
    assert.equal(step.kind, "test");
    if (step.kind === "test") assert.equal(step.commit, 3);
    const stuck = nextMidpoint(dag, 4, [1], new Set([2, 3]));
    assert.deepEqual(stuck, { kind: "only-skipped", candidates: [2, 3, 4] });
  });

  it("weighs merges by real ancestor sets", () => {
    // base <- a1 <- a2 <- a3 ; base <- b1 <- b2 ; m = merge(a3, b2) <- top
    const dag = new Dag([
      { hash: "base", parents: [] },
      { hash: "a1", parents: ["base"] },
      { hash: "a2", parents: ["a1"] },
      { hash: "a3", parents: ["a2"] },
      { hash: "b1", parents: ["base"] },
      { hash: "b2", parents: ["b1"] },
      { hash: "m", parents: ["a3", "b2"] },
      { hash: "top", parents: ["m"] },
    ]);
    const step = nextMidpoint(dag, dag.index("top"), [dag.index("base")], new Set());
    assert.equal(step.kind, "test");
    // 7 candidates; a3 reaches 3 (a1..a3), the best split available.
    if (step.kind === "test") assert.equal(dag.hash(step.commit), "a3");
  });
});
