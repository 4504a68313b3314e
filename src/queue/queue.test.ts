// Bisections whose tests go through BullMQ on a real, private Redis to workers with their own
// checkout and build cache: the same culprit as in-process, and a request whose worker died
// mid-way is carried out again by another worker without a fact counted twice.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { ExecutionOptions, ExecutionRequest, Executor, Fact } from "../bisect/executor.js";
import type { RecordedEvent } from "../bisect/events.js";
import { prepareJob } from "../bisect/job.js";
import { LocalExecutor } from "../bisect/localExecutor.js";
import { LogStore } from "../bisect/logstore.js";
import { runBisection } from "../bisect/orchestrator.js";
import { demoJob, scratchHistory, simpleHistory, type Scratch } from "../bisect/testkit.js";
import { BuildCache } from "../build/cache.js";
import { Repo } from "../git/git.js";
import { Worktrees } from "../git/worktree.js";
import { QueueExecutor } from "./queueExecutor.js";
import { startRedis, type RedisServer } from "./redisServer.js";
import { QueueWorker, type WorkerSide } from "./worker.js";

/** A worker machine's own disk: its checkout, cache and logs under `dir`, nothing shared with the server. */
async function workerSide(s: Scratch, dir: string): Promise<WorkerSide & { cache: BuildCache; cleanup(): Promise<void> }> {
  const prepared = await prepareJob(demoJob(s, { workDir: join(dir, "work") }), s.dir, join(dir, "work"));
  const repo = await Repo.open(s.history.dir);
  const cache = new BuildCache(join(dir, "cache"));
  const logs = new LogStore(join(dir, "logs"));
  const worktrees = new Worktrees(repo, join(dir, "worktrees"), false);
  const executor = new LocalExecutor({ repo, builder: prepared.deps.builder, runner: prepared.deps.runner, cache, worktrees, logs, scratchDir: join(dir, "scratch"), slots: 1, signatureLabel: "build" });
  return { executor, logs, cache, cleanup: () => worktrees.removeAll() };
}

/** Ships a worker's log into the server's job log store (what an upload by content key does). */
function shipTo(serverLogs: LogStore): (key: string, file: string) => Promise<void> {
  return async (key, file) => {
    const target = serverLogs.path(key);
    await mkdir(join(target, ".."), { recursive: true });
    await copyFile(file, target);
  };
}

const FAST_STALLS = { lockDurationMs: 2_000, stalledIntervalMs: 1_000 };

describe("bisection through the queue", () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });

  it("names the culprit with the tests built and run by a worker with its own cache", { timeout: 180_000 }, async () => {
    const s = await scratchHistory(simpleHistory(12, { culprit: 7, commentOnlyEvery: 0 }));
    const serverWork = join(s.dir, "server");
    const prepared = await prepareJob(demoJob(s, { workDir: serverWork }), s.dir, serverWork);
    const side = await workerSide(s, join(s.dir, "worker"));
    const worker = await QueueWorker.start({ redisUrl: redis.url, name: "w1", capabilities: ["generic"], concurrency: 2, sideFor: async () => side, shipLog: shipTo(new LogStore(join(serverWork, "logs"))) });
    const executor = await QueueExecutor.open(redis.url, "generic");
    try {
      const events: RecordedEvent[] = [];
      const result = await runBisection(prepared.spec, prepared.deps, { signal: new AbortController().signal, executor, onEvent: (e) => events.push(e) });
      assert.equal(result.outcome, "culprit");
      assert.equal(result.culprit?.hash, s.history.culprit);
      const builds = events.filter((e) => e.type === "build-finished");
      assert.ok(builds.length > 0);
      const done = events.filter((e) => e.type === "build-started" || e.type === "build-finished" || e.type === "run-finished");
      assert.deepEqual(new Set(done.map((e) => (e.type === "build-started" || e.type === "build-finished" || e.type === "run-finished" ? e.worker : undefined))), new Set(["w1"]), "each build and run names the worker that did it");
      for (const b of builds) assert.ok(b.type === "build-finished" && b.cacheKey !== undefined && (await side.cache.lookup(b.cacheKey)), "every build is in the worker's cache");
      const serverCache = join(serverWork, "cache");
      assert.equal(existsSync(serverCache) ? readdirSync(serverCache).filter((n) => /^[0-9a-f]{16,}/.test(n)).length : 0, 0, "nothing was built on the server");
      const serverLogs = new LogStore(join(serverWork, "logs"));
      for (const e of events) if (e.type === "run-finished") assert.ok(existsSync(serverLogs.path(e.log)), "each run's log reached the server");
    } finally {
      await executor.close();
      await worker.close();
      await side.cleanup();
      await s.cleanup();
    }
  });

  it("a request whose worker died mid-way is carried out by another, and no fact counts twice", { timeout: 180_000 }, async () => {
    const s = await scratchHistory(simpleHistory(8, { culprit: 5, commentOnlyEvery: 0 }));
    const serverWork = join(s.dir, "server");
    const prepared = await prepareJob(demoJob(s, { workDir: serverWork }), s.dir, serverWork);
    const shipLog = shipTo(new LogStore(join(serverWork, "logs")));
    const dying = await workerSide(s, join(s.dir, "dying"));
    const healthy = await workerSide(s, join(s.dir, "healthy"));
    // The first worker goes silent once the server has its first run, as a machine that lost power would.
    let died!: () => void;
    const death = new Promise<void>((resolve) => (died = resolve));
    const neverFinishing: Executor = {
      execute: (request: ExecutionRequest, options: ExecutionOptions) =>
        new Promise<Fact[]>(() => {
          // Never resolves: its lock lapses and the request goes back to the queue.
          void dying.executor.execute(request, options).catch(() => undefined);
        }),
    };
    const first = await QueueWorker.start({ redisUrl: redis.url, name: "dying", capabilities: ["generic"], concurrency: 1, sideFor: async () => ({ executor: neverFinishing, logs: dying.logs }), shipLog, stallTiming: FAST_STALLS });
    let second: QueueWorker | undefined;
    void death.then(async () => {
      await first.close(true);
      second = await QueueWorker.start({ redisUrl: redis.url, name: "healthy", capabilities: ["generic"], concurrency: 1, sideFor: async () => healthy, shipLog, stallTiming: FAST_STALLS });
    });
    const queue = await QueueExecutor.open(redis.url, "generic");
    // Counts what reaches the orchestrator, to show a run was reported twice and kept once.
    const delivered: Fact[] = [];
    const counting: Executor = {
      execute: (request, options) =>
        queue.execute(request, {
          ...options,
          onFact: (f) => {
            delivered.push(f);
            options.onFact?.(f);
            if (f.type === "run-finished") died();
          },
        }),
    };
    try {
      const events: RecordedEvent[] = [];
      const result = await runBisection(prepared.spec, prepared.deps, { signal: new AbortController().signal, executor: counting, onEvent: (e) => events.push(e) });
      assert.equal(result.outcome, "culprit");
      assert.equal(result.culprit?.hash, s.history.culprit);
      // A run is the same run whichever request delivered it: commit, remedies and run index.
      const runKey = (f: Fact | RecordedEvent): string => (f.type === "run-finished" ? `${f.commit}/${f.remedies.join(",")}#${f.index}` : "");
      const recordedRuns = events.filter((e) => e.type === "run-finished").map(runKey);
      assert.equal(new Set(recordedRuns).size, recordedRuns.length, "each run of each commit is recorded once");
      const deliveredRuns = delivered.filter((f) => f.type === "run-finished").map(runKey);
      assert.ok(deliveredRuns.length > new Set(deliveredRuns).size, "the died request's first run was reported by both workers");
      assert.deepEqual(new Set(recordedRuns), new Set(deliveredRuns), "and every run reported is recorded");
      const workerOf = (f: Fact | RecordedEvent): string | undefined => (f.type === "run-finished" ? f.worker : undefined);
      const firstRun = delivered.find((f) => f.type === "run-finished") as Fact;
      assert.equal(workerOf(firstRun), "dying");
      assert.equal(workerOf(events.find((e) => runKey(e) === runKey(firstRun)) as RecordedEvent), "dying", "the run kept names the worker that reported it first");
      assert.ok(events.some((e) => workerOf(e) === "healthy"), "the rest names the worker that took over");
    } finally {
      await queue.close();
      await second?.close();
      await dying.cleanup();
      await healthy.cleanup();
      await s.cleanup();
    }
  });
});
