// Running jobs: a restart goes on from the work dir and the store (SQLite or PostgreSQL) without repeating a build,
// a cancel ends a running job and frees its slot.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { loadEvents, type RecordedEvent } from "../bisect/events.js";
import { generateHistory } from "../demo/history.js";
import { simpleHistory } from "../bisect/testkit.js";
import type { JobStatus } from "../store/schema.js";
import { sequenceGaps } from "./farmkit.js";
import { sseMessages } from "./sse.js";
import { auth, harness, harnessOn, jobFields, type Harness } from "./testkit.js";
import { isTerminal, type Jobs } from "./jobs.js";

/** Resolves once `count` events of a job satisfy `want`. */
function eventsSeen(jobs: Jobs, id: string, want: (e: RecordedEvent) => boolean, count = 1): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const stop = jobs.subscribe(id, (item) => {
      if (item.kind === "event" && want(item.stored.event) && ++seen === count) {
        stop();
        resolve();
      }
    });
  });
}

/** The status a job ends with (already, or once it stops). */
function ended(h: Harness, id: string): Promise<JobStatus> {
  return new Promise((resolve) => {
    const stop = h.jobs.subscribe(id, (item) => {
      if (item.kind === "end") {
        stop();
        resolve(item.status);
      }
    });
    void h.data.store.job(id).then((row) => {
      if (row && isTerminal(row.status)) {
        stop();
        resolve(row.status);
      }
    });
  });
}

describe("server jobs", () => {
  const harnesses: Harness[] = [];
  after(async () => {
    for (const h of harnesses) await h.cleanup();
  });

  for (const backend of ["sqlite", "postgres"] as const)
  it(`after a restart mid-job, goes on from where it was: same culprit, no build repeated, store and work dir equal (${backend})`, async () => {
    const h = await harnessOn(backend, { maxJobs: 1 });
    harnesses.push(h);
    const history = await generateHistory(join(h.root, "project"), simpleHistory(40, { culprit: 26 }));
    const row = await h.jobs.submit(jobFields(history), "tester");
    await eventsSeen(h.jobs, row.id, (e) => e.type === "tests-finished", 2);
    // A follower of the running job: its stream ends when the server stops, with no end message.
    const stopping = await h.app.request(`/api/jobs/${row.id}/events`, { headers: auth("read") });
    await h.restart(async () => {
      const messages = sseMessages(await stopping.text());
      assert.ok(messages.some((m) => m.event === "event"));
      assert.ok(!messages.some((m) => m.event === "end"), "the job did not end");
      assert.equal((await h.data.store.job(row.id))?.status, "running", "a stopped server's job stays running, to go on");
      // As if the server had died between an event's append to the work dir and its insert here.
      const lost = (await h.data.store.events(row.id)).map((s) => s.event.seq).slice(-3);
      await h.data.store.db.deleteFrom("events").where("jobId", "=", row.id).where("seq", "in", lost).execute();
      await h.data.store.db.deleteFrom("builds").where("jobId", "=", row.id).where("seq", "in", lost).execute();
    });
    // A follower who connects at once reads the store before the catch-up: the events caught up
    // must still reach it, in order, each once.
    const response = await h.app.request(`/api/jobs/${row.id}/events`, { headers: auth("read") });
    const streamed = sseMessages(await response.text()).flatMap((m) => (m.event === "event" ? [(JSON.parse(m.data) as { event: RecordedEvent }).event] : []));
    const status = await ended(h, row.id);
    assert.equal(status, "finished");
    assert.deepEqual(sequenceGaps(streamed), []);
    const done = await h.data.store.job(row.id);
    assert.equal(done?.culprit, history.culprit);
    const onDisk = loadEvents(await readFile(join(done?.workDir as string, "events.jsonl"), "utf8")).events;
    assert.deepEqual((await h.data.store.events(row.id)).map((s) => s.event), onDisk);
    const built = onDisk.filter((e) => e.type === "build-finished" && !e.cached).map((e) => (e.type === "build-finished" ? e.commit : ""));
    assert.deepEqual(built, [...new Set(built)], "no commit built twice");
    assert.ok(onDisk.filter((e) => e.type === "started").length >= 2, "it was resumed");
  });

  it("a job cancelled as it is being launched ends cancelled, and its followers are told (postgres)", async () => {
    // PostgreSQL answers the launch's status read and the cancel's write on separate
    // connections, so the launch could read "queued" before the cancel and write "running" after.
    const h = await harnessOn("postgres", { maxJobs: 2 });
    harnesses.push(h);
    const history = await generateHistory(join(h.root, "project"), simpleHistory(10, { culprit: 6 }));
    const outcomes: (string | undefined)[][] = [];
    for (let i = 0; i < 30; i++) {
      const row = await h.jobs.submit(jobFields(history), "tester");
      const end = ended(h, row.id);
      const answered = (await h.jobs.cancel(row.id)).status;
      outcomes.push([answered, await end, (await h.data.store.job(row.id))?.status]);
    }
    assert.deepEqual(outcomes, Array.from({ length: 30 }, () => ["cancelled", "cancelled", "cancelled"]));
  });

  it("a cancel stops the running job and its slot goes to the next one", async () => {
    const h = await harness({ maxJobs: 1 });
    harnesses.push(h);
    const history = await generateHistory(join(h.root, "project"), simpleHistory(30, { culprit: 20 }));
    const first = await h.jobs.submit(jobFields(history), "tester");
    const second = await h.jobs.submit(jobFields(history), "tester");
    await eventsSeen(h.jobs, first.id, (e) => e.type === "build-started");
    assert.equal((await h.data.store.job(second.id))?.status, "queued", "one slot: the second waits");
    const secondEnded = ended(h, second.id);
    const cancelled = await h.jobs.cancel(first.id);
    assert.equal(cancelled.status, "cancelled");
    assert.equal(await secondEnded, "finished");
    assert.equal((await h.data.store.job(second.id))?.culprit, history.culprit);
    const events = (await h.data.store.events(first.id)).map((s) => s.event.type);
    assert.equal(events.at(-1), "interrupted");
    assert.ok(!events.includes("finished"));
  });
});
