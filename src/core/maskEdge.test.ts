import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { maskEdgeToTest, maskedStretchFound } from "./maskEdge.js";
import type { CrashSummary, Observation, RunOutcome } from "./outcome.js";
import { chain, sameTitle, times } from "./testworld.js";

const exit3: CrashSummary = { title: "exit status 3", alt: [], type: "EXIT", frame: "" };
const hang: RunOutcome = { kind: "crash", crash: { title: "no output from test machine", alt: [], type: "HANG", frame: "" } };
const T: RunOutcome = { kind: "crash", crash: exit3 };
const OK: RunOutcome = { kind: "ok" };
const dag = chain(40);
const ran = (i: number, runs: RunOutcome[]): Observation => ({ commit: `c${i}`, remedies: [], build: { kind: "ok", signature: `s${i}` }, runs });
const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe("maskEdgeToTest: where a masked stretch ends is searched by halving", () => {
  const cases: [string, number[], Observation[], number | undefined][] = [
    ["the stretch between the newest hang and the oldest target is halved", upTo(30), [ran(39, times(T, 5)), ran(30, times(T, 5)), ran(10, times(hang, 5)), ran(5, times(hang, 5))], 20],
    ["a hang in the middle moves the masked side up", upTo(30), [ran(30, times(T, 5)), ran(20, times(hang, 5)), ran(10, times(hang, 5))], 25],
    ["found: the newest hang is the oldest target's parent", upTo(30), [ran(30, times(T, 5)), ran(29, times(hang, 5))], undefined],
    ["no masked commit below: nothing to find", upTo(30), [ran(30, times(T, 5))], undefined],
    ["the newest candidate did not show the target", upTo(30), [ran(10, times(hang, 5))], undefined],
    ["a clean commit between: not one masked stretch", upTo(30), [ran(30, times(T, 5)), ran(20, times(OK, 5)), ran(10, times(hang, 5))], undefined],
    ["a commit masked on most runs but clean on one: no stretch masked on every run", upTo(30), [ran(30, times(T, 5)), ran(10, [...times(hang, 4), OK])], undefined],
    ["no candidates", [], [], undefined],
  ];
  for (const [name, candidates, observations, want] of cases) {
    it(name, () => assert.equal(maskEdgeToTest(dag, candidates, observations, exit3, sameTitle), want === undefined ? undefined : want));
  }
});

describe("maskedStretchFound: the edge is found and only the mask lies below it", () => {
  const cases: [string, number[], Observation[], boolean][] = [
    ["edge found, three masked below, one in the older half", upTo(30), [ran(30, times(T, 5)), ran(29, times(hang, 5)), ran(25, times(hang, 5)), ran(8, times(hang, 5))], true],
    ["edge found, but the masked ones crowd the edge", upTo(30), [ran(30, times(T, 5)), ran(29, times(hang, 5)), ran(27, times(hang, 5)), ran(22, times(hang, 5))], false],
    ["edge found, too few masked commits tested", upTo(30), [ran(30, times(T, 5)), ran(29, times(hang, 5)), ran(5, times(hang, 5))], false],
    ["edge not found: an untested commit between", upTo(30), [ran(30, times(T, 5)), ran(28, times(hang, 5)), ran(20, times(hang, 5)), ran(5, times(hang, 5))], false],
    ["masked most of the time, clean once (a masking crash that wins only sometimes)", upTo(30), [ran(30, times(T, 5)), ran(29, [...times(hang, 4), OK]), ran(25, times(hang, 5)), ran(8, times(hang, 5))], false],
    ["a clean commit among the candidates", upTo(30), [ran(30, times(T, 5)), ran(29, times(hang, 5)), ran(20, times(OK, 5)), ran(5, times(hang, 5))], false],
    ["the newest candidate did not show the target", upTo(30), [ran(29, times(hang, 5)), ran(20, times(hang, 5)), ran(5, times(hang, 5))], false],
    ["no candidates", [], [], false],
  ];
  for (const [name, candidates, observations, want] of cases) {
    it(name, () => assert.equal(maskedStretchFound(dag, candidates, observations, exit3, sameTitle), want));
  }
});
