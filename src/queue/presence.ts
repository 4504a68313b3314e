// What a worker tells the server about itself, besides the facts it sends through the queue: who
// it is and what it can take (an announcement at start), and what it has in hand (a heartbeat,
// every half lock duration and whenever that changes). The server keeps the latest of each; a
// worker whose heartbeats stop is shown as gone, never forgotten.

import { z } from "zod";
import { workerName } from "../bisect/events.js";
import { CAPABILITIES } from "./queues.js";

export const PHASES = ["build", "run"] as const;

/** One request a worker carries out: building its commit, or running it once built. */
export const workInHand = z
  .object({
    request: z.string().min(1).max(200),
    job: z.string().regex(/^[0-9a-f-]{36}$/, "must be a job id"),
    commit: z.string().regex(/^[0-9a-f]{4,64}$/, "must be a commit hash"),
    remedies: z.array(z.string().min(1).max(200)).max(50),
    phase: z.enum(PHASES),
  })
  .strict();
export type WorkInHand = z.infer<typeof workInHand>;

export const announcement = z
  .object({
    name: workerName,
    capabilities: z
      .array(z.enum(CAPABILITIES))
      .min(1)
      .refine((list) => new Set(list).size === list.length, "must not name a capability twice"),
    /** Requests carried out at once (per capability), and runs at once within one. */
    concurrency: z.object({ builds: z.number().int().min(1).max(1000), runs: z.number().int().min(1).max(1000) }).strict(),
    /** How often it will say it is alive: the server counts missed heartbeats by it. */
    heartbeatMs: z.number().int().min(100).max(3_600_000),
  })
  .strict();
export type Announcement = z.infer<typeof announcement>;

export const heartbeat = z
  .object({
    /** At most --builds (≤ 1000) per capability. */
    doing: z.array(workInHand).max(1000 * CAPABILITIES.length),
    /** Its last heartbeat: it stopped on a signal, having finished (or left) what it had. */
    stopped: z.boolean().optional(),
  })
  .strict();
export type Heartbeat = z.infer<typeof heartbeat>;

/** Heartbeats a worker may miss before it is shown as gone: one late answer is no death. */
export const MISSED_HEARTBEATS = 3;

export type WorkerState = "live" | "stopped" | "gone";

/** Live while its heartbeats come; stopped when it said so; gone once it missed MISSED_HEARTBEATS of them. */
export function workerState(worker: { lastSeen: number; heartbeatMs: number; stopped: boolean }, now: number): WorkerState {
  if (worker.stopped) return "stopped";
  return now - worker.lastSeen > MISSED_HEARTBEATS * worker.heartbeatMs ? "gone" : "live";
}
