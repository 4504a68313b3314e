// What `culprit worker` runs on a worker machine: per job, the builder and runner the job's
// settings (from the server) make, over a repository of its own that holds only the commits it
// had to build (fetched from the server), a build cache shared with the server by content key,
// and logs shipped to the job's log store before the facts naming them.

import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ExecutionOptions, ExecutionRequest, Executor, Fact } from "../bisect/executor.js";
import { JOB_FILE, resumeJob } from "../bisect/job.js";
import { LocalExecutor } from "../bisect/localExecutor.js";
import { LogStore } from "../bisect/logstore.js";
import { git, Repo } from "../git/git.js";
import { Worktrees } from "../git/worktree.js";
import { Heartbeats } from "./heartbeat.js";
import { STALL_TIMING, type Capability, type StallTiming } from "./queues.js";
import type { ServerClient } from "./serverClient.js";
import { SharedBuildCache } from "./sharedCache.js";
import { QueueWorker, type WorkerSide } from "./worker.js";

export interface WorkerMachineOptions {
  server: ServerClient;
  /** How the server and the facts name this worker. */
  name: string;
  redisUrl: string;
  capabilities: readonly Capability[];
  /** Requests (each one build at most) carried out at once, per capability. */
  builds: number;
  /** Runs at once within a request, at most. */
  runs: number;
  /** This machine's repositories, build cache, logs and per-job files. */
  cacheDir: string;
  stallTiming?: StallTiming;
}

/** Fetches the commit only when the build is neither here nor on the server, and caps the runs at once. */
class FetchingExecutor implements Executor {
  constructor(
    private readonly local: LocalExecutor,
    private readonly fetchCommit: (commit: string) => Promise<void>,
    private readonly runs: number,
  ) {}

  async execute(request: ExecutionRequest, options: ExecutionOptions): Promise<Fact[]> {
    if (request.recorded?.kind !== "failed" && !(await this.local.isBuilt(request))) await this.fetchCommit(request.commit);
    return this.local.execute({ ...request, parallelRuns: Math.min(request.parallelRuns, this.runs) }, options);
  }
}

interface JobSide extends WorkerSide {
  worktrees: Worktrees;
}

export class WorkerMachine {
  private readonly sides = new Map<string, Promise<JobSide>>();
  private readonly fetching = new Map<string, Promise<void>>();
  private readonly cache: SharedBuildCache;
  private readonly logs: LogStore;
  private worker: QueueWorker | undefined;
  private heartbeats: Heartbeats | undefined;

  constructor(private readonly options: WorkerMachineOptions) {
    this.cache = new SharedBuildCache(join(options.cacheDir, "builds"), options.server);
    this.logs = new LogStore(join(options.cacheDir, "logs"));
  }

  async start(): Promise<void> {
    await this.cache.sweep();
    const { server, name, capabilities, builds, runs } = this.options;
    // A heartbeat as often as a live worker renews its locks: the server shows it gone about when its requests go to another.
    const heartbeatMs = Math.round((this.options.stallTiming ?? STALL_TIMING).lockDurationMs / 2);
    const heartbeats = new Heartbeats(server, { name, capabilities: [...capabilities], concurrency: { builds, runs }, heartbeatMs }, () => this.worker?.doing() ?? []);
    await heartbeats.start();
    this.heartbeats = heartbeats;
    this.worker = await QueueWorker.start({
      redisUrl: this.options.redisUrl,
      name,
      onWork: () => heartbeats.beat(),
      capabilities: this.options.capabilities,
      concurrency: this.options.builds,
      sideFor: (request) => this.sideFor(request.job),
      shipLog: (key, file, request) => server.shipLog(request.job, key, file),
      ...(this.options.stallTiming ? { stallTiming: this.options.stallTiming } : {}),
    });
  }

  /** `force`: requests in hand are left to stall and go to another worker. */
  async close(force = false): Promise<void> {
    await this.worker?.close(force);
    await this.heartbeats?.stop();
    for (const side of this.sides.values()) await (await side.catch(() => undefined))?.worktrees.removeAll();
  }

  private sideFor(job: string): Promise<JobSide> {
    let side = this.sides.get(job);
    if (!side) {
      side = this.prepare(job);
      // A failure (the server unreachable) is tried again by the next request.
      side.catch(() => this.sides.delete(job));
      this.sides.set(job, side);
    }
    return side;
  }

  private async prepare(job: string): Promise<JobSide> {
    const { server, cacheDir } = this.options;
    const settings = await server.settings(job);
    // One repository per server repository, however many jobs name it.
    const mirror = join(cacheDir, "repos", createHash("sha256").update(String(settings["repo"])).digest("hex").slice(0, 16));
    if (!existsSync(join(mirror, ".git"))) {
      await rm(mirror, { recursive: true, force: true });
      await mkdir(mirror, { recursive: true });
      await git(mirror, ["init", "--quiet"]);
    }
    const jobDir = join(cacheDir, "jobs", job);
    await mkdir(jobDir, { recursive: true });
    // The job's own fields with this machine's paths; the builder and runner come from them as on the server.
    await writeFile(join(jobDir, JOB_FILE), JSON.stringify({ ...settings, repo: mirror, workDir: jobDir, cacheDir: this.cache.dir }));
    const prepared = await resumeJob(jobDir);
    const repo = await Repo.open(mirror);
    const worktrees = new Worktrees(repo, join(jobDir, "worktrees"), prepared.spec.cleanCheckouts);
    const local = new LocalExecutor({
      repo,
      builder: prepared.deps.builder,
      runner: prepared.deps.runner,
      cache: this.cache,
      worktrees,
      logs: this.logs,
      scratchDir: join(jobDir, "scratch"),
      slots: this.options.builds,
      signatureLabel: prepared.deps.signatureLabel,
    });
    return { executor: new FetchingExecutor(local, (commit) => this.fetchOnce(job, mirror, commit), this.options.runs), logs: this.logs, worktrees };
  }

  /** git fetches into one repository are serialized: two at once contend for its lock files. */
  private fetchOnce(job: string, mirror: string, commit: string): Promise<void> {
    const previous = this.fetching.get(mirror) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.options.server.fetchCommit(job, mirror, commit));
    this.fetching.set(mirror, next);
    return next;
  }
}
