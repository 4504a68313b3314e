// The local executor on its own, against a generated repository: one request in, facts out,
// each fact naming its artifacts and logs by content key.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BuildCache } from "../build/cache.js";
import type { Builder } from "../build/builder.js";
import { Repo } from "../git/git.js";
import { Worktrees } from "../git/worktree.js";
import type { ExecutionRequest, Fact } from "./executor.js";
import { prepareJob } from "./job.js";
import { LocalExecutor } from "./localExecutor.js";
import { LogStore } from "./logstore.js";
import { demoJob, scratchHistory, simpleHistory, type Scratch } from "./testkit.js";

async function executorOver(s: Scratch): Promise<{ executor: LocalExecutor; cache: BuildCache; logs: LogStore; work: string; cleanup: () => Promise<void> }> {
  const work = join(s.dir, "work");
  const prepared = await prepareJob(demoJob(s), s.dir, work);
  const repo = await Repo.open(s.history.dir);
  const cache = new BuildCache(join(work, "cache"));
  const logs = new LogStore(join(work, "logs"));
  const worktrees = new Worktrees(repo, join(work, "worktrees"), false);
  const executor = new LocalExecutor({
    repo,
    builder: prepared.deps.builder,
    runner: prepared.deps.runner,
    cache,
    worktrees,
    logs,
    scratchDir: join(work, "scratch"),
    slots: 1,
    signatureLabel: "build",
  });
  return { executor, cache, logs, work, cleanup: () => worktrees.removeAll() };
}

function request(commit: string, indices: number[], extra: Partial<ExecutionRequest> = {}): ExecutionRequest {
  return { id: `req-${commit.slice(0, 6)}-${indices.join(".")}`, job: "job", commit, remedies: [], indices, runTimeoutMs: 20_000, parallelRuns: 2, ...extra };
}

const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

const kinds = (facts: readonly Fact[]): string[] => facts.map((f) => f.type);

describe("local executor", () => {
  it("checks out, builds through the cache and runs: facts name the cache entry and the logs by key", { timeout: 120_000 }, async () => {
    const s = await scratchHistory(simpleHistory(10, { culprit: 5, commentOnlyEvery: 0 }));
    const x = await executorOver(s);
    try {
      const bad = s.history.head;
      const streamed: Fact[] = [];
      const facts = await x.executor.execute(request(bad, [0, 1, 2]), { signal: new AbortController().signal, onFact: (f) => streamed.push(f) });
      assert.deepEqual(streamed, facts, "every fact is streamed as it happens and returned");
      assert.deepEqual(kinds(facts).filter((k) => k !== "run-finished"), ["build-started", "build-finished", "tests-finished"]);
      const build = facts.find((f) => f.type === "build-finished");
      assert.ok(build?.type === "build-finished" && build.build.kind === "ok" && !build.cached && build.cacheKey !== undefined);
      assert.ok((await x.cache.lookup(build.cacheKey))?.kind === "ok", "the build names its cache entry");
      assert.ok(existsSync(join(x.cache.entryDir(build.cacheKey), "demo")));
      assert.ok(build.log !== undefined && existsSync(x.logs.path(build.log)), "the build log is stored under its key");
      const runs = facts.filter((f) => f.type === "run-finished");
      assert.deepEqual(runs.map((r) => r.index).sort(), [0, 1, 2]);
      for (const r of runs) {
        assert.equal(r.request, "req-" + bad.slice(0, 6) + "-0.1.2");
        assert.equal(r.outcome.kind, "crash");
        assert.equal(sha256(readFileSync(x.logs.path(r.log))), r.log, "each run's console is stored under the hash of its bytes");
      }
      // Nothing local travels in a fact: no path of this machine appears in any of them.
      assert.equal(JSON.stringify(facts).includes(s.dir), false, JSON.stringify(facts));
      assert.deepEqual(readdirSync(join(x.work, "scratch")), [], "the request's own files are gone");

      // Recorded and still cached: no build at all. Not recorded but cached: a cache hit.
      const again = await x.executor.execute(request(bad, [3], { recorded: build.build }), { signal: new AbortController().signal });
      assert.deepEqual(kinds(again), ["run-finished", "tests-finished"]);
      const hit = await x.executor.execute(request(bad, []), { signal: new AbortController().signal });
      assert.deepEqual(hit.map((f) => (f.type === "build-finished" ? `${f.type}:${f.cached}:${f.cacheKey === build.cacheKey}` : f.type)), ["build-started", "build-finished:true:true"]);
    } finally {
      await x.cleanup();
      await s.cleanup();
    }
  });

  it("a recorded build whose cache entry is gone is built again", { timeout: 120_000 }, async () => {
    const s = await scratchHistory(simpleHistory(4, { commentOnlyEvery: 0 }));
    const x = await executorOver(s);
    try {
      const commit = s.history.main[1] as string;
      const facts = await x.executor.execute(request(commit, [], { recorded: { kind: "ok", signature: "from an earlier start" } }), { signal: new AbortController().signal });
      assert.deepEqual(
        facts.map((f) => (f.type === "build-finished" ? `${f.type}:${f.cached}` : f.type)),
        ["build-started", "build-finished:false"],
      );
    } finally {
      await x.cleanup();
      await s.cleanup();
    }
  });

  it("an interrupted request reports no run it cut short and no tests-finished", { timeout: 120_000 }, async () => {
    const s = await scratchHistory(simpleHistory(4, { commentOnlyEvery: 0 }));
    const x = await executorOver(s);
    try {
      const controller = new AbortController();
      const facts = await x.executor.execute(request(s.history.head, [0, 1, 2, 3, 4, 5]), {
        signal: controller.signal,
        onFact: (f) => {
          if (f.type === "run-finished") controller.abort();
        },
      });
      assert.equal(facts.filter((f) => f.type === "run-finished").length <= 2, true, "at most the runs that finished before the abort (two at once)");
      assert.equal(facts.some((f) => f.type === "tests-finished"), false);
      assert.deepEqual(readdirSync(join(x.work, "scratch")), []);
    } finally {
      await x.cleanup();
      await s.cleanup();
    }
  });
  it("a request stopped before it builds checks nothing out and builds nothing", { timeout: 120_000 }, async () => {
    const s = await scratchHistory(simpleHistory(4, { commentOnlyEvery: 0 }));
    const x = await executorOver(s);
    try {
      const controller = new AbortController();
      controller.abort();
      const facts = await x.executor.execute(request(s.history.head, [0, 1]), { signal: controller.signal });
      assert.deepEqual(kinds(facts).filter((k) => k !== "build-started"), [], "no build finished and no run");
      assert.equal(existsSync(join(x.work, "worktrees")) ? readdirSync(join(x.work, "worktrees")).length : 0, 0, "no worktree checked out");
    } finally {
      await x.cleanup();
      await s.cleanup();
    }
  });
});

describe("builds ahead of need", () => {
  /** The job's builder, held at each build until the test lets it go (or the build is stopped). */
  function heldBuilder(inner: Builder): { builder: Builder; started: { commit: string; background: boolean; leftover: boolean }[]; release: () => void } {
    const started: { commit: string; background: boolean; leftover: boolean }[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const builder: Builder = {
      toolchain: (commit) => inner.toolchain(commit),
      configHash: (remedies) => inner.configHash(remedies),
      build: async (request) => {
        // What a build killed half-way leaves: an object file make would take as up to date.
        const half = join(request.worktree, "half-written.o");
        started.push({ commit: request.commit, background: request.background === true, leftover: existsSync(half) });
        writeFileSync(half, "");
        await Promise.race([gate, new Promise((resolve) => request.signal.addEventListener("abort", resolve, { once: true }))]);
        if (request.signal.aborted) return { kind: "failed", excerpt: "stopped", durationMs: 0, transient: "killed" };
        return inner.build(request);
      },
    };
    return { builder, started, release: () => release() };
  }

  async function aheadOver(s: Scratch): Promise<{ executor: LocalExecutor; cache: BuildCache; held: ReturnType<typeof heldBuilder>; work: string; cleanup: () => Promise<void> }> {
    const work = join(s.dir, "work");
    const prepared = await prepareJob(demoJob(s), s.dir, work);
    const repo = await Repo.open(s.history.dir);
    const cache = new BuildCache(join(work, "cache"));
    const worktrees = new Worktrees(repo, join(work, "worktrees"), false);
    const held = heldBuilder(prepared.deps.builder);
    const executor = new LocalExecutor({ repo, builder: held.builder, runner: prepared.deps.runner, cache, worktrees, logs: new LogStore(join(work, "logs")), scratchDir: join(work, "scratch"), slots: 1, signatureLabel: "build" });
    return { executor, cache, held, work, cleanup: () => worktrees.removeAll() };
  }

  const until = async (done: () => boolean): Promise<void> => {
    for (let i = 0; i < 500 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(done(), "timed out waiting");
  };

  it("a request for a commit built ahead waits for that build and records it as its own", { timeout: 120_000 }, async () => {
    const s = await scratchHistory(simpleHistory(6, { culprit: 3, commentOnlyEvery: 0 }));
    const x = await aheadOver(s);
    try {
      const commit = s.history.head;
      x.executor.buildAhead([{ commit, remedies: [] }]);
      await until(() => x.held.started.length === 1);
      const pending = x.executor.execute(request(commit, [0]), { signal: new AbortController().signal });
      x.held.release();
      const facts = await pending;
      assert.deepEqual(x.held.started, [{ commit, background: true, leftover: false }], "one build, made ahead at low priority, none by the request");
      const build = facts.find((f) => f.type === "build-finished");
      assert.ok(build?.type === "build-finished" && build.build.kind === "ok" && !build.cached && build.log !== undefined, JSON.stringify(build));
      assert.equal(facts.filter((f) => f.type === "run-finished").length, 1);
      assert.equal(existsSync(join(x.work, "worktrees", "slot-0")), false, "the request checked nothing out itself");
    } finally {
      await x.executor.close();
      await x.cleanup();
      await s.cleanup();
    }
  });

  it("a guess no longer wished for is stopped, nothing of it is cached, and closing stops the rest", { timeout: 120_000 }, async () => {
    const s = await scratchHistory(simpleHistory(6, { culprit: 3, commentOnlyEvery: 0 }));
    const x = await aheadOver(s);
    try {
      const [a, b] = [s.history.main[1] as string, s.history.main[2] as string];
      x.executor.buildAhead([{ commit: a, remedies: [] }, { commit: b, remedies: [] }]);
      await until(() => x.held.started.length === 2);
      x.executor.buildAhead([{ commit: b, remedies: [] }]);
      await x.executor.close();
      for (const commit of [a, b]) assert.equal(await x.cache.lookup(await x.executor.cacheKeyOf({ commit, remedies: [] })), undefined, `${commit} is not cached`);
      assert.deepEqual(readdirSync(join(x.work, "scratch")), [], "no build's files are left behind");
      // Closed: no more wishes are taken.
      x.executor.buildAhead([{ commit: a, remedies: [] }]);
      assert.equal(x.held.started.length, 2);
    } finally {
      x.held.release();
      await x.executor.close();
      await x.cleanup();
      await s.cleanup();
    }
  });

  it("a slot whose build was stopped is scrubbed before its next build: nothing half written is reused", { timeout: 120_000 }, async () => {
    const s = await scratchHistory(simpleHistory(6, { culprit: 3, commentOnlyEvery: 0 }));
    const x = await aheadOver(s);
    try {
      const [a, b, c] = [s.history.main[1] as string, s.history.main[2] as string, s.history.main[3] as string];
      x.executor.buildAhead([{ commit: a, remedies: [] }, { commit: c, remedies: [] }]);
      await until(() => x.held.started.length === 2);
      // Both slots are busy; a is dropped while it builds (killed), and b gets the slot a leaves.
      x.executor.buildAhead([{ commit: c, remedies: [] }, { commit: b, remedies: [] }]);
      await until(() => x.held.started.length === 3);
      const seen = x.held.started.map((built) => `${built.commit === b ? "b" : built.commit === a ? "a" : "c"}:${built.leftover}`);
      assert.deepEqual([...seen].sort(), ["a:false", "b:false", "c:false"], seen.join(" "));
    } finally {
      x.held.release();
      await x.executor.close();
      await x.cleanup();
      await s.cleanup();
    }
  });
});
