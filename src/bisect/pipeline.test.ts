// No barrier per step: with two workers, the one that finishes early takes the next test
// while the other is still busy.

import { join } from "node:path";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Builder, BuildRequest } from "../build/builder.js";
import { observationKey } from "../core/outcome.js";
import type { Strategy, TestRequest } from "../core/strategy.js";
import type { RunRequest } from "../run/runner.js";
import type { ExecutionOptions, ExecutionRequest, Executor, Fact } from "./executor.js";
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
  it("an answer given while tests are in flight stops them instead of waiting for them", { timeout: 60_000 }, async () => {
    const s = await scratchHistory(simpleHistory(8, { commentOnlyEvery: 0 }));
    try {
      const [slow, fast] = [2, 5].map((i) => s.history.main[i] as string) as [string, string];
      let slowStopped = false;
      let slowStarted!: () => void;
      const slowBuilding = new Promise<void>((resolve) => (slowStarted = resolve));
      const builder: Builder = {
        toolchain: async () => "cc 1",
        configHash: () => "h",
        build: async (request: BuildRequest) => {
          // The answer comes only once the slow build runs: on a loaded machine its checkout may
          // otherwise take longer than the fast test, and the request is stopped before it builds.
          if (request.commit === fast) await slowBuilding;
          // Without a stop this build would outlast the test's timeout.
          if (request.commit === slow) {
            slowStarted();
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, 120_000);
              request.signal.addEventListener("abort", () => {
                slowStopped = true;
                clearTimeout(timer);
                resolve();
              });
            });
          }
          return { kind: "ok", signature: request.commit, durationMs: 1 };
        },
      };
      const strategy: Strategy = {
        name: "stop-probe",
        next: (_problem, observations) =>
          observations.some((o) => o.commit === fast && o.build)
            ? { kind: "done", result: { outcome: "no-culprit", reason: "not-reproduced", detail: "probe", confidence: 1 }, notes: [] }
            : { kind: "test", tests: [slow, fast].map((commit) => ({ commit, runs: 0, remedies: [] })), notes: [] },
      };
      const notes: string[] = [];
      const result = await runBisection(
        scratchSpec(s, 2),
        { builder, runner: { run: async () => [] }, strategy, parse: () => null, sameCrash: () => true, signatureLabel: "build" },
        { signal: new AbortController().signal, onEvent: (e) => void (e.type === "note" && e.note.kind === "info" && notes.push(e.note.text)) },
      );
      assert.equal(result.outcome, "no-culprit");
      assert.ok(slowStopped, "the slow build was stopped");
      assert.ok(notes.includes("the answer needs none of the 1 tests in flight: they are stopped"), notes.join(" | "));
    } finally {
      await s.cleanup();
    }
  });

  it("a fact that lands while tests in flight are being stopped is read before the answer stands", { timeout: 60_000 }, async () => {
    const s = await scratchHistory(simpleHistory(8, { commentOnlyEvery: 0 }));
    try {
      const [late, fast] = [2, 5].map((i) => s.history.main[i] as string) as [string, string];
      let releaseLate!: () => void;
      const lateMayEnd = new Promise<void>((resolve) => (releaseLate = resolve));
      // An executor that cannot stop a request (a worker already on it): it answers anyway.
      const executor: Executor = {
        durable: false,
        execute: async (request: ExecutionRequest, options: ExecutionOptions): Promise<Fact[]> => {
          if (request.commit === late) {
            options.signal.addEventListener("abort", () => releaseLate());
            if (options.signal.aborted) releaseLate();
            await lateMayEnd;
          }
          const fact: Fact = { type: "build-finished", at: Date.now(), request: request.id, commit: request.commit, remedies: [], build: { kind: "ok", signature: request.commit }, cached: false, durationMs: 1, cacheKey: request.commit, signatureLabel: "build" };
          options.onFact?.(fact);
          return [fact];
        },
      };
      const asked: string[][] = [];
      const strategy: Strategy = {
        name: "late-fact-probe",
        next: (_problem, observations) => {
          const built = observations.filter((o) => o.build).map((o) => o.commit);
          asked.push(built);
          if (built.includes(late)) return { kind: "done", result: { outcome: "no-culprit", reason: "not-reproduced", detail: "saw the late fact", confidence: 1 }, notes: [] };
          if (built.includes(fast)) return { kind: "done", result: { outcome: "no-culprit", reason: "not-reproduced", detail: "without the late fact", confidence: 1 }, notes: [] };
          return { kind: "test", tests: [late, fast].map((commit) => ({ commit, runs: 0, remedies: [] })), notes: [] };
        },
      };
      const result = await runBisection(
        scratchSpec(s, 2),
        { builder: { toolchain: async () => "cc 1", configHash: () => "h", build: async () => ({ kind: "ok", signature: "x", durationMs: 1 }) }, runner: { run: async () => [] }, strategy, parse: () => null, sameCrash: () => true, signatureLabel: "build" },
        { signal: new AbortController().signal, executor },
      );
      assert.equal(result.outcome === "no-culprit" ? result.detail : result.outcome, "saw the late fact", JSON.stringify(asked));
    } finally {
      await s.cleanup();
    }
  });
});
