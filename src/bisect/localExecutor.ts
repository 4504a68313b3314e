// The executor that works in this process: a checkout slot, the builder through the build cache,
// the runner on the cached artifacts. A worker on another machine runs the same code on its own
// disk; only the request and the facts travel.

import { randomUUID } from "node:crypto";
import { appendFile, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { BuildCache } from "../build/cache.js";
import type { Builder } from "../build/builder.js";
import { observationKey, type BuildOutcome } from "../core/outcome.js";
import type { Repo } from "../git/git.js";
import type { Worktrees } from "../git/worktree.js";
import type { Runner } from "../run/runner.js";
import type { Slots } from "../run/slots.js";
import type { BuildWish, ExecutionOptions, ExecutionRequest, Executor, Fact } from "./executor.js";
import type { LogStore } from "./logstore.js";

/** Slots shared by every bisection of a process (a server's jobs): builds at once, test machines at once. */
export interface SharedLimits {
  builds: Slots;
  machines: Slots;
}

/** Extra attempts for a build that was killed or timed out before it counts as failed. */
const TRANSIENT_BUILD_RETRIES = 2;

/** Builds ahead of need at once: one for each answer the tests under way may give. */
const AHEAD_SLOTS = 2;

/** A build made (or being made) into the cache ahead of need. */
interface AheadBuild {
  wish: BuildWish;
  stop: AbortController;
  /** The build, or undefined when it was stopped or failed in a way that may not recur. */
  done: Promise<Made | undefined>;
  /** A request waits for it: no longer a guess, never stopped as one. */
  wanted: boolean;
}

/** A build as made: what it gave, how long it took, its output in the log store. */
interface Made {
  build: BuildOutcome;
  durationMs: number;
  log: string;
  /** Killed or timed out every time: the machine's doing, maybe; not cached. */
  transient: boolean;
}

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
  /** Checkout slots of the builds ahead, after the requests' own. */
  private readonly aheadSlots: number[];
  /** Builds ahead by commit and remedies (observationKey). */
  private readonly ahead = new Map<string, AheadBuild>();
  private wishes: BuildWish[] = [];
  /** Requests not past their build yet (checkout, build, or waiting for a build ahead). */
  private requestsBuilding = 0;
  /** Checkout slots whose last build was killed: scrubbed before the next checkout. */
  private readonly killedIn = new Set<number>();
  private closed = false;

  constructor(private readonly parts: LocalExecutorParts) {
    const slots = Math.max(1, parts.slots);
    this.freeSlots = Array.from({ length: slots }, (_, i) => i);
    this.aheadSlots = Array.from({ length: AHEAD_SLOTS }, (_, i) => slots + i);
  }

  /**
   * The builds worth making ahead of need, now: those no longer wished for are stopped (unless a
   * request waits for one), the others start while a slot is free. They run at the lowest CPU
   * priority and record no fact: a request that asks for one later waits for it and records it
   * as its own build. Not where bisections share the machine's build slots (a server): a guess
   * must not hold a slot another job's request needs.
   */
  buildAhead(wishes: readonly BuildWish[]): void {
    if (this.closed || this.parts.limits) return;
    this.wishes = [...wishes];
    const wanted = new Set(wishes.map((w) => observationKey(w.commit, w.remedies)));
    for (const [key, build] of this.ahead) if (!build.wanted && !wanted.has(key)) build.stop.abort();
    this.startAhead();
  }

  /** Stops the builds ahead and waits for them (their checkouts are about to be removed). */
  async close(): Promise<void> {
    this.closed = true;
    for (const build of this.ahead.values()) build.stop.abort();
    await Promise.allSettled([...this.ahead.values()].map((b) => b.done));
  }

  private startAhead(): void {
    // A request building, or waiting for a build ahead, gets the machine (CPU, disk, a checkout
    // made first): builds ahead use the time its runs leave idle, not its build's. (Nor can a
    // guess then be the commit a request is building.)
    if (this.closed || this.requestsBuilding > 0) return;
    for (const wish of this.wishes) {
      const key = observationKey(wish.commit, wish.remedies);
      if (this.ahead.has(key)) continue;
      const slot = this.aheadSlots.pop();
      if (slot === undefined) return;
      const stop = new AbortController();
      const build: AheadBuild = { wish, stop, wanted: false, done: this.makeAhead(wish, slot, stop.signal) };
      this.ahead.set(key, build);
      void build.done.then((made) => {
        this.aheadSlots.push(slot);
        // A build that stopped is no longer one: a request makes it itself. One made is kept for
        // the request that asks for it, which records it as its build.
        if (!made) this.ahead.delete(key);
        this.startAhead();
      });
    }
  }

  private async makeAhead(wish: BuildWish, slot: number, signal: AbortSignal): Promise<Made | undefined> {
    const own = join(this.parts.scratchDir, `ahead-${randomUUID()}`);
    try {
      const toolchain = await this.parts.builder.toolchain(wish.commit);
      const cacheKey = await this.cacheKeyOf({ commit: wish.commit, remedies: wish.remedies }, toolchain);
      if (signal.aborted || (await this.parts.cache.lookup(cacheKey))) return undefined;
      await mkdir(own, { recursive: true });
      const made = await this.make(wish.commit, wish.remedies, cacheKey, slot, join(own, "build.log"), signal, true);
      // Killed or timed out at the lowest priority says nothing of the build: the request makes it.
      return made && !made.transient ? made : undefined;
    } catch {
      // A guess that cannot be made (the commit is gone, the disk is full) is the request's to report.
      return undefined;
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  }

  async execute(request: ExecutionRequest, options: ExecutionOptions): Promise<Fact[]> {
    const facts: Fact[] = [];
    const emit = (fact: Fact): void => {
      facts.push(fact);
      options.onFact?.(fact);
    };
    const own = join(this.parts.scratchDir, `request-${randomUUID()}`);
    this.requestsBuilding++;
    let building = true;
    const builtDone = (): void => {
      if (!building) return;
      building = false;
      this.requestsBuilding--;
      this.startAhead();
    };
    try {
      await mkdir(own, { recursive: true });
      const built = await this.buildOnce(request, own, options.signal, emit).finally(builtDone);
      if (!built || built.outcome.kind !== "ok" || request.indices.length === 0 || options.signal.aborted) return facts;
      await this.runAll(request, built.cacheKey, own, options, emit);
      return facts;
    } finally {
      builtDone();
      await rm(own, { recursive: true, force: true });
    }
  }

  /** Where the request's build is (or will be) in the build cache: its tree, build configuration and toolchain. */
  async cacheKeyOf(request: Pick<ExecutionRequest, "commit" | "remedies" | "tree">, toolchain?: string): Promise<string> {
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
    // Made ahead of need, or being made: the request waits for it and records it as its build.
    const key = observationKey(commit, remedies);
    const ahead = this.ahead.get(key);
    if (ahead) {
      ahead.wanted = true;
      const made = await untilAborted(ahead.done, signal);
      this.ahead.delete(key);
      if (!made) ahead.stop.abort();
      this.startAhead();
      if (signal.aborted) return undefined;
      if (made && (made.build.kind === "failed" || (await cache.lookup(cacheKey)))) {
        finished(made.build, false, made.durationMs, made.log);
        return { outcome: made.build, cacheKey };
      }
    }
    return this.buildNow(request, cacheKey, own, signal, finished);
  }

  /** The request's build from the cache, or made now on one of the requests' checkout slots. */
  private async buildNow(
    request: ExecutionRequest,
    cacheKey: string,
    own: string,
    signal: AbortSignal,
    finished: (build: BuildOutcome, cached: boolean, durationMs: number, log?: string) => void,
  ): Promise<{ outcome: BuildOutcome; cacheKey: string } | undefined> {
    const { commit, remedies } = request;
    const { cache } = this.parts;
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
      const made = await this.make(commit, remedies, cacheKey, slot, join(own, "build.log"), signal, false);
      if (!made) return undefined;
      finished(made.build, false, made.durationMs, made.log);
      return { outcome: made.build, cacheKey };
    } finally {
      this.freeSlots.push(slot);
      buildSlot();
    }
  }

  /**
   * Checks `commit` out on `slot` and builds it into the cache entry `cacheKey`, retrying a build
   * the machine killed. Undefined: stopped (nothing is cached), or killed every time (the last
   * failure is returned but never cached).
   */
  private async make(commit: string, remedies: string[], cacheKey: string, slot: number, logFile: string, signal: AbortSignal, background: boolean): Promise<Made | undefined> {
    const { builder, cache } = this.parts;
    // Stopped while it waited for a slot or behind other work: no checkout, no build.
    if (signal.aborted) return undefined;
    const worktree = await this.parts.worktrees.checkout(slot, commit, this.killedIn.delete(slot));
    for (let attempt = 0; ; attempt++) {
      const staged = await cache.stage(cacheKey);
      const result = await builder.build({ commit, worktree, remedies, artifactsDir: staged, logFile, signal, ...(background ? { background } : {}) });
      if (signal.aborted) {
        this.killedIn.add(slot);
        await cache.discard(staged);
        return undefined;
      }
      // Killed or timed out: the machine's doing, maybe; try again from a scrubbed checkout, and never cache it.
      const transient = result.kind === "failed" && result.transient !== undefined;
      if (transient && attempt < TRANSIENT_BUILD_RETRIES) {
        await cache.discard(staged);
        await this.parts.worktrees.checkout(slot, commit, true);
        continue;
      }
      if (transient) this.killedIn.add(slot);
      const build: BuildOutcome = result.kind === "ok" ? { kind: "ok", signature: result.signature } : { kind: "failed", excerpt: result.excerpt };
      if (transient) await cache.discard(staged);
      else await cache.commit(cacheKey, staged, { ...build, commit, durationMs: result.durationMs });
      return { build, durationMs: result.durationMs, log: await this.stored(logFile), transient };
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

/** `work`'s value, or undefined as soon as `signal` aborts (the work goes on; its owner stops it). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    void work.then((value) => {
      signal.removeEventListener("abort", onAbort);
      resolve(value);
    });
  });
}
