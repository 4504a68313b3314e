import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { BisectEvent } from "./events.js";
import { describeProgress, progressOf } from "./progress.js";

const ok = { kind: "ok" as const };

const KEY = "0".repeat(64);

describe("progress line", () => {
  const events: BisectEvent[] = [
    { type: "started", at: 0, kind: "cause", start: "a".repeat(40), strategy: "syzbot", resumed: false },
    { type: "build-started", at: 0, request: "r", commit: "a".repeat(40), remedies: [], toolchain: "gcc" },
    { type: "build-finished", at: 1000, request: "r", commit: "a".repeat(40), remedies: [], build: { kind: "ok", signature: "s" }, cached: false, durationMs: 1000, cacheKey: KEY, signatureLabel: "build" },
    { type: "run-finished", at: 2000, request: "r", commit: "a".repeat(40), remedies: [], index: 0, outcome: ok, durationMs: 1000, log: KEY },
    { type: "tests-finished", at: 10_000, request: "r", commit: "a".repeat(40), remedies: [], runs: 1, durationMs: 9000 },
    { type: "note", at: 10_000, note: { kind: "bisect-step", commit: "b".repeat(40), revisionsLeft: 7, stepsLeft: 3 } },
    { type: "build-started", at: 10_000, request: "r2", commit: "b".repeat(40), remedies: [], toolchain: "gcc" },
  ];

  const cases: [string, number, string][] = [
    ["before anything ran", 1, "0 tested · elapsed 0s"],
    ["while building the start commit", 2, "0 tested · building aaaaaaaaaaaa · elapsed 0s"],
    ["while testing it", 4, "0 tested · testing aaaaaaaaaaaa (1 runs) · elapsed 2s"],
    ["building the next step, with an ETA from the pace so far", 7, "1 tested · ~3 steps left · building bbbbbbbbbbbb · elapsed 10s · ETA ~40s"],
  ];
  it("says what it does not know when asked to", () => {
    const seen = events.slice(0, 4);
    assert.equal(describeProgress(progressOf(seen, 2000), "—"), "0 tested · steps left — · testing aaaaaaaaaaaa (1 runs) · elapsed 2s · ETA —");
  });

  it("takes an estimate of the steps left when the strategy counts none, never over its own count", () => {
    const culprit = events.slice(0, 5).concat([{ type: "build-started", at: 10_000, request: "r2", commit: "b".repeat(40), remedies: [], toolchain: "gcc" }]);
    assert.equal(describeProgress(progressOf(culprit, 10_000, 2), "—"), "1 tested · ~2 steps left · building bbbbbbbbbbbb · elapsed 10s · ETA ~30s");
    assert.equal(progressOf(events, 10_000, 9).stepsLeft, 3, "the strategy's own count wins");
  });

  for (const [name, upTo, want] of cases) {
    it(name, () => {
      const seen = events.slice(0, upTo);
      assert.equal(describeProgress(progressOf(seen, (seen.at(-1) as BisectEvent).at)), want);
    });
  }
});
