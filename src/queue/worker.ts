// A worker's side of the queue: takes requests from the queues of its capabilities, carries each
// out with an executor of its own (its checkout, its build cache), ships the logs its facts name
// to where the server reads them, and reports the facts as job progress and as the job's result.
// A worker that dies mid-request stops renewing its lock; BullMQ hands the request to another
// worker, whose facts the server's event log takes only where they are new.

import { Worker, type Job } from "bullmq";
import type { ExecutionRequest, Executor, Fact, LogLocator } from "../bisect/executor.js";
import type { WorkInHand } from "./presence.js";
import { connectionOf, MAX_STALLS, queueName, STALL_TIMING, type Capability, type QueuedRequest, type StallTiming } from "./queues.js";

/** What carries out one request on this machine. */
export interface WorkerSide {
  executor: Executor;
  /** Where the executor's logs are, by key. */
  logs: LogLocator;
}

export interface WorkerOptions {
  redisUrl: string;
  /** This worker's name: the facts it sends carry it, so a job's page shows who built and ran what. */
  name: string;
  capabilities: readonly Capability[];
  /** Requests carried out at once, per capability. */
  concurrency: number;
  /** The executor for a request's job (built from the job's settings, which the server holds). */
  sideFor(request: ExecutionRequest): Promise<WorkerSide>;
  /** Makes a log readable by the server under its key, before the fact naming it is sent. */
  shipLog(key: string, file: string, request: ExecutionRequest): Promise<void>;
  stallTiming?: StallTiming;
  /** What it has in hand, each time that changes (a request taken, built, done). */
  onWork?: (doing: WorkInHand[]) => void;
}

/** The requests a worker carries out now, by request id. */
class InHand {
  private readonly requests = new Map<string, WorkInHand>();

  constructor(private readonly onChange: (doing: WorkInHand[]) => void) {}

  set(request: ExecutionRequest, phase: WorkInHand["phase"]): void {
    if (this.requests.get(request.id)?.phase === phase) return;
    this.requests.set(request.id, { request: request.id, job: request.job, commit: request.commit, remedies: request.remedies, phase });
    this.onChange(this.list());
  }

  done(request: ExecutionRequest): void {
    if (this.requests.delete(request.id)) this.onChange(this.list());
  }

  list(): WorkInHand[] {
    return [...this.requests.values()];
  }
}

export class QueueWorker {
  private constructor(
    private readonly workers: Worker<QueuedRequest, Fact[]>[],
    private readonly inHand: InHand,
  ) {}

  static async start(options: WorkerOptions): Promise<QueueWorker> {
    const connection = connectionOf(options.redisUrl);
    const timing = options.stallTiming ?? STALL_TIMING;
    const inHand = new InHand(options.onWork ?? (() => undefined));
    const workers = options.capabilities.map(
      (capability) =>
        new Worker<QueuedRequest, Fact[]>(queueName(capability), (job, _token, signal) => carryOut(job, options, inHand, signal), {
          connection,
          concurrency: options.concurrency,
          lockDuration: timing.lockDurationMs,
          stalledInterval: timing.stalledIntervalMs,
          maxStalledCount: MAX_STALLS,
        }),
    );
    await Promise.all(workers.map((w) => w.waitUntilReady()));
    return new QueueWorker(workers, inHand);
  }

  /** The requests it carries out now. */
  doing(): WorkInHand[] {
    return this.inHand.list();
  }

  /** Lets requests in hand finish, then stops taking new ones; `force`: leaves them to stall. */
  async close(force = false): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close(force)));
  }
}

async function carryOut(job: Job<QueuedRequest, Fact[]>, options: WorkerOptions, inHand: InHand, signal: AbortSignal | undefined): Promise<Fact[]> {
  const { request } = job.data;
  // A request naming a build made already (its runs, on a machine that only runs) has no build to do.
  inHand.set(request, request.recorded?.kind === "ok" && request.indices.length > 0 ? "run" : "build");
  try {
    return await carryOutInHand(job, options, inHand, signal);
  } finally {
    inHand.done(request);
  }
}

/** The fact as the server records it: naming this worker, where the fact says who did the work. */
function signed(fact: Fact, worker: string): Fact {
  return fact.type === "tests-finished" ? fact : { ...fact, worker };
}

async function carryOutInHand(job: Job<QueuedRequest, Fact[]>, options: WorkerOptions, inHand: InHand, signal: AbortSignal | undefined): Promise<Fact[]> {
  const { request } = job.data;
  const side = await options.sideFor(request);
  const facts: Fact[] = [];
  // Progress is sent in order, each with every fact so far: a lost update loses nothing.
  let reporting: Promise<void> = Promise.resolve();
  let unreported: unknown;
  const onFact = (unsigned: Fact): void => {
    const fact = signed(unsigned, options.name);
    // Built (or found built): what is left of the request is its runs.
    if (fact.type === "build-finished" && request.indices.length > 0) inHand.set(request, "run");
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
