// A commit whose runs all hang stops its batch once they hang alike (Lua's string.rep: every
// commit before 5cfc725a hung 10 runs × the timeout each). Real git, real builds, real processes.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HANGS_ALIKE } from "../core/hangs.js";
import type { Strategy } from "../core/strategy.js";
import { bisectInProcess, scratchHistory, simpleHistory, type Scratch } from "./testkit.js";
import { loadEvents } from "./events.js";

/** Before featureAt the program rejects its input (exit 1); this reproducer then waits forever. */
async function hangingHistory(): Promise<{ s: Scratch; reproducer: string }> {
  const s = await scratchHistory(simpleHistory(24, { culprit: 18, featureAt: 12 }));
  const reproducer = join(s.dir, "hang-if-rejected");
  writeFileSync(reproducer, '#!/bin/sh\n./demo "$@"\nstatus=$?\nif [ "$status" -eq 1 ]; then exec sleep 60; fi\nexit "$status"\n');
  chmodSync(reproducer, 0o755);
  return { s, reproducer };
}

/** Runs and hung runs per commit, from the event log. */
function hangsPerCommit(s: Scratch): { hangsAt: Map<string, number>; runsAt: Map<string, number> } {
  const events = loadEvents(readFileSync(join(s.dir, "work", "events.jsonl"), "utf8")).events;
  const hangsAt = new Map<string, number>();
  const runsAt = new Map<string, number>();
  for (const e of events) {
    if (e.type !== "run-finished") continue;
    runsAt.set(e.commit, (runsAt.get(e.commit) ?? 0) + 1);
    if (e.outcome.kind === "crash" && e.outcome.crash.type === "HANG") hangsAt.set(e.commit, (hangsAt.get(e.commit) ?? 0) + 1);
  }
  return { hangsAt, runsAt };
}

/** The strategy, with every request made a whole batch of `runs`. */
const wholeBatches =
  (runs: number) =>
  (strategy: Strategy): Strategy => ({
    name: strategy.name,
    next: (...args) => {
      const step = strategy.next(...args);
      return step.kind === "test" ? { ...step, tests: step.tests.map((t) => ({ ...t, runs: Math.max(t.runs, runs) })) } : step;
    },
  });

const job = (reproducer: string): Record<string, unknown> => ({
  runs: 10,
  startRuns: 10,
  parallelism: { commits: 1, runs: 2 },
  reproducer: { command: [reproducer], timeout: "1s" },
});

describe("hangs", () => {
  it("a batch whose runs hang alike stops after the first few, which count as masked", async () => {
    const { s, reproducer } = await hangingHistory();
    try {
      const { result, log } = await bisectInProcess(s, job(reproducer), wholeBatches(10));
      assert.equal(result.culprit?.hash, s.history.culprit, log.join("\n"));
      const { hangsAt, runsAt } = hangsPerCommit(s);
      assert.ok(hangsAt.size > 0, `some commit older than the feature was tested: ${log.join("\n")}`);
      for (const [commit, hangs] of hangsAt) {
        assert.equal(runsAt.get(commit), hangs, `${commit} only hung`);
        assert.equal(hangs, HANGS_ALIKE, `${commit} ran ${hangs} runs, not a whole batch of 10`);
      }
      assert.ok(log.some((l) => /: 5 runs hung alike \(".+"\), each masking the target: the rest of its batch is not run/.test(l)), log.join("\n"));
    } finally {
      await s.cleanup();
    }
  });
  it("a crash that always fires is asked one wave of the runs at once: a commit that hangs costs two timeouts, not a batch", async () => {
    const { s, reproducer } = await hangingHistory();
    try {
      const { result, log } = await bisectInProcess(s, job(reproducer));
      assert.equal(result.culprit?.hash, s.history.culprit, log.join("\n"));
      const { hangsAt, runsAt } = hangsPerCommit(s);
      assert.ok(hangsAt.size > 0, `some commit older than the feature was tested: ${log.join("\n")}`);
      for (const [commit, hangs] of hangsAt) assert.deepEqual([hangs, runsAt.get(commit)], [2, 2], `${commit}: ${log.join("\n")}`);
    } finally {
      await s.cleanup();
    }
  });
});
