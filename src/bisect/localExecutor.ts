// The executor that works in this process: a checkout slot, the builder through the build cache,
// the runner on the cached artifacts. A worker on another machine runs the same code on its own
// disk; only the request and the facts travel.

import { randomUUID } from "node:crypto";
import { appendFile, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { BuildCache } from "../build/cache.js";
import type { Builder } from "../build/builder.js";
import type { BuildOutcome } from "../core/outcome.js";
import type { Repo } from "../git/git.js";
import type { Worktrees } from "../git/worktree.js";
import type { Runner } from "../run/runner.js";
import type { Slots } from "../run/slots.js";
import type { ExecutionOptions, ExecutionRequest, Executor, Fact } from "./executor.js";
import type { LogStore } from "./logstore.js";

/** Slots shared by every bisection of a process (a server's jobs): builds at once, test machines at once. */
export interface SharedLimits {
  builds: Slots;
  machines: Slots;
}

/** Extra attempts for a build that was killed or timed out before it counts as failed. */
const TRANSIENT_BUILD_RETRIES = 2;

export interface LocalExecutorParts {
  repo: Repo;
  builder: Builder;
  runner: Runner;
  cache: BuildCache;
  worktrees: Worktrees;
  logs: LogStore;
  /** Each request's own files (logs being written, the runs' copies of the artifacts). */
  scratchDir: string;
  /** Checkout slots: the most builds at once. */
  slots: number;
  /** "build" or "kernel": the log says "<label> signature: …". */
  signatureLabel: string;
  /** Shared with other bisections; without them only `slots` and the request's parallel runs bound this one. */
  limits?: SharedLimits;
}

export class LocalExecutor implements Executor {
  private readonly freeSlots: number[];

  constructor(private readonly parts: LocalExecutorParts) {
    this.freeSlots = Array.from({ length: Math.max(1, parts.slots) }, (_, i) => i);
  }

  async execute(request: ExecutionRequest, options: ExecutionOptions): Promise<Fact[]> {
    const facts: Fact[] = [];
    const emit = (fact: Fact): void => {
      facts.push(fact);
      options.onFact?.(fact);
    };
    const own = join(this.parts.scratchDir, `request-${randomUUID()}`);
    await mkdir(own, { recursive: true });
    try {
      const built = await this.buildOnce(request, own, options.signal, emit);
      if (!built || built.outcome.kind !== "ok" || request.indices.length === 0 || options.signal.aborted) return facts;
      await this.runAll(request, built.cacheKey, own, options, emit);
      return facts;
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  }

  /** Where the request's build is (or will be) in the build cache: its tree, build configuration and toolchain. */
  async cacheKeyOf(request: ExecutionRequest, toolchain?: string): Promise<string> {
    const { repo, builder, cache } = this.parts;
    const tree = request.tree ?? (await repo.treeHash(request.commit));
    return cache.keyOf({ tree, config: builder.configHash(request.remedies), toolchain: toolchain ?? (await builder.toolchain(request.commit)) });
  }

  /** The recorded build, by the key the request names, when its artifacts are there (here, or wherever the cache looks). */
  private async recordedBuild(request: ExecutionRequest): Promise<{ outcome: BuildOutcome; cacheKey: string } | undefined> {
    const { recorded, cacheKey } = request;
    if (!recorded || cacheKey === undefined) return undefined;
    return recorded.kind === "failed" || (await this.parts.cache.lookup(cacheKey)) ? { outcome: recorded, cacheKey } : undefined;
  }

  /**
   * Whether the request's build is made already, found without the commit where the request
   * names the recorded build's key. A builder that needs the commit's history to name its inputs
   * (the kernel's: the releases it reaches pick the compiler) cannot say before the commit is here.
   */
  async isBuilt(request: ExecutionRequest): Promise<boolean> {
    if (await this.recordedBuild(request)) return true;
    const key = await this.cacheKeyOf(request).catch(() => undefined);
    return key !== undefined && (await this.parts.cache.lookup(key)) !== undefined;
  }

  /** The build of a request: recorded and still cached, found in the cache, or made now. Undefined: interrupted. */
  private async buildOnce(
    request: ExecutionRequest,
    own: string,
    signal: AbortSignal,
    emit: (fact: Fact) => void,
  ): Promise<{ outcome: BuildOutcome; cacheKey: string } | undefined> {
    const { builder, cache } = this.parts;
    const { commit, remedies } = request;
    const found = await this.recordedBuild(request);
    if (found) return found;
    const toolchain = await builder.toolchain(commit);
    const cacheKey = await this.cacheKeyOf(request, toolchain);
    const recorded = request.recorded;
    // A resumed bisection may find the build recorded but its cache entry gone: build again.
    if (recorded && (recorded.kind === "failed" || (await cache.lookup(cacheKey)))) return { outcome: recorded, cacheKey };
    const started = { request: request.id, commit, remedies };
    emit({ type: "build-started", at: Date.now(), ...started, toolchain });
    const finished = (build: BuildOutcome, cached: boolean, durationMs: number, log?: string): void =>
      emit({ type: "build-finished", at: Date.now(), ...started, build, cached, durationMs, cacheKey, ...(log ? { log } : {}), signatureLabel: this.parts.signatureLabel });
    const hit = await cache.lookup(cacheKey);
    if (hit) {
      const build: BuildOutcome = hit.kind === "ok" ? { kind: "ok", signature: hit.signature } : { kind: "failed", excerpt: hit.excerpt };
      finished(build, true, 0);
      return { outcome: build, cacheKey };
    }
    // Waiting for a build slot is no build: a job cancelled meanwhile leaves no fact.
    const buildSlot = this.parts.limits ? await this.parts.limits.builds.acquire(signal) : () => undefined;
    if (!buildSlot) return undefined;
    const slot = this.freeSlots.pop();
    if (slot === undefined) {
      buildSlot();
      throw new Error("more builds in flight than checkout slots");
    }
    try {
      // Stopped while it waited for a slot or behind other work: no checkout, no build.
      if (signal.aborted) return undefined;
      const worktree = await this.parts.worktrees.checkout(slot, commit);
      const logFile = join(own, "build.log");
      for (let attempt = 0; ; attempt++) {
        const staged = await cache.stage(cacheKey);
        const result = await builder.build({ commit, worktree, remedies, artifactsDir: staged, logFile, signal });
        if (signal.aborted) {
          await cache.discard(staged);
          return undefined;
        }
        // Killed or timed out: the machine's doing, maybe; try again, and never cache it.
        const transient = result.kind === "failed" && result.transient !== undefined;
        if (transient && attempt < TRANSIENT_BUILD_RETRIES) {
          await cache.discard(staged);
          continue;
        }
        const build: BuildOutcome = result.kind === "ok" ? { kind: "ok", signature: result.signature } : { kind: "failed", excerpt: result.excerpt };
        if (transient) await cache.discard(staged);
        else await cache.commit(cacheKey, staged, { ...build, commit, durationMs: result.durationMs });
        finished(build, false, result.durationMs, await this.stored(logFile));
        return { outcome: build, cacheKey };
      }
    } finally {
      this.freeSlots.push(slot);
      buildSlot();
    }
  }

  private async runAll(request: ExecutionRequest, cacheKey: string, own: string, options: ExecutionOptions, emit: (fact: Fact) => void): Promise<void> {
    const { commit, remedies } = request;
    const { signal, enough } = options;
    // Stopped as enough, a run is cut short like an interrupted one, and is no fact either.
    const stopped = (): boolean => signal.aborted || enough?.aborted === true;
    let ran = 0;
    const logDir = join(own, "logs");
    await mkdir(logDir, { recursive: true });
    const started = performance.now();
    const stored: Promise<void>[] = [];
    await this.parts.runner.run({
      commit,
      artifactsDir: this.parts.cache.entryDir(cacheKey),
      scratchDir: join(own, "runs"),
      indices: request.indices,
      parallel: request.parallelRuns,
      timeoutMs: request.runTimeoutMs,
      logDir,
      signal: enough ? AbortSignal.any([signal, enough]) : signal,
      ...(this.parts.limits ? { machines: this.parts.limits.machines } : {}),
      onRun: (run) => {
        // An interrupted run says nothing about the commit; it is redone on resume.
        if (stopped()) return;
        stored.push(
          this.stored(run.logFile).then((log) => {
            // Enough may have been said while this run's log was being stored.
            if (stopped()) return;
            ran++;
            emit({
              type: "run-finished",
              at: Date.now(),
              request: request.id,
              commit,
              remedies,
              index: run.index,
              outcome: run.outcome,
              durationMs: run.durationMs,
              log,
              ...(run.accel ? { accel: run.accel } : {}),
            });
          }),
        );
      },
    });
    await Promise.all(stored);
    if (signal.aborted) return;
    emit({ type: "tests-finished", at: Date.now(), request: request.id, commit, remedies, runs: ran, durationMs: performance.now() - started });
  }

  /** A log moved into the store, by key; a runner that wrote none leaves an empty one. */
  private async stored(file: string): Promise<string> {
    await mkdir(join(file, ".."), { recursive: true });
    await appendFile(file, "");
    return this.parts.logs.put(file);
  }
}
