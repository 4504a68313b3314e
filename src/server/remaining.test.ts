import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { entropyBits, stepsLeftOf } from "./remaining.js";

const uniform = (n: number): number[] => Array.from({ length: n }, () => 1 / n);

describe("steps left from a posterior", () => {
  const cases: [string, number[], number, number][] = [
    // name, masses, entropy in bits, steps left
    ["one hypothesis is certain", [1, 0, 0], 0, 0],
    ["the leader holds exactly the target", [0.95, 0.05], 0.286, 0],
    ["the leader just below the target", [0.94, 0.06], 0.327, 1],
    ["two equal hypotheses: one test", [0.5, 0.5], 1, 1],
    ["four equal hypotheses", uniform(4), 2, 2],
    ["1024 equal commits: ten halvings, the last one short of certain", uniform(1024), 10, 10],
    ["1026 (1024 commits, everywhere and nowhere)", uniform(1026), 10.003, 10],
    ["unnormalised masses count as their shares", [2, 2], 1, 1],
    ["a peaked posterior over many commits", [0.8, ...Array.from({ length: 100 }, () => 0.002)], 2.05, 2],
    ["nothing known (all zero)", [0, 0], 0, 0],
  ];
  for (const [name, masses, bits, steps] of cases) {
    it(name, () => {
      assert.ok(Math.abs(entropyBits(masses) - bits) < 0.005, `entropy ${entropyBits(masses)}, want ${bits}`);
      assert.equal(stepsLeftOf(masses), steps);
    });
  }
});
