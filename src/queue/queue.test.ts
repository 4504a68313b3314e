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
import { prepareJob, type PreparedJob } from "../bisect/job.js";
import { LocalExecutor } from "../bisect/localExecutor.js";
import { LogStore } from "../bisect/logstore.js";
import { runBisection } from "../bisect/orchestrator.js";
import { demoJob, scratchHistory, simpleHistory, type Scratch } from "../bisect/testkit.js";
import { BuildCache } from "../build/cache.js";
import { git, Repo } from "../git/git.js";
import { Worktrees } from "../git/worktree.js";
import { QueueExecutor, QueueExecutors } from "./queueExecutor.js";
import { startRedis, type RedisServer } from "./redisServer.js";
import { QueueWorker, type WorkerSide } from "./worker.js";

/**
 * A worker machine's own disk: its checkout, cache and logs under `dir`, nothing shared with the
 * server; `repoDir`, `cacheDir` and `job` give it another repository (an empty one: no source),
 * cache or job settings (another compiler).
 */
async function workerSide(s: Scratch, dir: string, where: { repoDir?: string; cacheDir?: string; job?: Record<string, unknown> } = {}): Promise<WorkerSide & { cache: BuildCache; cleanup(): Promise<void> }> {
  const prepared = await prepareJob(demoJob(s, { workDir: join(dir, "work"), ...where.job }), s.dir, join(dir, "work"));
  const repo = await Repo.open(where.repoDir ?? s.history.dir);
  const cache = new BuildCache(where.cacheDir ?? join(dir, "cache"));
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

/** A generated history and the server's job on it, with where the workers' logs go. */
async function serverJob(commits: number, culprit: number): Promise<{ s: Scratch; prepared: PreparedJob; shipLog: (key: string, file: string) => Promise<void> }> {
  const s = await scratchHistory(simpleHistory(commits, { culprit, commentOnlyEvery: 0 }));
  const serverWork = join(s.dir, "server");
  const prepared = await prepareJob(demoJob(s, { workDir: serverWork }), s.dir, serverWork);
  return { s, prepared, shipLog: shipTo(new LogStore(join(serverWork, "logs"))) };
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

  it("a build on a worker that builds, its runs on one that has no source, found by the key the build reported", { timeout: 180_000 }, async () => {
    const { s, prepared, shipLog } = await serverJob(10, 6);
    const builder = await workerSide(s, join(s.dir, "builder"));
    // No commit to check out and nothing to build with: the runner has an empty repository and
    // no compiler, so it could not even name the build's cache key from the build's inputs.
    const empty = join(s.dir, "runner", "repo");
    await mkdir(empty, { recursive: true });
    await git(empty, ["init", "--quiet"]);
    // The builder's cache stands in for the server's store by cache key (farm.test covers the upload).
    const runner = await workerSide(s, join(s.dir, "runner"), {
      repoDir: empty,
      cacheDir: join(s.dir, "builder", "cache"),
      job: { build: { command: ["make", "-s", "demo"], artifacts: ["demo"], timeout: "2m", compiler: "no-such-cc" } },
    });
    const builds = await QueueWorker.start({ redisUrl: redis.url, name: "builder", capabilities: ["linux-build"], concurrency: 1, sideFor: async () => builder, shipLog });
    const runs = await QueueWorker.start({ redisUrl: redis.url, name: "runner", capabilities: ["qemu"], concurrency: 1, sideFor: async () => runner, shipLog });
    const executors = new QueueExecutors(redis.url);
    try {
      const executor = await executors.forStages({ build: "linux-build", run: "qemu" });
      const events: RecordedEvent[] = [];
      const result = await runBisection(prepared.spec, prepared.deps, { signal: new AbortController().signal, executor, onEvent: (e) => events.push(e) });
      assert.equal(result.outcome, "culprit");
      assert.equal(result.culprit?.hash, s.history.culprit);
      const namesOf = (type: RecordedEvent["type"]): Set<string | undefined> =>
        new Set(events.flatMap((e) => (e.type === type && (e.type === "build-started" || e.type === "build-finished" || e.type === "run-finished") ? [e.worker] : [])));
      assert.deepEqual(namesOf("build-finished"), new Set(["builder"]), "every build is the builder's");
      assert.deepEqual(namesOf("run-finished"), new Set(["runner"]), "every run is the runner's");
      const made = events.filter((e) => e.type === "build-finished" && !e.cached).length;
      assert.equal(made, new Set(events.flatMap((e) => (e.type === "build-finished" ? [e.commit] : []))).size, "each commit built once");
      const started = events.filter((e) => e.type === "tests-started").length;
      assert.equal(events.filter((e) => e.type === "tests-finished").length, started - events.filter((e) => e.type === "build-finished" && e.build.kind === "failed").length, "every request that built ran to its end");
    } finally {
      await executors.close();
      await builds.close();
      await runs.close();
      await builder.cleanup();
      await runner.cleanup();
      await s.cleanup();
    }
  });

  it("a request whose worker died mid-way is carried out by another, and no fact counts twice", { timeout: 180_000 }, async () => {
    const { s, prepared, shipLog } = await serverJob(8, 5);
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
