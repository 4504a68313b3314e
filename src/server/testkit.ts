// A server over a scratch data dir and generated repositories, called in-process, for tests.

import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hono } from "hono";
import type { GeneratedHistory } from "../demo/history.js";
import { postgresBackend, type Backend } from "../store/backends.js";
import { openDataDir, type DataDir } from "../store/data.js";
import type { Role, TokenEntry } from "./access.js";
import { createApp } from "./app.js";
import { Jobs } from "./jobs.js";

export const TOKENS: TokenEntry[] = [
  { name: "reader", token: "read-token-0123456789", role: "read" },
  { name: "worker", token: "worker-token-0123456789", role: "worker" },
  { name: "submitter", token: "submit-token-0123456789", role: "submit" },
  { name: "admin", token: "admin-token-0123456789", role: "admin" },
];

export const auth = (role: Role): Record<string, string> => ({
  authorization: `Bearer ${TOKENS.find((t) => t.role === role)?.token as string}`,
});

/** A job over a generated history as a user would submit it: fast, two runs per commit. */
export function jobFields(history: GeneratedHistory, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    repo: history.dir,
    good: history.main[0],
    build: { command: ["make", "-s", "demo"], artifacts: ["demo"], timeout: "2m" },
    reproducer: { command: ["demo"], timeout: "20s" },
    runs: 2,
    startRuns: 2,
    ...extra,
  };
}

export interface Harness {
  dir: string;
  /** The one directory jobs may take repositories from. */
  root: string;
  data: DataDir;
  jobs: Jobs;
  app: Hono<never>;
  /** A new server over the same data dir; `meanwhile` runs while neither runs, the store still open. */
  restart(meanwhile?: () => Promise<void>): Promise<void>;
  cleanup(): Promise<void>;
}

export interface HarnessOptions {
  db?: () => Promise<string>;
  maxJobs?: number;
  builds?: number;
  runs?: number;
  allowUrls?: string[];
  keepaliveMs?: number;
}

/**
 * A harness whose store is on `backend`: SQLite in the data dir (the server's default), or a
 * database on a private PostgreSQL server that its cleanup stops.
 */
export async function harnessOn(backend: Backend["name"], options: Omit<HarnessOptions, "db"> = {}): Promise<Harness> {
  if (backend === "sqlite") return harness(options);
  const postgres = await postgresBackend();
  try {
    const h = await harness({ ...options, db: postgres.fresh });
    const cleanup = h.cleanup;
    h.cleanup = async () => {
      try {
        await cleanup();
      } finally {
        await postgres.teardown();
      }
    };
    return h;
  } catch (err) {
    await postgres.teardown();
    throw err;
  }
}

export async function harness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), "culprit-serve-"));
  const root = join(dir, "repos");
  await mkdir(root);
  const db = options.db ? await options.db() : undefined;
  const open = async (): Promise<Pick<Harness, "data" | "jobs" | "app">> => {
    const data = await openDataDir(join(dir, "data"), db);
    const jobs = new Jobs({ data, roots: [root], maxJobs: options.maxJobs ?? 2, ...(options.builds ? { builds: options.builds } : {}), ...(options.runs ? { runs: options.runs } : {}), ...(options.allowUrls ? { allowUrls: options.allowUrls } : {}) });
    const app = createApp({ store: data.store, blobs: data.blobs, jobs, tokens: TOKENS, ...(options.keepaliveMs ? { keepaliveMs: options.keepaliveMs } : {}) }) as unknown as Hono<never>;
    await jobs.start();
    return { data, jobs, app };
  };
  const h: Harness = {
    dir,
    root,
    ...(await open()),
    async restart(meanwhile) {
      await h.jobs.stop();
      await meanwhile?.();
      await h.data.store.close();
      Object.assign(h, await open());
    },
    async cleanup() {
      await h.jobs.stop();
      await h.data.store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return h;
}
