// A work dir belongs to one process at a time: two resumes of the same bisection would append
// interleaved facts and build in the same checkouts. The lock names its holder, so the second
// one can say who has it; a holder that died (kill -9) leaves a lock the next start takes over.

import { randomUUID } from "node:crypto";
import { existsSync, linkSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { UserError } from "../core/errors.js";
import { isProcessAlive, processStartTime } from "../run/exec.js";

export const LOCK_FILE = "lock";

const holderSchema = z.object({
  pid: z.number().int(),
  host: z.string(),
  since: z.string(),
  /** The process's start time in clock ticks (Linux), so a recycled pid is not taken for the holder. */
  started: z.string().optional(),
});

export type LockHolder = z.infer<typeof holderSchema>;

function isAlive(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return true; // cannot tell from here: assume it runs
  return isProcessAlive(holder.pid, holder.started);
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const parsed = holderSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function describeHolder(holder: LockHolder): string {
  return `pid ${holder.pid} on ${holder.host} since ${holder.since}`;
}

export interface WorkDirLock {
  readonly holder: LockHolder;
  release(): void;
}

/** Takes the work dir's lock, or throws a UserError naming who holds it. */
export function lockWorkDir(workDir: string, now = new Date()): WorkDirLock {
  const path = join(workDir, LOCK_FILE);
  const started = processStartTime(process.pid);
  const holder: LockHolder = { pid: process.pid, host: hostname(), since: now.toISOString(), ...(started ? { started } : {}) };
  // Written whole under another name, then linked: the lock file is never seen half-written,
  // and link fails if it exists, so two starters cannot both win.
  const staging = join(workDir, `${LOCK_FILE}.${randomUUID()}`);
  writeFileSync(staging, JSON.stringify(holder));
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(staging, path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        if (attempt > 2) throw new UserError(`cannot take the lock of work dir ${workDir}: other processes keep taking it`);
      }
      const current = readHolder(path);
      if (current && isAlive(current)) {
        throw new UserError(`work dir ${workDir} is in use by ${describeHolder(current)}`, "wait for it to finish, or stop that process");
      }
      // The holder died without releasing: the lock is stale. Removed only while it still names
      // that dead holder, so a starter that took it over a moment ago keeps it.
      const again = readHolder(path);
      if (JSON.stringify(again) !== JSON.stringify(current)) continue;
      try {
        unlinkSync(path);
      } catch {
        // already taken away by the other starter
      }
    }
  } finally {
    unlinkSync(staging);
  }
  return {
    holder,
    release: () => {
      // Only our own lock: a stale-lock takeover may have replaced it.
      const current = readHolder(path);
      if (current && current.pid === holder.pid && current.since === holder.since && existsSync(path)) unlinkSync(path);
    },
  };
}
