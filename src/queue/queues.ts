// What the server and its workers agree on about the queues: one BullMQ queue per capability (a
// worker listens on the queues of what it can do), a job per execution request whose id is the
// request's (adding it twice adds it once), and facts travelling as job progress.

import type { ConnectionOptions } from "bullmq";
import { Redis } from "ioredis";
import type { ExecutionRequest, Fact } from "../bisect/executor.js";
import { UserError } from "../core/errors.js";

export const CAPABILITIES = ["generic", "linux-build", "qemu"] as const;
export type Capability = (typeof CAPABILITIES)[number];

export function isCapability(text: string): text is Capability {
  return (CAPABILITIES as readonly string[]).includes(text);
}

/** The queues a job's requests go on: its builds', and its runs'. */
export interface Stages {
  build: Capability;
  run: Capability;
}

/**
 * A kernel target's builds go to machines that build kernels (`linux-build`) and its runs to
 * machines that boot them (`qemu`), which need the artifacts but neither the source nor a
 * compiler; a job without a target is built and run by one `generic` machine.
 */
export function stagesOf(job: { target?: unknown }): Stages {
  return job.target ? { build: "linux-build", run: "qemu" } : { build: "generic", run: "generic" };
}

export function queueName(capability: Capability): string {
  return `culprit-${capability}`;
}

/** A queue job's data: the request as the orchestrator made it. */
export interface QueuedRequest {
  request: ExecutionRequest;
}

/** A queue job's progress: the facts so far, in order (the newest last). */
export interface FactsSoFar {
  facts: Fact[];
}

/** How long a request's lock lasts without a sign of life, and how often workers look for stalled ones. */
export interface StallTiming {
  lockDurationMs: number;
  stalledIntervalMs: number;
}

/**
 * A killed worker's request goes back to the queue once its lock lapses; a live worker renews it
 * every lockDuration/2 however long its build takes, so 30 s only bounds how late a death is seen.
 */
export const STALL_TIMING: StallTiming = { lockDurationMs: 30_000, stalledIntervalMs: 15_000 };

/** Deaths a request survives before it fails: each is a machine's fault, never the commit's. */
export const MAX_STALLS = 5;

/** An infrastructure error (a worker that threw) is retried, with growing waits, before the job fails. */
export const ATTEMPTS = 4;
export const BACKOFF_MS = 2_000;

/** redis://HOST:PORT as BullMQ's connection options; a malformed URL is a user's mistake. */
export function connectionOf(url: string): ConnectionOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`not a Redis URL: ${url}`, "use redis://HOST:PORT");
  }
  if (parsed.protocol !== "redis:" || parsed.hostname === "") throw new UserError(`not a Redis URL: ${url}`, "use redis://HOST:PORT");
  return {
    host: parsed.hostname,
    port: parsed.port === "" ? 6379 : Number(parsed.port),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    // BullMQ's blocking connections must wait out a Redis restart instead of failing commands.
    maxRetriesPerRequest: null,
  };
}

/** Says in one sentence when Redis does not answer at `url` within `timeoutMs` (BullMQ would wait for it forever). */
export async function checkReachable(url: string, timeoutMs = 5_000): Promise<void> {
  const connection = connectionOf(url) as { host: string; port: number; password?: string; username?: string };
  const client = new Redis({ ...connection, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new UserError(`cannot reach Redis at ${url}: ${err instanceof Error ? err.message : String(err)}`, "start redis-server there, or give another --queue");
  } finally {
    client.disconnect();
  }
}
