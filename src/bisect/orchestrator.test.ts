// The orchestrator with an executor in this process that misbehaves the way a queue may: facts
// streamed and returned, a request delivered twice, a run delivered twice with another outcome,
// runs reported out of order. Each fact must count once.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Builder } from "../build/builder.js";
import type { RunOutcome } from "../core/outcome.js";
import { loadEvents, observationsOf } from "./events.js";
import type { ExecutionOptions, ExecutionRequest, Executor, Fact } from "./executor.js";
import { strategies } from "./job.js";
import { runBisection } from "./orchestrator.js";
import { scratchHistory, scratchSpec, simpleHistory } from "./testkit.js";

const KEY = "0".repeat(64);
const crash: RunOutcome = { kind: "crash", crash: { title: "KASAN: use-after-free in f", alt: [], type: "KASAN", frame: "f" } };

/** A world where every commit from `culprit` on crashes on every run; each request is carried out twice. */
class TwiceDelivered implements Executor {
  readonly requests: ExecutionRequest[] = [];

  constructor(private readonly crashes: (commit: string) => boolean) {}

  async execute(request: ExecutionRequest, options: ExecutionOptions): Promise<Fact[]> {
    this.requests.push(request);
    const first = this.deliver(request, options, "first");
    // The second delivery reports every run the other way round: if it counted, verdicts would flip.
    const second = this.deliver(request, options, "second");
    return [...second, ...first];
  }

  private deliver(request: ExecutionRequest, options: ExecutionOptions, which: "first" | "second"): Fact[] {
    const { id, commit, remedies } = request;
    const bad = this.crashes(commit) !== (which === "second");
    const facts: Fact[] = [];
    const emit = (fact: Fact): void => {
      facts.push(fact);
      options.onFact?.(fact);
      options.onFact?.(fact);
    };
    if (!request.recorded) {
      emit({ type: "build-started", at: Date.now(), request: id, commit, remedies, toolchain: "cc 1" });
      emit({ type: "build-finished", at: Date.now(), request: id, commit, remedies, build: { kind: "ok", signature: commit }, cached: false, durationMs: 1, cacheKey: KEY, signatureLabel: "build" });
    }
    for (const index of [...request.indices].reverse()) {
      emit({ type: "run-finished", at: Date.now(), request: id, commit, remedies, index, outcome: bad ? crash : { kind: "ok" }, durationMs: 1, log: KEY });
    }
    if (request.indices.length > 0) emit({ type: "tests-finished", at: Date.now(), request: id, commit, remedies, runs: request.indices.length, durationMs: 1 });
    return facts;
  }
}

const unused: Builder = {
  toolchain: () => Promise.reject(new Error("the fake executor builds nothing")),
  configHash: () => "",
  build: () => Promise.reject(new Error("the fake executor builds nothing")),
};

describe("orchestrator and executor", () => {
  it("facts streamed twice, requests delivered twice and runs reported again with another outcome count once", { timeout: 60_000 }, async () => {
    const s = await scratchHistory(simpleHistory(40, { culprit: 23, commentOnlyEvery: 0 }));
    try {
      const position = new Map(s.history.main.map((c, i) => [c, i]));
      const executor = new TwiceDelivered((commit) => (position.get(commit) ?? 0) >= 23);
      const spec = { ...scratchSpec(s, 1), runs: 4, startRuns: 4 };
      const result = await runBisection(
        spec,
        { builder: unused, runner: { run: () => Promise.reject(new Error("unused")) }, strategy: strategies.culprit, parse: () => null, sameCrash: (a, b) => a.title === b.title, signatureLabel: "build" },
        { signal: new AbortController().signal, executor },
      );
      assert.equal(result.culprit?.hash, s.history.main[23]);

      const events = loadEvents(readFileSync(join(spec.workDir, "events.jsonl"), "utf8")).events;
      const builds = events.filter((e) => e.type === "build-finished");
      assert.equal(builds.length, new Set(builds.map((b) => b.commit)).size, "one build fact per commit");
      assert.equal(result.builds, builds.length);
      const claimed = executor.requests.reduce((n, r) => n + r.indices.length, 0);
      assert.equal(result.runs, claimed, "one run fact per claimed index");
      for (const o of observationsOf(events)) {
        const wantBad = (position.get(o.commit) ?? 0) >= 23;
        assert.ok(o.runs.every((r) => (r.kind === "crash") === wantBad), `${o.commit}: the first delivery's outcomes, only`);
      }
      assert.equal(events.filter((e) => e.type === "tests-finished").length, executor.requests.filter((r) => r.indices.length > 0).length);
    } finally {
      await s.cleanup();
    }
  });
});
