// Resume continues the bisection that was started, not whatever its names point at now.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { git } from "../git/git.js";
import { loadEvents } from "./events.js";
import { prepareJob, resumeJob, type PreparedJob } from "./job.js";
import { Interrupted, runBisection } from "./orchestrator.js";
import { demoJob, scratchHistory, simpleHistory } from "./testkit.js";

/** Runs a prepared bisection until its second test has finished, then interrupts it as Ctrl-C would. */
async function interruptedAfterTwoTests(prepared: PreparedJob): Promise<void> {
  const controller = new AbortController();
  let tested = 0;
  await assert.rejects(
    runBisection(prepared.spec, prepared.deps, {
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === "tests-finished" && ++tested === 2) controller.abort();
      },
    }),
    Interrupted,
  );
}

describe("resume", () => {
  it("a work dir of another event schema starts over, and the log says so", async () => {
    const s = await scratchHistory(simpleHistory(12, { culprit: 8 }));
    try {
      const workDir = join(s.dir, "work");
      const prepared = await prepareJob(demoJob(s, { runs: 2, startRuns: 2 }), s.dir, workDir);
      // A line as an older culprit wrote it: schema 1, a local log path.
      const old = { type: "run-finished", at: 1, v: 1, job: "old", seq: 0, commit: s.history.head, remedies: [], index: 0, outcome: { kind: "ok" }, durationMs: 1, logFile: "/x/run-0.log" };
      writeFileSync(join(workDir, "events.jsonl"), `${JSON.stringify(old)}\n`);
      const result = await runBisection(prepared.spec, prepared.deps, { signal: new AbortController().signal });
      assert.equal(result.culprit?.hash, s.history.culprit);
      const events = loadEvents(readFileSync(join(workDir, "events.jsonl"), "utf8")).events;
      assert.ok(events.some((e) => e.type === "note" && e.note.kind === "info" && /1 lines this culprit cannot replay/.test(e.note.text)));
      assert.equal(events.filter((e) => e.type === "run-finished" && e.commit === s.history.head && e.index === 0).length, 1, "the old line is not one of its runs");
    } finally {
      await s.cleanup();
    }
  });

  it("a copy of a work dir resumes in the copy, not in the directory it was copied from", async () => {
    const s = await scratchHistory(simpleHistory(40, { culprit: 25, releases: { 5: "v1.0", 15: "v1.1" } }));
    try {
      const workDir = join(s.dir, "work");
      const prepared = await prepareJob(demoJob(s, { runs: 4, startRuns: 4 }), s.dir, workDir);
      await interruptedAfterTwoTests(prepared);
      const copy = join(s.dir, "copy");
      cpSync(workDir, copy, { recursive: true });
      rmSync(workDir, { recursive: true, force: true });
      const resumed = await resumeJob(copy);
      const result = await runBisection(resumed.spec, resumed.deps, { signal: new AbortController().signal });
      assert.equal(result.culprit?.hash, s.history.culprit);
      assert.equal(result.workDir, copy);
      assert.ok(!existsSync(workDir), "nothing is written where the work dir was copied from");
      const events = loadEvents(readFileSync(join(copy, "events.jsonl"), "utf8")).events;
      assert.equal(events.filter((e) => e.type === "started").length, 2, "the copy's log goes on");
      assert.equal(events.filter((e) => e.type === "build-finished" && e.commit === s.history.head).length, 1, "the start commit is not built again");
      assert.equal(JSON.parse(readFileSync(join(copy, "job.json"), "utf8")).workDir, copy, "the next resume starts here too");
    } finally {
      await s.cleanup();
    }
  });

  it("after the branch named by start moved, continues on the recorded hashes", async () => {
    const s = await scratchHistory(simpleHistory(40, { culprit: 25, releases: { 5: "v1.0", 15: "v1.1" } }));
    try {
      const head = s.history.head;
      await git(s.history.dir, ["branch", "topic", head]);
      const workDir = join(s.dir, "work");
      const prepared = await prepareJob(demoJob(s, { start: "topic", runs: 4, startRuns: 4 }), s.dir, workDir);
      await interruptedAfterTwoTests(prepared);
      // The branch now names a commit before the culprit: resolved again, it would not crash.
      await git(s.history.dir, ["branch", "-f", "topic", s.history.main[10] as string]);
      const resumed = await resumeJob(workDir);
      const result = await runBisection(resumed.spec, resumed.deps, { signal: new AbortController().signal });
      assert.equal(result.start, head);
      assert.equal(result.outcome, "culprit");
      assert.equal(result.culprit?.hash, s.history.culprit);
      const events = loadEvents(readFileSync(join(workDir, "events.jsonl"), "utf8")).events;
      assert.equal(events.filter((e) => e.type === "problem").length, 1, "the problem is recorded once");
      assert.equal(events.filter((e) => e.type === "started").length, 2);
    } finally {
      await s.cleanup();
    }
  });
});
