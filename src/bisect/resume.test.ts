// Resume continues the bisection that was started, not whatever its names point at now.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { git } from "../git/git.js";
import { loadEvents } from "./events.js";
import { prepareJob, resumeJob, type PreparedJob } from "./job.js";
import { Interrupted, runBisection } from "./orchestrator.js";
import { LogStore } from "./logstore.js";
import { demoJob, SCHEMA1_LOG, scratchHistory, simpleHistory } from "./testkit.js";

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
      // A line of a schema this culprit does not know (a newer culprit's).
      const old = { type: "run-finished", at: 1, v: 3, job: "old", seq: 0, commit: s.history.head, remedies: [], index: 0, outcome: { kind: "ok" }, durationMs: 1, log: "x" };
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

  it("a schema-1 work dir is upgraded and resumed: nothing it recorded is done again", async () => {
    const s = await scratchHistory(simpleHistory(40, { culprit: 25, releases: { 5: "v1.0", 15: "v1.1" } }));
    try {
      const fixture = readFileSync(SCHEMA1_LOG, "utf8");
      const first = JSON.parse(fixture.split("\n")[0] as string) as { start: string };
      assert.equal(s.history.head, first.start, "the generated history is the one the fixture was written for");
      const workDir = join(s.dir, "work");
      const prepared = await prepareJob(demoJob(s, { runs: 4, startRuns: 4 }), s.dir, workDir);
      writeFileSync(join(workDir, "events.jsonl"), fixture);
      // One run's log, where a copy of the old work dir would hold it (its recorded path is gone).
      mkdirSync(join(workDir, "logs", s.history.head), { recursive: true });
      writeFileSync(join(workDir, "logs", s.history.head, "run-0.log"), "the start commit's first run\n");
      const result = await runBisection(prepared.spec, prepared.deps, { signal: new AbortController().signal });
      assert.equal(result.culprit?.hash, s.history.culprit);
      const events = loadEvents(readFileSync(join(workDir, "events.jsonl"), "utf8")).events;
      assert.ok(events.some((e) => e.type === "note" && /event schema 1\): 32 events upgraded/.test(e.note.kind === "info" ? e.note.text : "")));
      assert.ok(!events.some((e) => e.type === "note" && e.note.kind === "info" && /starting over/.test(e.note.text)));
      const tested = (commit: string): number => events.filter((e) => e.type === "tests-started" && e.commit === commit).length;
      const testedBefore = ["6ea3d54dfc8f8b72c1bb5b8dd7c5d9c3a3a76cc4", "5365ed9478198c95ee6444b601eedc0eac75ab21", "213ac0f9eb167588a6a6ca941eac97faca38413c"];
      assert.deepEqual(testedBefore.map(tested), [1, 1, 1], "the three tests the old culprit made are not made again");
      const run0 = events.find((e) => e.type === "run-finished" && e.commit === s.history.head && e.index === 0);
      assert.ok(run0?.type === "run-finished");
      assert.equal(readFileSync(new LogStore(join(workDir, "logs")).path(run0.log), "utf8"), "the start commit's first run\n");
      assert.equal(readFileSync(join(workDir, "events.jsonl.schema1"), "utf8"), fixture, "the original log is kept");
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
