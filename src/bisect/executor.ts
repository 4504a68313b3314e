// The executor seam: one test request in, facts out. The orchestrator hands each test the
// strategy asks for to an executor — in this process (LocalExecutor), or a worker on another
// machine — and records the facts that come back; it decides nothing about a commit itself.
//
// Requests and facts are plain JSON and mean the same on any machine: artifacts are named by
// their build cache key and console logs by the hash of their bytes, never by a local path. A
// request may be delivered more than once (a retried queue job): its facts carry its id and
// its runs their claimed indices, and the event log keeps the first of each.

import type { BuildOutcome } from "../core/outcome.js";
import type { BisectEvent } from "./events.js";

export interface ExecutionRequest {
  /** Unique per request; the facts it produces carry it. */
  id: string;
  /** The job (event log) it belongs to: a worker elsewhere finds the job's build and reproducer settings by it. */
  job: string;
  commit: string;
  /** The commit's tree: with it a machine without the source finds the build by its cache key. */
  tree?: string;
  /** Remedies to build with (e.g. "disable:LOCKDEP"), sorted. */
  remedies: string[];
  /** Run indices claimed for this request, recorded before it was handed out; empty: build only. */
  indices: number[];
  /** The build recorded earlier for commit+remedies: not repeated while its cache entry is there. */
  recorded?: BuildOutcome;
  /**
   * The recorded build's cache key, as its build-finished fact said: a machine that only runs
   * finds the artifacts by it, with neither the source nor the toolchain that made them.
   */
  cacheKey?: string;
  /** Per run; a resume may change it. */
  runTimeoutMs: number;
  /** Runs at once. */
  parallelRuns: number;
}

/** What an executor reports: the build and the runs of one request, as the event log records them. */
export type Fact = Extract<BisectEvent, { type: "build-started" | "build-finished" | "run-finished" | "tests-finished" }>;

export interface ExecutionOptions {
  signal: AbortSignal;
  /** Each fact as it happens, so a long request's runs are recorded as they finish. */
  onFact?: (fact: Fact) => void;
  /**
   * Aborted when the runs so far answer the request (they all hung alike): start no more runs,
   * stop those running; the runs finished before are facts, the ones stopped are not. An
   * executor that cannot stop early runs the whole batch.
   */
  enough?: AbortSignal;
}

/** A build worth making before any request asks for it (the strategy may ask for it next). */
export interface BuildWish {
  commit: string;
  remedies: string[];
}

export interface Executor {
  /**
   * Checks out, builds (through the cache) and runs one request; resolves with all its facts in
   * the order they happened. An interrupted request resolves with the facts it has: an
   * interrupted run is no fact, and a build cut short is none either.
   */
  execute(request: ExecutionRequest, options: ExecutionOptions): Promise<Fact[]>;
  /**
   * Requests outlive this process (a queue): a restarted bisection asks again, by id, for those
   * still open, instead of handing their runs out anew.
   */
  readonly durable?: boolean;
  /**
   * The builds worth making ahead of need now, replacing the previous wishes; an executor that
   * cannot build ahead leaves this out. Returns at once.
   */
  buildAhead?(wishes: readonly BuildWish[]): void;
  /** Stops what the executor does on its own (builds ahead) and waits for it. */
  close?(): Promise<void>;
}

/** Where the logs named by facts are found here, by content key. */
export interface LogLocator {
  /** The local file of a stored log (it may be absent: a log kept on another machine). */
  path(key: string): string;
}
