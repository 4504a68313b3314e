import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { BisectEvent } from "../bisect/events.js";
import type { BisectResult } from "../bisect/result.js";
import { corrected, summarize, type CorrectionFact } from "./summary.js";

const crash = (title: string) => ({ title, alt: [], type: "", frame: "" });
const started: BisectEvent = { type: "started", at: 1, kind: "fix", start: "s", strategy: "culprit", resumed: false };
const target = (title: string): BisectEvent => ({ type: "note", at: 2, note: { kind: "target", crash: crash(title) } });
const result = { outcome: "culprit", culprit: { hash: "c1" }, report: { title: "from the report", type: "", text: "" } } as unknown as BisectResult;
const finished: BisectEvent = { type: "finished", at: 9, result };
const interrupted: BisectEvent = { type: "interrupted", at: 5 };

describe("summarize", () => {
  const cases: [string, BisectEvent[], ReturnType<typeof summarize>][] = [
    ["no events", [], { ending: "open" }],
    ["started, still going", [started, target("A")], { ending: "open", kind: "fix", strategy: "culprit", crashTitle: "A" }],
    ["interrupted", [started, interrupted], { ending: "interrupted", kind: "fix", strategy: "culprit" }],
    ["interrupted, then resumed", [started, interrupted, started], { ending: "open", kind: "fix", strategy: "culprit" }],
    ["finished: the target picked wins over the report's title", [started, target("A"), finished], { ending: "finished", kind: "fix", strategy: "culprit", crashTitle: "A", result }],
    ["finished without a target note", [started, finished], { ending: "finished", kind: "fix", strategy: "culprit", crashTitle: "from the report", result }],
  ];
  for (const [name, events, want] of cases) it(name, () => assert.deepEqual(summarize(events), want));
});

describe("corrected", () => {
  const invalid: CorrectionFact = { at: 5, by: "ann", kind: "invalid", culprit: null, reason: "flaky" };
  const byHand: CorrectionFact = { at: 7, by: "bob", kind: "culprit", culprit: "c2", reason: "revert fixes it" };
  const cases: [string, string | null, CorrectionFact[], ReturnType<typeof corrected>][] = [
    ["no corrections: the bisection's culprit", "c1", [], { culprit: "c1", source: "bisection" }],
    ["marked invalid", "c1", [invalid], { culprit: null, source: "invalid", correction: invalid }],
    ["set by hand after an invalid mark", "c1", [invalid, byHand], { culprit: "c2", source: "hand", correction: byHand }],
    ["the newest counts whatever the order given", "c1", [byHand, { ...invalid, at: 9 }], { culprit: null, source: "invalid", correction: { ...invalid, at: 9 } }],
    ["set by hand on an inconclusive result", null, [byHand], { culprit: "c2", source: "hand", correction: byHand }],
  ];
  for (const [name, bisected, corrections, want] of cases) it(name, () => assert.deepEqual(corrected(bisected, corrections), want));
});
