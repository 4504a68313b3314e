// Shared by the bisection tests and the overhead benchmark: generated histories and jobs over them.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateHistory, type GeneratedHistory, type HistorySpec } from "../demo/history.js";
import { prepareJob } from "./job.js";
import { LogView } from "./logview.js";
import { runBisection, type BisectSpec } from "./orchestrator.js";
import type { BisectResult } from "./result.js";
import type { Strategy } from "../core/strategy.js";

/** A history of `n` main-line commits with a fast, deterministic reproducer (no sanitizer). */
export function simpleHistory(n: number, overrides: Partial<HistorySpec> = {}): HistorySpec {
  return {
    mainCommits: n,
    culprit: Math.floor(n * 0.6),
    targetPercent: 100,
    releases: {},
    commentOnlyEvery: 3,
    sideBranches: [],
    randomness: "run-index",
    sanitize: false,
    ...overrides,
  };
}

export interface Scratch {
  dir: string;
  history: GeneratedHistory;
  cleanup(): Promise<void>;
}

export async function scratchHistory(spec: HistorySpec): Promise<Scratch> {
  const dir = await mkdtemp(join(tmpdir(), "culprit-test-"));
  const history = await generateHistory(join(dir, "repo"), spec);
  return { dir, history, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The job fields that build and run the generated program. */
export function demoJob(scratch: Scratch, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    repo: scratch.history.dir,
    start: "HEAD",
    build: { command: ["make", "-s", "demo"], artifacts: ["demo"], timeout: "2m" },
    reproducer: { command: ["demo"], timeout: "20s" },
    parallelism: { commits: 1, runs: 4 },
    workDir: join(scratch.dir, "work"),
    ...extra,
  };
}

/** `wrap`: a stand-in around the job's strategy (a test that needs requests of a given shape). */
export async function bisectInProcess(scratch: Scratch, extra: Record<string, unknown> = {}, wrap?: (strategy: Strategy) => Strategy): Promise<{ result: BisectResult; log: string[] }> {
  const prepared = await prepareJob(demoJob(scratch, extra), scratch.dir, join(scratch.dir, "work"));
  const view = new LogView();
  const log: string[] = [];
  const deps = wrap ? { ...prepared.deps, strategy: wrap(prepared.deps.strategy) } : prepared.deps;
  const result = await runBisection(prepared.spec, deps, {
    signal: new AbortController().signal,
    onEvent: (event) => log.push(...view.lines(event)),
  });
  return { result, log };
}

/** A spec over a scratch history for tests that bring their own builder, runner and strategy. */
export function scratchSpec(scratch: Scratch, parallelCommits: number): BisectSpec {
  return {
    repoDir: scratch.history.dir,
    kind: "cause",
    start: scratch.history.head,
    good: scratch.history.main[0] as string,
    runs: 1,
    startRuns: 1,
    parallelCommits,
    parallelRuns: 1,
    runTimeoutMs: 10_000,
    cleanCheckouts: false,
    workDir: join(scratch.dir, "work"),
    cacheDir: join(scratch.dir, "work", "cache"),
    seed: 1,
  };
}

/**
 * A schema-1 event log as culprit wrote it before 2bac3ac, of an interrupted demo bisection of
 * simpleHistory(40, { culprit: 25, releases: { 5: "v1.0", 15: "v1.1" } }) with demoJob's
 * { runs: 4, startRuns: 4 } (the history's hashes are the same on every machine); see
 * src/bisect/testdata/README.md.
 */
export const SCHEMA1_LOG = new URL("../../../src/bisect/testdata/schema1-events.jsonl", import.meta.url);
