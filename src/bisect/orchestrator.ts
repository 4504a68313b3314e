// The orchestrator: the only place that does I/O for a bisection. It asks the strategy what
// to test, builds (through the cache) and runs, and records every fact as an event. It never
// decides good or bad itself.

import { randomUUID } from "node:crypto";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { BuildCache } from "../build/cache.js";
import type { Builder } from "../build/builder.js";
import { candidateRanges } from "../core/candidateRanges.js";
import { Dag, type CommitNode } from "../core/dag.js";
import { UserError } from "../core/errors.js";
import { observationKey, type CrashSimilarity, type CrashSummary, type RunOutcome } from "../core/outcome.js";
import { parseRelease, sortReleasesNewestFirst } from "../core/releases.js";
import type { BisectKind, BisectProblem, Release, RemedyRule, SearchedRange, Step, Strategy, StrategyResult, TestRequest } from "../core/strategy.js";
import { requestsToStart } from "../core/schedule.js";
import { mostFrequentCrash } from "../core/verdict.js";
import { hungAlike } from "../core/hangs.js";
import { reproducerFailsOnStart } from "../core/reproducer.js";
import { Repo } from "../git/git.js";
import { Worktrees } from "../git/worktree.js";
import type { MaintainersLookup } from "../recipients/maintainers.js";
import { commitRecipients } from "../recipients/trailers.js";
import type { CrashReport } from "../report/types.js";
import { journalGroupsIn } from "../run/exec.js";
import type { Runner } from "../run/runner.js";
import { EventLog, nextRunIndex, observationsOf, openRequests, recordedCacheKey, recordedProblem, type BisectEvent, type GraphBoundary, type OpenRequest, type RecordedEvent } from "./events.js";
import type { ExecutionRequest, Executor, Fact, LogLocator } from "./executor.js";
import { LocalExecutor, type SharedLimits } from "./localExecutor.js";
import { lockWorkDir } from "./lock.js";
import { LOGS_DIR, LogStore } from "./logstore.js";
import type { BisectResult, CommitSummary } from "./result.js";
import { buildsAhead } from "./ahead.js";

/** Ranges of an answer whose start commit showed no crash at all: every crash then counts as masking. */
const NO_TARGET: CrashSummary = { title: "", alt: [], type: "", frame: "" };

/** Under the work dir: the process groups culprit has running (ended by the next start if it dies). */
const GROUPS_DIR = "groups";

/** Under the work dir: each request's logs being written and each run's own copy of the artifacts. */
const SCRATCH_DIR = "scratch";


export class Interrupted extends Error {
  constructor() {
    super("interrupted");
    this.name = "Interrupted";
  }
}

/** What a bisection needs from the world, chosen by the caller (CLI, tests, benchmarks). */
export interface BisectDeps {
  builder: Builder;
  runner: Runner;
  strategy: Strategy;
  parse: (log: string) => CrashReport | null;
  sameCrash: (a: CrashSummary, b: CrashSummary) => boolean;
  /** A crash named by its title (`crash:`): type, frame and other titles (report/'s crashOfTitle); default: the title alone. */
  crashOfTitle?: (title: string) => CrashSummary;
  /** Graded crash identity (report/'s crashSimilarity): a related crash is probable evidence of the target. */
  similarity?: CrashSimilarity;
  /** "build" for generic projects, "kernel" for Linux: the log says "<label> signature: …". */
  signatureLabel: string;
  /** Maintainers and lists for the files a culprit touches (e.g. from a MAINTAINERS file). */
  maintainers?: MaintainersLookup;
  /** Remedies the builder can apply, for strategies that lift masking crashes. */
  remedies?: RemedyRule[];
  /** Which release tags to try, newest first (kernel: syzbot's thinning); default all. */
  pickReleases?: (releases: Release[]) => Release[];
}

export interface BisectSpec {
  repoDir: string;
  kind: BisectKind;
  start: string;
  /** Cause: known good commit. */
  good?: string;
  /** Cause, without good: never search older than this commit (default: the repository's first commits). */
  oldest?: string;
  /** Fix: newest commit to consider (default HEAD). */
  end?: string;
  /** Title of the crash to bisect; default: the start commit's most frequent crash. */
  crash?: string;
  runs: number;
  startRuns: number;
  parallelCommits: number;
  parallelRuns: number;
  /**
   * With one commit at a time: build the commits the strategy may ask next while the runs go.
   * Default: with clean checkouts only. An incremental build in the warm checkout after the runs
   * (a kernel's: seconds to tens of seconds) beats a cold one in another checkout beside them.
   */
  buildAhead?: boolean;
  runTimeoutMs: number;
  cleanCheckouts: boolean;
  workDir: string;
  cacheDir: string;
  seed: number;
}

export interface BisectOptions {
  signal: AbortSignal;
  /** Sees every event as it is recorded, stamped (log view, progress display, the server's store). */
  onEvent?: (event: RecordedEvent, log: EventLog) => void;
  /** The job id of a new event log (a server's job keeps its id in the log); default a fresh one. */
  job?: string;
  /** Where tests run; default: in this process, with the deps' builder and runner. */
  executor?: Executor;
  /** Builds and test machines shared with other bisections in this process (a server's jobs). */
  limits?: SharedLimits;
}

/** The problem as resolved, and where its commit graph stops (recorded, so a resume can reload it). */
export interface PreparedProblem {
  problem: BisectProblem;
  boundary: GraphBoundary;
}

/** The part of a problem that comes from the job, not from the repository. */
function problemBase(spec: BisectSpec, deps: BisectDeps, start: string): Omit<BisectProblem, "graph" | "releases" | "good"> {
  return {
    kind: spec.kind,
    start,
    startRuns: spec.startRuns,
    runsPerCommit: spec.runs,
    runsAtOnce: spec.parallelRuns,
    parallelism: spec.parallelCommits,
    sameCrash: deps.sameCrash,
    ...(deps.similarity ? { similarity: deps.similarity } : {}),
    seed: spec.seed,
    ...(deps.remedies ? { remedies: deps.remedies } : {}),
    // Typed from its title before any run, so no remedy removes it while no run has shown it yet.
    ...(spec.crash ? { target: deps.crashOfTitle?.(spec.crash) ?? { title: spec.crash, alt: [], type: "", frame: "" } } : {}),
  };
}

async function loadGraph(repo: Repo, boundary: GraphBoundary): Promise<Dag> {
  return new Dag(await repo.graph(boundary.tip, boundary.exclude));
}

/** Resolves revisions and loads the commit graph; every mistake here is a UserError. */
export async function prepareProblem(repo: Repo, spec: BisectSpec, deps: BisectDeps): Promise<PreparedProblem> {
  const start = await repo.resolve(spec.start);
  const base = problemBase(spec, deps, start);
  if (spec.kind === "fix") {
    const end = await repo.resolve(spec.end ?? "HEAD");
    if (!(await repo.isAncestor(start, end))) {
      throw new UserError(`start ${spec.start} is not an ancestor of end ${spec.end ?? "HEAD"}`, "fix bisection goes forward from the crashing commit");
    }
    const boundary = { tip: end, exclude: [`${start}^@`] };
    return { problem: { ...base, good: end, releases: [], graph: await loadGraph(repo, boundary) }, boundary };
  }
  if (spec.good) {
    const good = await repo.resolve(spec.good);
    if (good === start || !(await repo.isAncestor(good, start))) {
      throw new UserError(`good ${spec.good} is not an ancestor of start ${spec.start}`, "give an older commit that the start commit descends from");
    }
    const boundary = { tip: start, exclude: [`${good}^@`] };
    return { problem: { ...base, good, releases: [], graph: await loadGraph(repo, boundary) }, boundary };
  }
  // Without a good commit the search may reach back to the job's oldest bound, else to the
  // repository's first commits: the strategy decides how far it goes (releases first).
  let oldest: string | undefined;
  if (spec.oldest) {
    oldest = await repo.resolve(spec.oldest);
    if (oldest !== start && !(await repo.isAncestor(oldest, start))) {
      throw new UserError(`oldest ${spec.oldest} is not an ancestor of start ${spec.start}`, "give an older commit that the start commit descends from");
    }
  }
  const nodes = await repo.graph(start, oldest ? [`${oldest}^@`] : []);
  const graph = new Dag(nodes);
  const tags = await repo.tagsReachableFrom(start);
  const commitOf = new Map(tags.map((t) => [t.tag, t.commit]));
  const releases: Release[] = [];
  const seen = new Set<string>();
  for (const version of sortReleasesNewestFirst(tags.map((t) => t.tag))) {
    const commit = commitOf.get(version.tag) as string;
    if (seen.has(commit) || !graph.has(commit)) continue;
    seen.add(commit);
    releases.push({ tag: version.tag, commit });
  }
  const picked = deps.pickReleases ? deps.pickReleases(releases) : releases;
  const boundary = { tip: start, exclude: oldest ? [`${oldest}^@`] : [] };
  return { problem: { ...base, releases: picked, graph, repositoryRoots: repositoryRoots(nodes), ...(oldest ? { oldest } : {}) }, boundary };
}

/** Builds and runs recorded so far: what the strategy's answers are read from. */
function factCount(events: readonly BisectEvent[]): number {
  return events.filter((e) => e.type === "build-finished" || e.type === "run-finished").length;
}

/** The commits that have no parent at all: where the repository's history begins. */
function repositoryRoots(nodes: readonly CommitNode[]): string[] {
  return nodes.filter((n) => n.parents.length === 0).map((n) => n.hash);
}

/** The problem a earlier start of this bisection resolved: the same hashes, whatever the names point at now. */
export async function replayProblem(repo: Repo, recorded: Extract<BisectEvent, { type: "problem" }>, spec: BisectSpec, deps: BisectDeps): Promise<PreparedProblem> {
  const base = problemBase(spec, deps, recorded.start);
  const nodes = await repo.graph(recorded.graph.tip, recorded.graph.exclude);
  const graph = new Dag(nodes);
  // A cause range without a good commit reaches the oldest bound or the repository's first commits.
  const open = recorded.kind === "cause" && recorded.good === undefined;
  return {
    problem: {
      ...base,
      ...(recorded.good !== undefined ? { good: recorded.good } : {}),
      ...(recorded.oldest !== undefined ? { oldest: recorded.oldest } : {}),
      ...(open ? { repositoryRoots: repositoryRoots(nodes) } : {}),
      releases: recorded.releases,
      graph,
    },
    boundary: recorded.graph,
  };
}

export async function runBisection(spec: BisectSpec, deps: BisectDeps, options: BisectOptions): Promise<BisectResult> {
  const repo = await Repo.open(spec.repoDir);
  await mkdir(spec.workDir, { recursive: true });
  const lock = lockWorkDir(spec.workDir);
  // Under the lock: what a killed predecessor left running here is ended before anything starts.
  const stopJournaling = journalGroupsIn(join(spec.workDir, GROUPS_DIR));
  try {
    return await runLocked(repo, spec, deps, options);
  } finally {
    stopJournaling();
    lock.release();
  }
}

async function runLocked(repo: Repo, spec: BisectSpec, deps: BisectDeps, options: BisectOptions): Promise<BisectResult> {
  const log = new EventLog(join(spec.workDir, "events.jsonl"), options.job, spec.workDir);
  if (options.onEvent) {
    const sink = options.onEvent;
    log.onEvent((event) => sink(event, log));
  }
  // A log of another schema version (an older culprit) is not replayed: say so, not silently redo it.
  const unreadable = log.events.length === 0 && log.unread > 0;
  const recorded = recordedProblem(log.events);
  const { problem, boundary } = recorded ? await replayProblem(repo, recorded, spec, deps) : await prepareProblem(repo, spec, deps);
  const resumed = log.events.some((e) => e.type === "started");
  log.record({ type: "started", at: Date.now(), kind: spec.kind, start: problem.start, strategy: deps.strategy.name, resumed });
  if (!recorded) {
    log.record({
      type: "problem",
      at: Date.now(),
      kind: problem.kind,
      start: problem.start,
      ...(problem.good !== undefined ? { good: problem.good } : {}),
      ...(problem.oldest !== undefined ? { oldest: problem.oldest } : {}),
      releases: problem.releases,
      graph: boundary,
    });
  }
  if (log.upgraded > 0) {
    const text = `the event log was written by an older culprit (event schema 1): ${log.upgraded} events upgraded to schema 2 (the original is kept as events.jsonl.schema1)`;
    log.record({ type: "note", at: Date.now(), note: { kind: "info", text } });
  }
  if (unreadable) {
    log.record({ type: "note", at: Date.now(), note: { kind: "info", text: `the event log held ${log.unread} lines this culprit cannot replay (another schema version, or damaged): starting over` } });
  }
  const cache = new BuildCache(spec.cacheDir);
  await cache.sweep();
  // Run copies and logs left by a process that was killed; we hold the lock, so none is in use.
  await rm(join(spec.workDir, SCRATCH_DIR), { recursive: true, force: true });
  const worktrees = new Worktrees(repo, join(spec.workDir, "worktrees"), spec.cleanCheckouts);
  const logs = new LogStore(join(spec.workDir, LOGS_DIR));
  const executor =
    options.executor ??
    new LocalExecutor({
      repo,
      builder: deps.builder,
      runner: deps.runner,
      cache,
      worktrees,
      logs,
      scratchDir: join(spec.workDir, SCRATCH_DIR),
      slots: spec.parallelCommits,
      signatureLabel: deps.signatureLabel,
      ...(options.limits ? { limits: options.limits } : {}),
    });
  const session = new Session(repo, spec, deps, options.signal, log, executor, logs, worktrees);
  // Builds ahead are this process's own work: they stop before the checkouts they use go.
  const closeOwn = async (): Promise<void> => {
    if (executor !== options.executor) await executor.close?.();
  };
  try {
    const result = await session.loop(problem);
    const final = await session.describe(problem, result);
    log.record({ type: "finished", at: Date.now(), result: final });
    return final;
  } catch (err) {
    if (options.signal.aborted) {
      log.record({ type: "interrupted", at: Date.now() });
      throw new Interrupted();
    }
    throw err;
  } finally {
    await closeOwn();
    await worktrees.removeAll();
    await rm(join(spec.workDir, SCRATCH_DIR), { recursive: true, force: true });
  }
}

class Session {
  private readonly loggedNotes = new Set<string>();
  /** The tests in flight when builds ahead were last wished for. */
  private flying: readonly TestRequest[] = [];

  constructor(
    private readonly repo: Repo,
    private readonly spec: BisectSpec,
    private readonly deps: BisectDeps,
    private readonly signal: AbortSignal,
    private readonly log: EventLog,
    private readonly executor: Executor,
    private readonly logs: LogLocator,
    private readonly worktrees: Worktrees,
  ) {
    for (const e of log.events) if (e.type === "note") this.loggedNotes.add(JSON.stringify(e.note));
  }

  /**
   * Asks the strategy whenever a worker is free, showing it the tests in flight; a worker that
   * finishes early gets the next test at once instead of waiting for the step's slowest.
   */
  async loop(problem: BisectProblem): Promise<StrategyResult> {
    const workers = Math.max(1, this.spec.parallelCommits);
    const inFlight = new Map<TestRequest, Promise<void>>();
    const stops = new Map<TestRequest, AbortController>();
    let failure: { reason: unknown } | undefined;
    const settleAll = async (): Promise<void> => {
      await Promise.allSettled(inFlight.values());
    };
    const begin = (request: TestRequest, reattached?: OpenRequest): void => {
      const stop = new AbortController();
      const running: Promise<void> = this.test(request, problem, stop.signal, reattached).then(
        () => void inFlight.delete(request),
        (reason: unknown) => {
          inFlight.delete(request);
          failure ??= { reason };
        },
      );
      inFlight.set(request, running);
      stops.set(request, stop);
    };
    // Requests an earlier start handed to executors that outlived it: their answers are still coming.
    if (this.executor.durable) for (const open of openRequests(this.log.events)) begin({ commit: open.commit, remedies: open.remedies, runs: open.indices.length }, open);
    try {
      for (;;) {
        this.checkAborted();
        // An error ends the search, but only after every sibling is done: cleanup must not
        // delete the worktree of a build that is still running.
        if (failure) throw failure.reason;
        this.checkReproducerRuns(problem.start);
        const pending = [...inFlight.keys()];
        const step: Step = this.deps.strategy.next(problem, observationsOf(this.log.events), pending);
        await this.recordNotes(step);
        if (step.kind === "done") {
          if (inFlight.size === 0) return step.result;
          // The answer stands on what is known now, so tests still in flight would only make the
          // user wait (a whole build and batch at P > 1): they are stopped. A fact that lands
          // before they stop is read: the strategy is asked again with it.
          const facts = factCount(this.log.events);
          this.log.record({ type: "note", at: Date.now(), note: { kind: "info", text: `the answer needs none of the ${inFlight.size} tests in flight: they are stopped` } });
          for (const request of inFlight.keys()) stops.get(request)?.abort();
          await settleAll();
          // Set by the settled requests (the compiler cannot see that far).
          const failed = failure as { reason: unknown } | undefined;
          if (failed) throw failed.reason;
          if (factCount(this.log.events) === facts) return step.result;
          continue;
        }
        const start = requestsToStart(step.tests, pending, workers - inFlight.size);
        if (start.length === 0 && inFlight.size === 0) throw new Error(`strategy ${this.deps.strategy.name} asked for no tests and gave no result`);
        for (const request of start) begin(request);
        // Wished for once a request's build is made (its signature is known then, and the
        // machine is free of it), or at once when it has none to make.
        this.flying = [...inFlight.keys()];
        // Ask again as soon as one test is done (or at once if a worker is still free and the
        // strategy had more to give than was started).
        if (inFlight.size >= workers || start.length === 0) await Promise.race(inFlight.values());
        if (failure) await settleAll();
      }
    } finally {
      await settleAll();
    }
  }

  /**
   * One commit at a time leaves the build machinery idle while the runs go: it builds what the
   * strategy may ask next. More workers keep it busy with requests already.
   */
  private wishBuilds(problem: BisectProblem, inFlight: readonly TestRequest[]): void {
    if (!this.executor.buildAhead || !(this.spec.buildAhead ?? this.spec.cleanCheckouts) || this.spec.parallelCommits > 1) return;
    this.executor.buildAhead(buildsAhead(this.deps.strategy, problem, observationsOf(this.log.events), inFlight));
  }

  /** A reproducer that cannot run on the start commit would make every commit untestable: stop before bisecting. */
  private checkReproducerRuns(start: string): void {
    const failed = reproducerFailsOnStart(observationsOf(this.log.events), start);
    if (!failed) return;
    const lastLine = failed.tail.split("\n").at(-1) ?? "";
    const log = this.log.events.find((e) => e.type === "run-finished" && e.commit === start && e.outcome.kind === "untestable");
    throw new UserError(
      `the reproducer fails on the start commit: ${failed.reason}${lastLine ? `: ${lastLine}` : ""}`,
      `run it by hand; its output is in ${log?.type === "run-finished" ? this.logs.path(log.log) : join(this.spec.workDir, LOGS_DIR)}`,
    );
  }

  private checkAborted(): void {
    if (this.signal.aborted) throw new Interrupted();
  }

  private async recordNotes(step: Step): Promise<void> {
    for (const note of step.notes) {
      const key = JSON.stringify(note);
      if (this.loggedNotes.has(key)) continue;
      this.loggedNotes.add(key);
      const title = note.kind === "bisect-step" ? await this.repo.titleOf(note.commit) : undefined;
      this.log.record({ type: "note", at: Date.now(), note, ...(title !== undefined ? { title } : {}) });
    }
  }

  /** Hands one test to the executor, with its run indices claimed, and records the facts it returns. */
  private async test(test: TestRequest, problem: BisectProblem, stop: AbortSignal, reattached?: OpenRequest): Promise<void> {
    const { commit, remedies } = test;
    const key = observationKey(commit, remedies);
    const recorded = observationsOf(this.log.events).find((o) => observationKey(o.commit, o.remedies) === key)?.build;
    const cacheKey = recorded ? recordedCacheKey(this.log.events, commit, remedies) : undefined;
    const tree = await this.repo.treeHash(commit);
    // Indices are handed out once, recorded before the request leaves: after an interrupted
    // batch whose runs finished out of order, a resume continues past every index already used.
    // No await between claiming and recording them: requests of one commit started together
    // (runs alongside) would claim the same ones.
    const first = nextRunIndex(this.log.events, commit, remedies);
    const indices = reattached ? reattached.indices : recorded?.kind === "failed" ? [] : Array.from({ length: Math.max(0, test.runs) }, (_, i) => first + i);
    const request: ExecutionRequest = {
      id: reattached?.request ?? randomUUID(),
      job: this.log.job,
      commit,
      tree,
      remedies,
      indices,
      ...(recorded ? { recorded } : {}),
      ...(cacheKey ? { cacheKey } : {}),
      runTimeoutMs: this.spec.runTimeoutMs,
      parallelRuns: this.spec.parallelRuns,
    };
    this.log.record({ type: "tests-started", at: Date.now(), request: request.id, commit, remedies, indices });
    const enough = this.enoughWhenHung(commit, problem);
    const record = (fact: Fact): void => {
      if (!this.log.record(fact)) return;
      if (fact.type === "run-finished" && fact.request === request.id) enough.ran(fact.outcome);
      // The build's signature (shared with other commits or not) changes what the strategy would ask next.
      if (fact.type === "build-finished" && this.flying.includes(test)) this.wishBuilds(problem, this.flying);
    };
    // A commit built before has no build to make: its runs go at once, and so can builds ahead.
    if (recorded?.kind === "ok") this.wishBuilds(problem, this.flying);
    const facts = await this.executor.execute(request, { signal: AbortSignal.any([this.signal, stop]), onFact: record, enough: enough.signal });
    // Facts streamed and returned count once; so do those of a request delivered twice.
    for (const fact of facts) record(fact);
    this.checkAborted();
  }

  /**
   * Stops a batch whose runs all hung alike: each further run would cost the timeout to be
   * masked too. Never at the start commit, whose runs say what the target is.
   */
  private enoughWhenHung(commit: string, problem: BisectProblem): { signal: AbortSignal; ran: (run: RunOutcome) => void } {
    const controller = new AbortController();
    const runs: RunOutcome[] = [];
    const startRuns = observationsOf(this.log.events).find((o) => o.commit === problem.start && o.remedies.length === 0)?.runs ?? [];
    const target = problem.target ?? mostFrequentCrash(startRuns);
    const ran = (run: RunOutcome): void => {
      runs.push(run);
      if (controller.signal.aborted || commit === problem.start || !target || !hungAlike(runs, target, this.deps.sameCrash)) return;
      controller.abort();
      const title = run.kind === "crash" ? run.crash.title : "";
      this.log.record({ type: "note", at: Date.now(), note: { kind: "info", text: `${commit}: ${runs.length} runs hung alike ("${title}"), each masking the target: the rest of its batch is not run` } });
    };
    return { signal: controller.signal, ran };
  }

  /** Turns the strategy's answer into the full result: commit details, flags, recipients, report. */
  async describe(problem: BisectProblem, result: StrategyResult): Promise<BisectResult> {
    const events = this.log.events;
    const observations = observationsOf(events);
    const base: BisectResult = {
      kind: problem.kind,
      outcome: result.outcome,
      strategy: this.deps.strategy.name,
      start: problem.start,
      candidates: [],
      noop: false,
      merge: false,
      release: false,
      confidence: result.confidence,
      ...tally(events),
      recipients: { to: [], cc: [] },
      workDir: this.spec.workDir,
      ...(result.searched ? { searched: await this.searched(result.searched) } : {}),
    };
    const startRuns = observations.find((o) => o.commit === problem.start && o.remedies.length === 0)?.runs ?? [];
    const target = mostFrequentCrash(startRuns);
    switch (result.outcome) {
      case "no-culprit":
        return { ...base, reason: result.reason, detail: result.detail, ...(await this.reportFor(problem.start, target)) };
      case "inconclusive": {
        const candidates = [];
        for (const hash of result.candidates) candidates.push({ hash, title: await this.repo.titleOf(hash) });
        const titleOf = new Map(candidates.map((c) => [c.hash, c.title]));
        const named = (hash: string): { hash: string; title: string } => ({ hash, title: titleOf.get(hash) ?? "" });
        const ranges = candidateRanges(problem.graph, result.candidates, observations, problem.target ?? target ?? NO_TARGET, this.deps.sameCrash);
        const candidateRangesOut = ranges.map(({ oldestEnds, ...r }) => ({ ...r, newest: named(r.newest), oldest: named(r.oldest), ...(oldestEnds ? { oldestEnds: oldestEnds.map(named) } : {}) }));
        return { ...base, candidates, candidateRanges: candidateRangesOut, ...(await this.reportFor(problem.start, target)) };
      }
      case "culprit": {
        const info = await this.repo.commitInfo(result.culprit);
        const signatureOf = (commit: string | undefined): string | undefined => {
          const build = observations.find((o) => o.commit === commit && o.remedies.length === 0)?.build;
          return build?.kind === "ok" ? build.signature : undefined;
        };
        const signature = signatureOf(result.culprit);
        const parentSignature = signatureOf(result.parent);
        const releaseTags = info.tags.filter((t) => parseRelease(t) !== undefined);
        // A fix has no crash at the culprit: the report worth showing is the one it fixed.
        const reportCommit = problem.kind === "cause" ? result.culprit : problem.start;
        const culpritRuns = observations.find((o) => o.commit === reportCommit && o.remedies.length === 0)?.runs ?? [];
        const shown = await this.reportFor(reportCommit, mostFrequentCrash(culpritRuns) ?? target);
        const fromCommit = commitRecipients(info.authorEmail, info.trailers);
        const fromFiles = this.deps.maintainers
          ? await this.deps.maintainers(this.repo, result.culprit, info.changedFiles, shown.guiltyFile, () => this.worktrees.checkout(0, result.culprit))
          : { to: [], cc: [] };
        const to = unique([...fromCommit, ...fromFiles.to].map((a) => a.toLowerCase()));
        const culprit: BisectResult["culprit"] = {
          ...commitSummary(info),
          ...(signature ? { signature } : {}),
          ...(parentSignature ? { parentSignature } : {}),
          releaseTags,
        };
        return {
          ...base,
          culprit,
          noop: signature !== undefined && signature === parentSignature,
          merge: info.parents.length > 1,
          release: releaseTags.length > 0,
          recipients: { to, cc: unique(fromFiles.cc.map((a) => a.toLowerCase())).filter((a) => !to.includes(a)) },
          ...(shown.report ? { report: shown.report } : {}),
        };
      }
    }
  }

  private async searched(range: SearchedRange): Promise<NonNullable<BisectResult["searched"]>> {
    const oldest = [];
    // A repository with many first commits (merged-in projects) is named by its first few.
    for (const hash of range.oldest.slice(0, 5)) {
      const info = await this.repo.commitInfo(hash);
      oldest.push({ hash, title: info.title, date: info.authorDate });
    }
    return { bound: range.bound, ...(range.tag ? { tag: range.tag } : {}), oldest };
  }

  /** The report of a run at `commit` that showed `crash`, parsed again from its console log. */
  private async reportFor(commit: string, crash: CrashSummary | undefined): Promise<{ report?: BisectResult["report"]; guiltyFile: string }> {
    if (!crash) return { guiltyFile: "" };
    for (const e of this.log.events) {
      if (e.type !== "run-finished" || e.commit !== commit || e.remedies.length > 0) continue;
      if (e.outcome.kind !== "crash" || e.outcome.crash.title !== crash.title) continue;
      const text = await readFile(this.logs.path(e.log), "utf8").catch(() => "");
      const parsed = this.deps.parse(text);
      return {
        report: { title: crash.title, type: crash.type, text: parsed?.report ?? text.slice(-20_000) },
        guiltyFile: parsed?.guiltyFile ?? "",
      };
    }
    return { report: { title: crash.title, type: crash.type, text: "" }, guiltyFile: "" };
  }
}

function commitSummary(info: Awaited<ReturnType<Repo["commitInfo"]>>): CommitSummary {
  return {
    hash: info.hash,
    title: info.title,
    author: { name: info.authorName, email: info.authorEmail },
    date: info.authorDate,
    message: info.message,
    diffstat: info.diffstat,
    parents: info.parents,
  };
}

function unique(list: readonly string[]): string[] {
  return [...new Set(list)];
}

/** Counts and times, from the events alone (so a resumed bisection counts both halves). */
export function tally(events: readonly BisectEvent[]): Pick<BisectResult, "revisionsTested" | "builds" | "cachedBuilds" | "runs" | "time"> {
  const tested = new Set<string>();
  let builds = 0;
  let cachedBuilds = 0;
  let runs = 0;
  let buildMs = 0;
  let testMs = 0;
  let totalMs = 0;
  let segmentStart: number | undefined;
  let lastAt = 0;
  for (const e of events) {
    if (e.type === "started") {
      if (segmentStart !== undefined) totalMs += lastAt - segmentStart;
      segmentStart = e.at;
    }
    lastAt = e.at;
    if (e.type === "build-finished") {
      tested.add(e.commit);
      if (e.cached) cachedBuilds++;
      else builds++;
      buildMs += e.durationMs;
    }
    if (e.type === "run-finished") runs++;
    if (e.type === "tests-finished") testMs += e.durationMs;
  }
  if (segmentStart !== undefined) totalMs += Math.max(Date.now(), lastAt) - segmentStart;
  return { revisionsTested: tested.size, builds, cachedBuilds, runs, time: { totalMs, buildMs, testMs } };
}
