// The server's side of the queue: an Executor that puts each request on the BullMQ queue of the
// capability it needs and resolves with the facts a worker sends back. Facts arrive as job
// progress while the request runs (so runs are recorded as they finish) and all together when
// it completes; a fact seen twice, or sent again by a second delivery, counts once in the event
// log. It decides nothing: the orchestrator chose the request, a worker carries it out.

import { Queue, QueueEvents } from "bullmq";
import type { ExecutionOptions, ExecutionRequest, Executor, Fact } from "../bisect/executor.js";
import { ATTEMPTS, BACKOFF_MS, connectionOf, queueName, type Capability, type FactsSoFar, type QueuedRequest, type Stages } from "./queues.js";
import { SplitExecutor } from "./splitExecutor.js";

export class QueueExecutor implements Executor {
  /** A request lives in Redis: a restarted server finds it again by id. */
  readonly durable = true;

  private constructor(
    private readonly queue: Queue<QueuedRequest, Fact[]>,
    private readonly events: QueueEvents,
  ) {}

  /** Connected and listening before any request is added, so no progress is missed. */
  static async open(redisUrl: string, capability: Capability): Promise<QueueExecutor> {
    const connection = connectionOf(redisUrl);
    const name = queueName(capability);
    const queue = new Queue<QueuedRequest, Fact[]>(name, { connection });
    const events = new QueueEvents(name, { connection });
    // Each request in flight listens for its progress and its end: a server has dozens at once.
    events.setMaxListeners(0);
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    return new QueueExecutor(queue, events);
  }

  async execute(request: ExecutionRequest, options: ExecutionOptions): Promise<Fact[]> {
    const forwarded = new Set<string>();
    const seen: Fact[] = [];
    const forward = (facts: readonly Fact[]): void => {
      for (const fact of facts) {
        const key = JSON.stringify(fact);
        if (forwarded.has(key)) continue;
        forwarded.add(key);
        seen.push(fact);
        options.onFact?.(fact);
      }
    };
    const onProgress = ({ jobId, data }: { jobId: string; data: unknown }): void => {
      if (jobId === request.id && isFactsSoFar(data)) forward(data.facts);
    };
    this.events.on("progress", onProgress);
    try {
      // The request id is the job id: the same request added again (a server re-attaching) is one job.
      const job = await this.queue.add("execute", { request }, {
        jobId: request.id,
        attempts: ATTEMPTS,
        backoff: { type: "exponential", delay: BACKOFF_MS },
        removeOnComplete: { age: 24 * 3600 },
        removeOnFail: { age: 7 * 24 * 3600 },
      });
      const aborted = new Promise<"aborted">((resolve) => {
        if (options.signal.aborted) resolve("aborted");
        options.signal.addEventListener("abort", () => resolve("aborted"), { once: true });
      });
      const finished = await Promise.race([job.waitUntilFinished(this.events), aborted]);
      if (finished === "aborted") {
        // Not started yet: nobody needs to do it. A worker already on it finishes, unheard.
        await job.remove().catch(() => undefined);
        return seen;
      }
      forward(finished);
      return seen;
    } finally {
      this.events.off("progress", onProgress);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.queue.close(), this.events.close()]);
  }
}

function isFactsSoFar(data: unknown): data is FactsSoFar {
  return typeof data === "object" && data !== null && Array.isArray((data as { facts?: unknown }).facts);
}

/** One executor per capability's queue, opened when a job first needs it (a server's jobs share them). */
export class QueueExecutors {
  /** A job's executor: one queue when one machine builds and runs, else builds on one and runs on the other. */
  async forStages(stages: Stages): Promise<Executor> {
    const builds = await this.forCapability(stages.build);
    return stages.run === stages.build ? builds : new SplitExecutor(builds, await this.forCapability(stages.run));
  }

  private readonly open = new Map<Capability, Promise<QueueExecutor>>();

  constructor(private readonly redisUrl: string) {}

  forCapability(capability: Capability): Promise<QueueExecutor> {
    let executor = this.open.get(capability);
    if (!executor) this.open.set(capability, (executor = QueueExecutor.open(this.redisUrl, capability)));
    return executor;
  }

  async close(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map(async (e) => (await e).close()));
  }
}
