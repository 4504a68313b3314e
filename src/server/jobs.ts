// The server's jobs: submitted, queued, run in-process by the same orchestrator as the CLI (at
// most `maxJobs` at once, all sharing `builds` build slots and `runs` test machines), each event
// written to the work dir's log first and then to the store, resumed from their work dirs after a restart, cancelled by aborting their bisection.
// Nothing here decides anything about a bisection: the orchestrator and its strategy do.

import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { validateJob } from "../bisect/config.js";
import { recordedProblem, type RecordedEvent } from "../bisect/events.js";
import type { Executor } from "../bisect/executor.js";
import { prepareJob, resumeJob, type PreparedJob } from "../bisect/job.js";
import { LOGS_DIR, LogStore } from "../bisect/logstore.js";
import type { SharedLimits } from "../bisect/localExecutor.js";
import { Interrupted, runBisection } from "../bisect/orchestrator.js";
import { UserError } from "../core/errors.js";
import { Slots } from "../run/slots.js";
import type { DataDir } from "../store/data.js";
import { EVENTS_FILE, importEvents, readWorkDirEvents } from "../store/import.js";
import type { JobStatus } from "../store/schema.js";
import type { JobRow, Store, StoredEvent } from "../store/store.js";
import { resultColumns, summarize } from "../store/summary.js";
import { isRepoUrl, syncMirror } from "../git/mirror.js";
import { repoUnderRoots, repoUrlAllowed } from "./access.js";

/** Fields the server sets itself: a job may not choose where the server writes. */
const SERVER_FIELDS = ["workDir", "cacheDir", "baseDir"] as const;

/** A job's events as they are stored, then `end` once it has stopped (finished, failed, cancelled). */
/** A job's live feed: its events as stored, its end, or the server stopping (the job goes on at its next start). */
export type JobFeed = { kind: "event"; stored: StoredEvent } | { kind: "end"; status: JobStatus } | { kind: "closed" };

/** A request that does not fit the job's state (cancel a finished job, retry a running one). */
export class JobConflict extends Error {}

export class NoSuchJob extends Error {}

export const DEFAULT_FETCH_TIMEOUT_MS = 10 * 60_000;

export const DEFAULT_BUILDS = 2;
export const DEFAULT_RUNS = 4;

const TERMINAL: readonly JobStatus[] = ["finished", "failed", "cancelled", "interrupted"];

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL.includes(status);
}

interface Running {
  controller: AbortController;
  cancelled: boolean;
  /** Its end was told to followers (not when it found itself cancelled before it began). */
  ended: boolean;
  done: Promise<void>;
}

export interface JobsOptions {
  data: DataDir;
  /** Real paths of the directories whose repositories jobs may name. */
  roots: readonly string[];
  /** URL prefixes of repositories jobs may name by URL (cloned into DATA/mirrors); none by default. */
  allowUrls?: readonly string[];
  /** How long a clone or fetch of such a repository may take (default 10 minutes). */
  fetchTimeoutMs?: number;
  maxJobs: number;
  /** Builds at once, across all jobs (default 2). */
  builds?: number;
  /** Test runs (processes, VMs) at once, across all jobs (default 4). */
  runs?: number;
  /** Where a bug (not a user's mistake) in running a job is said. */
  warn?: (line: string) => void;
  /** Told once a job has finished with a result stored (report e-mails hang here). */
  onFinished?: (id: string) => void;
  /** Where a job's tests run (e.g. workers through a queue); default in this process. */
  executorFor?: (job: PreparedJob["job"]) => Promise<Executor>;
}

export class Jobs {
  private readonly running = new Map<string, Running>();
  private readonly feeds = new Map<string, Set<(item: JobFeed) => void>>();
  private scheduling: Promise<void> = Promise.resolve();
  private stopping = false;
  /** Per URL, the clone or fetch under way: two jobs of one repository never fetch into it at once. */
  private readonly fetching = new Map<string, Promise<unknown>>();
  /** One set for every job: a job's own parallelism is bounded by these too. */
  readonly limits: SharedLimits;

  constructor(private readonly options: JobsOptions) {
    this.limits = { builds: new Slots(options.builds ?? DEFAULT_BUILDS), machines: new Slots(options.runs ?? DEFAULT_RUNS) };
  }

  private get store(): Store {
    return this.options.data.store;
  }

  /** Checks a submitted job as the CLI would, prepares its work dir and queues it. UserErrors say what is wrong; nothing is stored then. */
  async submit(raw: unknown, by: string, retryOf?: string): Promise<JobRow> {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new UserError("a job is a mapping of fields", 'see README.md, "Job file"');
    const fields = { ...(raw as Record<string, unknown>) };
    for (const field of SERVER_FIELDS) {
      if (field in fields) throw new UserError(`${field} is chosen by the server`, "leave it out of the job");
    }
    const checked = validateJob(fields);
    const repo = isRepoUrl(checked.repo) ? await this.mirror(repoUrlAllowed(checked.repo, this.options.allowUrls ?? [])) : repoUnderRoots(checked.repo, this.options.roots);
    const id = randomUUID();
    const workDir = join(this.options.data.jobsDir, id);
    try {
      // Relative paths in the job (a reproducer script, a kernel config) are the repository's.
      const prepared = await prepareJob({ ...fields, repo, cacheDir: join(this.options.data.dir, "cache") }, repo, workDir);
      await this.store.insertJob({
        id,
        status: "queued",
        kind: prepared.job.kind,
        repo,
        strategy: prepared.job.strategy,
        crashTitle: prepared.job.crash ?? null,
        // A URL stays a URL: a retry fetches it again.
        job: JSON.stringify({ ...fields, repo: isRepoUrl(checked.repo) ? checked.repo : repo }),
        workDir,
        submittedBy: by,
        retryOf: retryOf ?? null,
      });
    } catch (err) {
      await rm(workDir, { recursive: true, force: true });
      throw err;
    }
    this.schedule();
    return (await this.store.job(id)) as JobRow;
  }

  /** The mirror of a repository named by URL, cloned or fetched now, one fetch per URL at a time. */
  private async mirror(url: string): Promise<string> {
    const before = this.fetching.get(url) ?? Promise.resolve();
    const sync = before.catch(() => undefined).then(() => syncMirror(url, join(this.options.data.dir, "mirrors"), { timeoutMs: this.options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS }));
    this.fetching.set(url, sync);
    try {
      return await sync;
    } finally {
      if (this.fetching.get(url) === sync) this.fetching.delete(url);
    }
  }

  /** A new attempt at a job that has stopped, with the same fields. */
  async retry(id: string, by: string): Promise<JobRow> {
    const row = await this.store.job(id);
    if (!row) throw new NoSuchJob(`no job ${id}`);
    if (!isTerminal(row.status)) throw new JobConflict(`job ${id} is ${row.status}: cancel it first`);
    // An imported CLI job carries the CLI's own dirs: the server chooses its own.
    const fields = JSON.parse(row.job) as Record<string, unknown>;
    for (const field of SERVER_FIELDS) delete fields[field];
    // The same problem again, whatever its names (HEAD, a branch) point at now.
    const problem = recordedProblem((await this.store.events(id)).map((s) => s.event));
    if (problem) {
      fields["start"] = problem.start;
      if (problem.kind === "fix") fields["end"] = problem.graph.tip;
    }
    return this.submit(fields, by, id);
  }

  async cancel(id: string): Promise<JobRow> {
    const row = await this.store.job(id);
    if (!row) throw new NoSuchJob(`no job ${id}`);
    if (this.running.has(id)) {
      await this.stopCancelled(id);
    } else if (row.status === "queued" || row.status === "running") {
      await this.store.updateJob(id, { status: "cancelled" });
      // Launched while the status was written: it may have read "queued" before, so stop it too.
      if (this.running.has(id)) await this.stopCancelled(id);
      else this.publish(id, { kind: "end", status: "cancelled" });
    } else {
      throw new JobConflict(`job ${id} is ${row.status} already`);
    }
    return (await this.store.job(id)) as JobRow;
  }

  /** Stopping or stopped: no job of this process will publish again. */
  get closed(): boolean {
    return this.stopping;
  }

  /** Ends a launched job as cancelled (its processes end, its slots free) once it has stopped. */
  private async stopCancelled(id: string): Promise<void> {
    const running = this.running.get(id);
    if (!running) return;
    running.cancelled = true;
    running.controller.abort();
    await running.done;
    if (!running.ended) this.publish(id, { kind: "end", status: "cancelled" });
  }

  /** Follows a job's events as they are stored. */
  subscribe(id: string, listener: (item: JobFeed) => void): () => void {
    let set = this.feeds.get(id);
    if (!set) this.feeds.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.feeds.delete(id);
    };
  }

  private publish(id: string, item: JobFeed): void {
    for (const listener of this.feeds.get(id) ?? []) listener(item);
  }

  /** After a restart: jobs that were running go on from their work dirs, queued ones start. */
  async start(): Promise<void> {
    this.schedule();
    await this.scheduling;
  }

  /** Stops every running job (they stay `running` and go on at the next start). */
  async stop(): Promise<void> {
    this.stopping = true;
    const all = [...this.running.values()];
    for (const r of all) r.controller.abort();
    await Promise.all(all.map((r) => r.done));
    await this.scheduling;
    // Followers of jobs that will go on at the next start: their streams end now, or they (and
    // their keepalive timers) would wait for an end that this process will never publish.
    for (const id of [...this.feeds.keys()]) this.publish(id, { kind: "closed" });
  }

  /** Starts what fits; serialized, so two calls never start the same job. */
  private schedule(): void {
    this.scheduling = this.scheduling.then(() => this.fill()).catch((err: unknown) => this.warn(`scheduling failed: ${String(err)}`));
  }

  private async fill(): Promise<void> {
    if (this.stopping) return;
    const free = this.options.maxJobs - this.running.size;
    if (free <= 0) return;
    // Interrupted by a restart first (they hold a work dir's lock and checkouts), then the oldest queued.
    const waiting = [...(await this.store.jobs({ status: "running", oldestFirst: true, limit: 1000 })), ...(await this.store.jobs({ status: "queued", oldestFirst: true, limit: free }))];
    for (const row of waiting.filter((r) => !this.running.has(r.id)).slice(0, free)) this.launch(row);
  }

  private launch(row: JobRow): void {
    const controller = new AbortController();
    const entry: Running = { controller, cancelled: false, ended: false, done: Promise.resolve() };
    this.running.set(row.id, entry);
    entry.done = this.execute(row, entry)
      .catch((err: unknown) => this.warn(`job ${row.id}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`))
      .finally(() => {
        this.running.delete(row.id);
        this.schedule();
      });
  }

  private async execute(row: JobRow, entry: Running): Promise<void> {
    const { store, blobs } = this.options.data;
    // Cancelled while it waited for its slot.
    const current = await store.job(row.id);
    if (current?.status !== "queued" && current?.status !== "running") return;
    // A server killed between an event's append to the work dir and its insert here: catch up
    // first, and tell followers who read the store before the catch-up (they would see a gap).
    if (existsSync(join(row.workDir, EVENTS_FILE))) {
      for (const stored of await importEvents(store, blobs, row.id, readWorkDirEvents(row.workDir).events, { dir: row.workDir })) this.publish(row.id, { kind: "event", stored });
    }
    await store.updateJob(row.id, { status: "running" });
    // Events go to the store in the order they were recorded, each once its log is stored.
    const logs = new LogStore(join(row.workDir, LOGS_DIR));
    let writing: Promise<void> = Promise.resolve();
    let writeError: unknown;
    const onEvent = (event: RecordedEvent): void => {
      writing = writing.then(async () => {
        try {
          const key = event.type === "build-finished" || event.type === "run-finished" ? event.log : undefined;
          const stored: StoredEvent = { event, log: key ? ((await blobs.putFile(logs.path(key))) ?? null) : null };
          await store.appendEvents(row.id, [stored]);
          if (event.type === "note" && event.note.kind === "target") await store.updateJob(row.id, { crashTitle: event.note.crash.title });
          this.publish(row.id, { kind: "event", stored });
        } catch (err) {
          writeError ??= err;
        }
      });
    };
    let status: JobStatus;
    let columns: Parameters<typeof store.updateJob>[1] = {};
    try {
      const prepared = await resumeJob(row.workDir);
      const executor = await this.options.executorFor?.(prepared.job);
      const result = await runBisection(prepared.spec, prepared.deps, { signal: entry.controller.signal, job: row.id, onEvent, limits: this.limits, ...(executor ? { executor } : {}) });
      status = "finished";
      await writing;
      const summary = summarize((await store.events(row.id)).map((e) => e.event));
      columns = { ...resultColumns(result), ...(summary.crashTitle ? { crashTitle: summary.crashTitle } : {}) };
    } catch (err) {
      await writing;
      if (err instanceof Interrupted && !entry.cancelled) return; // the server is stopping: the job goes on at its next start
      if (err instanceof Interrupted) status = "cancelled";
      else {
        status = "failed";
        columns = { error: err instanceof UserError ? err.message : `internal error: ${err instanceof Error ? err.message : String(err)}` };
        if (!(err instanceof UserError)) this.warn(`job ${row.id} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
    }
    if (writeError) {
      status = "failed";
      columns = { ...columns, error: `cannot store its events: ${writeError instanceof Error ? writeError.message : String(writeError)}` };
    }
    await store.updateJob(row.id, { status, ...columns });
    entry.ended = true;
    this.publish(row.id, { kind: "end", status });
    if (status === "finished") this.options.onFinished?.(row.id);
  }

  private warn(line: string): void {
    (this.options.warn ?? ((l: string) => process.stderr.write(`culprit serve: ${l}\n`)))(line);
  }
}
