// A worker's side of the queue: takes requests from the queues of its capabilities, carries each
// out with an executor of its own (its checkout, its build cache), ships the logs its facts name
// to where the server reads them, and reports the facts as job progress and as the job's result.
// A worker that dies mid-request stops renewing its lock; BullMQ hands the request to another
// worker, whose facts the server's event log takes only where they are new.

import { Worker, type Job } from "bullmq";
import type { ExecutionRequest, Executor, Fact, LogLocator } from "../bisect/executor.js";
import { connectionOf, MAX_STALLS, queueName, STALL_TIMING, type Capability, type QueuedRequest, type StallTiming } from "./queues.js";

/** What carries out one request on this machine. */
export interface WorkerSide {
  executor: Executor;
  /** Where the executor's logs are, by key. */
  logs: LogLocator;
}

export interface WorkerOptions {
  redisUrl: string;
  capabilities: readonly Capability[];
  /** Requests carried out at once, per capability. */
  concurrency: number;
  /** The executor for a request's job (built from the job's settings, which the server holds). */
  sideFor(request: ExecutionRequest): Promise<WorkerSide>;
  /** Makes a log readable by the server under its key, before the fact naming it is sent. */
  shipLog(key: string, file: string, request: ExecutionRequest): Promise<void>;
  stallTiming?: StallTiming;
}

export class QueueWorker {
  private constructor(private readonly workers: Worker<QueuedRequest, Fact[]>[]) {}

  static async start(options: WorkerOptions): Promise<QueueWorker> {
    const connection = connectionOf(options.redisUrl);
    const timing = options.stallTiming ?? STALL_TIMING;
    const workers = options.capabilities.map(
      (capability) =>
        new Worker<QueuedRequest, Fact[]>(queueName(capability), (job, _token, signal) => carryOut(job, options, signal), {
          connection,
          concurrency: options.concurrency,
          lockDuration: timing.lockDurationMs,
          stalledInterval: timing.stalledIntervalMs,
          maxStalledCount: MAX_STALLS,
        }),
    );
    await Promise.all(workers.map((w) => w.waitUntilReady()));
    return new QueueWorker(workers);
  }

  /** Lets requests in hand finish, then stops taking new ones; `force`: leaves them to stall. */
  async close(force = false): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close(force)));
  }
}

async function carryOut(job: Job<QueuedRequest, Fact[]>, options: WorkerOptions, signal: AbortSignal | undefined): Promise<Fact[]> {
  const { request } = job.data;
  const side = await options.sideFor(request);
  const facts: Fact[] = [];
  // Progress is sent in order, each with every fact so far: a lost update loses nothing.
  let reporting: Promise<void> = Promise.resolve();
  let unreported: unknown;
  const onFact = (fact: Fact): void => {
    const log = fact.type === "build-finished" || fact.type === "run-finished" ? fact.log : undefined;
    reporting = reporting
      .then(async () => {
        if (unreported !== undefined) return;
        if (log !== undefined) await options.shipLog(log, side.logs.path(log), request);
        facts.push(fact);
        await job.updateProgress({ facts: [...facts] });
      })
      .catch((err: unknown) => {
        unreported ??= err;
      });
  };
  await side.executor.execute(request, { signal: signal ?? new AbortController().signal, onFact });
  await reporting;
  // Cut short (the worker stopping): what it did is reported, the rest is done again elsewhere.
  if (signal?.aborted) throw new Error("the worker stopped before the request was done");
  // A fact the server may not have had: the request fails and BullMQ retries it (an infra error, never a verdict).
  if (unreported !== undefined) throw unreported;
  return facts;
}
