// No barrier per step: with two workers, the one that finishes early takes the next test
// while the other is still busy.

import { join } from "node:path";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Builder, BuildRequest } from "../build/builder.js";
import { observationKey } from "../core/outcome.js";
import type { Strategy, TestRequest } from "../core/strategy.js";
import type { RunRequest } from "../run/runner.js";
import { runBisection } from "./orchestrator.js";
import { scratchHistory, scratchSpec, simpleHistory } from "./testkit.js";

describe("pipeline", () => {
  it("a worker that finishes early gets the next test while a slow one still builds", { timeout: 60_000 }, async () => {
    const s = await scratchHistory(simpleHistory(8, { commentOnlyEvery: 0 }));
    try {
      const [slow, fast1, fast2] = [2, 4, 6].map((i) => s.history.main[i] as string) as [string, string, string];
      let fast2Started!: () => void;
      const fast2Building = new Promise<void>((resolve) => (fast2Started = resolve));
      const inFlightSeen: string[][] = [];
      const builder: Builder = {
        toolchain: async () => "cc 1",
        configHash: () => "h",
        build: async (request: BuildRequest) => {
          // The slow build ends only once fast2 has started: a barrier would wait forever.
          if (request.commit === slow) await fast2Building;
          if (request.commit === fast2) fast2Started();
          return { kind: "ok", signature: request.commit, durationMs: 1 };
        },
      };
      const test = (commit: string): TestRequest => ({ commit, runs: 0, remedies: [] });
      const strategy: Strategy = {
        name: "pipeline-probe",
        next: (_problem, observations, inFlight = []) => {
          inFlightSeen.push(inFlight.map((r) => r.commit));
          const built = new Set(observations.filter((o) => o.build).map((o) => observationKey(o.commit, o.remedies)));
          if (built.has(slow) && built.has(fast2)) return { kind: "done", result: { outcome: "no-culprit", reason: "not-reproduced", detail: "probe", confidence: 1 }, notes: [] };
          return { kind: "test", tests: [test(slow), test(built.has(fast1) ? fast2 : fast1)], notes: [] };
        },
      };
      const result = await runBisection(
        scratchSpec(s, 2),
        { builder, runner: { run: async () => [] }, strategy, parse: () => null, sameCrash: () => true, signatureLabel: "build" },
        { signal: new AbortController().signal },
      );
      assert.equal(result.outcome, "no-culprit");
      assert.ok(inFlightSeen.some((commits) => commits.includes(slow)), "the strategy was asked again while the slow test ran, and was told so");
    } finally {
      await s.cleanup();
    }
  });
  it("runs asked for alongside a built commit start on other workers, each with run indices of its own", { timeout: 60_000 }, async () => {
    const s = await scratchHistory(simpleHistory(8, { commentOnlyEvery: 0 }));
    try {
      const commit = s.history.main[3] as string;
      const asked: number[][] = [];
      let inRunner = 0;
      let mostAtOnce = 0;
      let askedAlongside = false;
      const strategy: Strategy = {
        name: "alongside-probe",
        next: (_problem, observations, inFlight = []) => {
          const seen = observations.find((o) => o.commit === commit);
          if (!seen?.build) return { kind: "test", tests: [{ commit, runs: 1, remedies: [] }], notes: [] };
          if (inFlight.length > 0) return { kind: "test", tests: [], notes: [] };
          if (askedAlongside) return { kind: "done", result: { outcome: "no-culprit", reason: "not-reproduced", detail: "probe", confidence: 1 }, notes: [] };
          askedAlongside = true;
          const more = (alongside: boolean): TestRequest => ({ commit, runs: 2, remedies: [], ...(alongside ? { alongside } : {}) });
          return { kind: "test", tests: [more(false), more(true), more(true)], notes: [] };
        },
      };
      const runner = {
        run: async (request: RunRequest) => {
          asked.push(request.indices);
          inRunner++;
          mostAtOnce = Math.max(mostAtOnce, inRunner);
          // Runs take a moment, so requests started together are seen together.
          await new Promise((resolve) => setTimeout(resolve, 50));
          inRunner--;
          return request.indices.map((index) => ({ index, outcome: { kind: "ok" } as const, logFile: join(request.logDir, `run-${index}.log`), durationMs: 1 }));
        },
      };
      const result = await runBisection(
        scratchSpec(s, 3),
        { builder: { toolchain: async () => "cc 1", configHash: () => "h", build: async (r: BuildRequest) => ({ kind: "ok", signature: r.commit, durationMs: 1 }) }, runner, strategy, parse: () => null, sameCrash: () => true, signatureLabel: "build" },
        { signal: new AbortController().signal },
      );
      assert.equal(result.outcome, "no-culprit");
      const indices = asked.slice(1).flat().sort((a, b) => a - b);
      assert.deepEqual(indices, [1, 2, 3, 4, 5, 6], "three requests of two runs after the first run, no index twice");
      assert.equal(mostAtOnce, 3);
    } finally {
      await s.cleanup();
    }
  });
});
