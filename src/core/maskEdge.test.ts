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
const broken = (i: number): Observation => ({ commit: `c${i}`, remedies: [], build: { kind: "failed", excerpt: "error" }, runs: [] });
const brokenFrom = (newest: number, oldest: number): Observation[] => Array.from({ length: newest - oldest + 1 }, (_, k) => broken(newest - k));

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
    // c29..c11 between the target and the hang; c20 does not build. Its neighbours likely do not
    // either: the probe goes where a build is likely and the split still good, not to c21 or c19.
    ["a broken commit at the halving point: the next probe keeps away from it", upTo(30), [ran(30, times(T, 5)), broken(20), ran(10, times(hang, 5))], 26],
    ["between two broken commits nothing is probed: the stretch is taken for one", upTo(30), [ran(30, times(T, 5)), broken(25), broken(15), ran(10, times(hang, 5))], 28],
    ["every commit between does not build: the edge is inside the broken stretch, nothing to probe", upTo(30), [ran(30, times(T, 5)), ...brokenFrom(29, 21), ran(20, times(hang, 5))], undefined],
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
    ["the edge lies in a broken stretch under the newest target, three masked below", upTo(30), [ran(30, times(T, 5)), ...brokenFrom(29, 21), ran(20, times(hang, 5)), ran(15, times(hang, 5)), ran(5, times(hang, 5))], true],
    ["an untested commit between the broken stretch and the masked one: it may build, not found", upTo(30), [ran(30, times(T, 5)), ...brokenFrom(29, 22), ran(20, times(hang, 5)), ran(15, times(hang, 5)), ran(5, times(hang, 5))], false],
    ["an untested commit between two broken ones is taken for part of their stretch", upTo(30), [ran(30, times(T, 5)), broken(29), broken(27), ran(26, times(hang, 5)), ran(15, times(hang, 5)), ran(5, times(hang, 5))], true],
  ];
  for (const [name, candidates, observations, want] of cases) {
    it(name, () => assert.equal(maskedStretchFound(dag, candidates, observations, exit3, sameTitle), want));
  }
});
