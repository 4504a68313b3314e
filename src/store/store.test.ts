// The same store suite on SQLite and on a real PostgreSQL server (started here; a PostgreSQL
// that cannot start fails these tests, it never skips them).

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EVENT_SCHEMA_VERSION, type RecordedEvent } from "../bisect/events.js";
import { prepareJob, resumeJob } from "../bisect/job.js";
import { Interrupted, runBisection } from "../bisect/orchestrator.js";
import { demoJob, scratchHistory, simpleHistory, type Scratch } from "../bisect/testkit.js";
import { backends, type Backend } from "./backends.js";
import { BlobStore } from "./blobs.js";
import { importWorkDir, readWorkDir } from "./import.js";
import { Store, type NewJob } from "./store.js";

function jobRow(id: string, fields: Partial<NewJob> = {}): NewJob {
  return { id, status: "queued", kind: "cause", repo: "/repos/a", strategy: "culprit", job: "{}", workDir: `/work/${id}`, ...fields };
}

function event(seq: number, fields: Partial<RecordedEvent> & Pick<RecordedEvent, "type">): RecordedEvent {
  return { at: 1_700_000_000_000 + seq, v: EVENT_SCHEMA_VERSION, job: "j1", seq, ...fields } as RecordedEvent;
}

const buildFinished = (seq: number, commit: string, ok: boolean): RecordedEvent =>
  event(seq, {
    type: "build-finished",
    request: `r-${commit}`,
    commit,
    remedies: [],
    build: ok ? { kind: "ok", signature: `sig-${commit}` } : { kind: "failed", excerpt: "error: x" },
    cached: false,
    durationMs: 1234.5,
    cacheKey: (ok ? "a" : "b").repeat(64),
    signatureLabel: "build",
  });

/** One CLI bisection of a generated history, kept twice: interrupted half-way, and finished. */
interface WorkDirs {
  scratch: Scratch;
  interrupted: string;
  finished: string;
}

async function cliWorkDirs(): Promise<WorkDirs> {
  const scratch = await scratchHistory(simpleHistory(30, { culprit: 20, releases: { 5: "v1.0" } }));
  const workDir = join(scratch.dir, "work");
  const prepared = await prepareJob(demoJob(scratch, { runs: 3, startRuns: 3 }), scratch.dir, workDir);
  const controller = new AbortController();
  let tested = 0;
  await assert.rejects(
    runBisection(prepared.spec, prepared.deps, {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === "tests-finished" && ++tested === 2) controller.abort();
      },
    }),
    Interrupted,
  );
  const interrupted = join(scratch.dir, "interrupted");
  await cp(workDir, interrupted, { recursive: true });
  const resumed = await resumeJob(workDir);
  await runBisection(resumed.spec, resumed.deps, { signal: new AbortController().signal });
  return { scratch, interrupted, finished: workDir };
}

let dirs: Promise<WorkDirs> | undefined;
after(async () => (await dirs)?.scratch.cleanup());

for (const [name, make] of Object.entries(backends)) {
  describe(`store on ${name}`, () => {
    // Started by the first test that needs it, so a server that cannot start fails each test
    // (a failing before-hook would only cancel them).
    let backend: Promise<Backend> | undefined;
    const fresh = async (): Promise<string> => (await (backend ??= make())).fresh();
    const stores: Store[] = [];
    const open = async (location?: string, options?: { migrateTo?: string }): Promise<Store> => {
      const store = await Store.open(location ?? (await fresh()), options);
      stores.push(store);
      return store;
    };
    after(async () => {
      for (const s of stores) await s.close().catch(() => undefined);
      await (await backend?.catch(() => undefined))?.teardown();
    });

    it("creates its schema once: opening the same database again migrates nothing and keeps the rows", async () => {
      const location = await fresh();
      const first = await open(location);
      assert.equal(first.dialect, name);
      await first.insertJob(jobRow("a"));
      const second = await open(location);
      assert.deepEqual(await second.counts(), { jobs: 1, events: 0, builds: 0, corrections: 0, workers: 0 });
    });

    it("upgrades a database made by the first migration, keeping its rows", async () => {
      const location = await fresh();
      const old = await open(location, { migrateTo: "0001-jobs-events-builds-corrections" });
      await old.insertJob(jobRow("j1"));
      await old.db
        .insertInto("builds")
        .values({ jobId: "j1", seq: 1, commit: "c1", remedies: "[]", ok: 1, signature: "s", cached: 0, durationMs: 1, log: null } as never)
        .execute();
      const upgraded = await open(location);
      assert.deepEqual(
        (await upgraded.builds("j1")).map((b) => [b.commit, b.cacheKey]),
        [["c1", null]],
      );
    });

    it("keeps a job as given, times as numbers, and refuses a second job with the same id", async () => {
      const store = await open();
      assert.equal(await store.insertJob(jobRow("a", { confidence: 0.987654321 }), 1_790_000_000_123), true);
      assert.equal(await store.insertJob(jobRow("a", { repo: "/elsewhere" })), false);
      const row = await store.job("a");
      assert.equal(row?.createdAt, 1_790_000_000_123);
      assert.equal(row?.repo, "/repos/a");
      assert.equal(row?.confidence, 0.987654321);
      await store.updateJob("a", { status: "finished", outcome: "culprit", culprit: "abc" }, 1_790_000_000_999);
      const updated = await store.job("a");
      assert.equal(updated?.status, "finished");
      assert.equal(updated?.updatedAt, 1_790_000_000_999);
      assert.equal(await store.job("nope"), undefined);
    });

    it("lists newest first and filters by status, kind, repo and part of the crash title", async () => {
      const store = await open();
      await store.insertJob(jobRow("old", { crashTitle: "KASAN: use-after-free Read in foo" }), 1000);
      await store.insertJob(jobRow("fix", { kind: "fix", status: "running", crashTitle: "WARNING in bar" }), 2000);
      await store.insertJob(jobRow("other", { repo: "/repos/b", crashTitle: "100% CPU in baz_qux" }), 3000);
      const ids = (rows: { id: string }[]): string[] => rows.map((r) => r.id);
      assert.deepEqual(ids(await store.jobs()), ["other", "fix", "old"]);
      assert.deepEqual(ids(await store.jobs({ status: "running" })), ["fix"]);
      assert.deepEqual(ids(await store.jobs({ kind: "cause" })), ["other", "old"]);
      assert.deepEqual(ids(await store.jobs({ repo: "/repos/b" })), ["other"]);
      assert.deepEqual(ids(await store.jobs({ crash: "USE-after" })), ["old"]);
      // LIKE's wildcards in the search are plain characters.
      assert.deepEqual(ids(await store.jobs({ crash: "100%" })), ["other"]);
      assert.deepEqual(ids(await store.jobs({ crash: "z_q" })), ["other"]);
      assert.deepEqual(ids(await store.jobs({ crash: "_" })), ["other"]);
      assert.deepEqual(ids(await store.jobs({ limit: 1 })), ["other"]);
    });

    it("appends events once: a second delivery adds nothing, and builds are indexed from them", async () => {
      const store = await open();
      await store.insertJob(jobRow("j1"));
      const events = [event(0, { type: "interrupted" }), buildFinished(1, "c1", true), buildFinished(2, "c2", false)];
      assert.equal(await store.appendEvents("j1", events.map((e) => ({ event: e, log: null }))), 3);
      assert.equal(await store.appendEvents("j1", [...events, event(3, { type: "interrupted" })].map((e) => ({ event: e, log: null }))), 1);
      const stored = await store.events("j1");
      assert.deepEqual(stored.map((s) => s.event), [...events, event(3, { type: "interrupted" })]);
      assert.deepEqual((await store.events("j1", 1)).map((s) => s.event.seq), [2, 3]);
      const builds = await store.builds("j1");
      assert.deepEqual(
        builds.map((b) => [b.commit, b.ok, b.signature, b.durationMs, b.cacheKey]),
        [
          ["c1", 1, "sig-c1", 1234.5, "a".repeat(64)],
          ["c2", 0, null, 1234.5, "b".repeat(64)],
        ],
      );
      assert.deepEqual((await store.buildsOfCacheEntry("a".repeat(64))).map((b) => [b.jobId, b.commit]), [["j1", "c1"]]);
      assert.deepEqual(await store.counts(), { jobs: 1, events: 4, builds: 2, corrections: 0, workers: 0 });
    });

    it("refuses events of a job it does not hold", async () => {
      const store = await open();
      await assert.rejects(store.appendEvents("ghost", [{ event: event(0, { type: "interrupted" }), log: null }]));
      assert.equal((await store.counts()).events, 0);
    });

    it("keeps workers by name: announced again, seen by heartbeat, never deleted", async () => {
      const store = await open();
      const worker = { name: "host-a:12", capabilities: '["generic"]', concurrency: '{"builds":1,"runs":4}', heartbeatMs: 15_000 };
      assert.equal(await store.workerHeartbeat("host-a:12", { doing: "[]", stopped: 0 }, 5), false, "not announced yet");
      await store.announceWorker(worker, 10);
      assert.equal(await store.workerHeartbeat("host-a:12", { doing: '[{"request":"r"}]', stopped: 0 }, 20), true);
      await store.announceWorker({ ...worker, name: "host-b:7" }, 30);
      await store.workerHeartbeat("host-b:7", { doing: "[]", stopped: 1 }, 40);
      assert.deepEqual(
        (await store.workers()).map((w) => [w.name, w.announcedAt, w.lastSeen, w.doing, w.stopped, w.heartbeatMs]),
        [
          ["host-a:12", 10, 20, '[{"request":"r"}]', 0, 15_000],
          ["host-b:7", 30, 40, "[]", 1, 15_000],
        ],
      );
      // Started again under its name: what it had in hand and its stop are of its last life.
      await store.announceWorker({ ...worker, name: "host-b:7", capabilities: '["qemu"]' }, 50);
      assert.deepEqual((await store.workers()).find((w) => w.name === "host-b:7"), { ...worker, name: "host-b:7", capabilities: '["qemu"]', announcedAt: 50, lastSeen: 50, doing: "[]", stopped: 0 });
      assert.equal((await store.counts()).workers, 2);
    });

    it("keeps corrections oldest first", async () => {
      const store = await open();
      await store.insertJob(jobRow("j"));
      await store.addCorrection({ jobId: "j", by: "ann", kind: "invalid", culprit: null, reason: "flaky reproducer" }, 5);
      await store.addCorrection({ jobId: "j", by: "bob", kind: "culprit", culprit: "c0ffee", reason: "reverting it fixes the crash" }, 9);
      assert.deepEqual(
        (await store.corrections("j")).map((c) => [c.at, c.by, c.kind, c.culprit]),
        [
          [5, "ann", "invalid", null],
          [9, "bob", "culprit", "c0ffee"],
        ],
      );
      assert.deepEqual(await store.corrections("other"), []);
    });

    it("imports a CLI work dir: interrupted, then finished; the same dir twice adds nothing", async () => {
      dirs ??= cliWorkDirs();
      const { interrupted, finished, scratch } = await dirs;
      const store = await open();
      const blobDir = await mkdtemp(join(tmpdir(), "culprit-blobs-"));
      try {
        const blobs = new BlobStore(blobDir);
        const first = await importWorkDir(store, blobs, readWorkDir(interrupted));
        assert.equal(first.created, true);
        assert.equal(first.status, "interrupted");
        assert.equal((await store.job(first.job))?.status, "interrupted");
        const second = await importWorkDir(store, blobs, readWorkDir(finished));
        assert.equal(second.job, first.job, "the same bisection: the event log's job id");
        assert.equal(second.created, false);
        assert.ok(second.eventsAdded > 0);
        const row = await store.job(first.job);
        assert.equal(row?.status, "finished");
        assert.equal(row?.outcome, "culprit");
        assert.equal(row?.culprit, scratch.history.culprit);
        assert.equal(row?.crashTitle, "fatal signal SIGSEGV");
        const counts = await store.counts();
        const again = await importWorkDir(store, blobs, readWorkDir(finished));
        assert.equal(again.eventsAdded, 0);
        assert.deepEqual(await store.counts(), counts);
        // Every run's and build's console log is in the blob store, by content.
        const withLogs = (await store.events(first.job)).filter((e) => e.event.type === "run-finished" || e.event.type === "build-finished");
        assert.ok(withLogs.length > 0);
        for (const e of withLogs) {
          assert.ok(e.log, `no log for event ${e.event.seq}`);
          assert.ok(await blobs.get(e.log));
        }
        assert.ok((await readdir(blobDir)).length > 0);
      } finally {
        await rm(blobDir, { recursive: true, force: true });
      }
    });
  });
}
