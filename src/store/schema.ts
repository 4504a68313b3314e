// The store's tables and the one migration set that creates them, on SQLite and PostgreSQL
// alike: only types both understand (text, integer, bigint, double precision), no
// auto-increment, booleans as 0/1, JSON as text. Columns are snake_case in SQL and camelCase
// here (kysely's CamelCasePlugin).

import { type Kysely, type Migration } from "kysely";

/** Who runs a job decides its status; the store only keeps it. */
export const JOB_STATUSES = ["queued", "running", "finished", "failed", "cancelled", "interrupted"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface JobsTable {
  /** The event log's job id: the same in the work dir's events.jsonl and here. */
  id: string;
  createdAt: number;
  updatedAt: number;
  status: JobStatus;
  kind: string;
  repo: string;
  strategy: string;
  /** The crash being bisected, once known (named in the job or picked on the start commit). */
  crashTitle: string | null;
  outcome: string | null;
  culprit: string | null;
  confidence: number | null;
  /** The job's fields as JSON, as given (durations with their unit): a retry submits them again. */
  job: string;
  /** The result as JSON, once finished. */
  result: string | null;
  workDir: string;
  submittedBy: string | null;
  retryOf: string | null;
  /** Why a failed job failed: one sentence. */
  error: string | null;
}

export interface EventsTable {
  jobId: string;
  seq: number;
  type: string;
  at: number;
  /** The stamped event exactly as the work dir's events.jsonl holds it. */
  line: string;
  /** The content key of the build's or run's log in the blob store. */
  log: string | null;
}

/** The builds of every job, from their build-finished events. */
export interface BuildsTable {
  jobId: string;
  seq: number;
  commit: string;
  remedies: string;
  ok: number;
  signature: string | null;
  cached: number;
  durationMs: number;
  log: string | null;
  /** The build cache entry that holds its artifacts (event schema 2 on). */
  cacheKey: string | null;
}

/** A user's correction of a result: append-only, the newest counts. */
export interface CorrectionsTable {
  id: string;
  jobId: string;
  at: number;
  by: string;
  kind: "invalid" | "culprit";
  culprit: string | null;
  reason: string;
}

/** The workers that announced themselves (`culprit worker`): kept, never deleted, with their latest heartbeat. */
export interface WorkersTable {
  name: string;
  /** JSON list of the queues it takes requests from. */
  capabilities: string;
  /** JSON {builds, runs}: requests at once, and runs at once within one. */
  concurrency: string;
  /** How often it said it would send a heartbeat. */
  heartbeatMs: number;
  /** When it last announced itself (started). */
  announcedAt: number;
  lastSeen: number;
  /** JSON list of the requests in hand at its last heartbeat. */
  doing: string;
  /** 1 once its last heartbeat said it stopped, until it announces itself again. */
  stopped: number;
}

export interface Database {
  jobs: JobsTable;
  events: EventsTable;
  builds: BuildsTable;
  corrections: CorrectionsTable;
  workers: WorkersTable;
}

// Migrations are never edited once landed: a change is a new entry, applied in name order.
export const migrations: Record<string, Migration> = {
  "0001-jobs-events-builds-corrections": {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("jobs")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("repo", "text", (c) => c.notNull())
        .addColumn("strategy", "text", (c) => c.notNull())
        .addColumn("crash_title", "text")
        .addColumn("outcome", "text")
        .addColumn("culprit", "text")
        .addColumn("confidence", "double precision")
        .addColumn("job", "text", (c) => c.notNull())
        .addColumn("result", "text")
        .addColumn("work_dir", "text", (c) => c.notNull())
        .addColumn("submitted_by", "text")
        .addColumn("retry_of", "text")
        .addColumn("error", "text")
        .execute();
      await db.schema.createIndex("jobs_created").on("jobs").columns(["created_at"]).execute();
      await db.schema.createIndex("jobs_status").on("jobs").columns(["status"]).execute();
      await db.schema
        .createTable("events")
        .addColumn("job_id", "text", (c) => c.notNull().references("jobs.id"))
        .addColumn("seq", "integer", (c) => c.notNull())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("at", "bigint", (c) => c.notNull())
        .addColumn("line", "text", (c) => c.notNull())
        .addColumn("log", "text")
        .addPrimaryKeyConstraint("events_pk", ["job_id", "seq"])
        .execute();
      await db.schema
        .createTable("builds")
        .addColumn("job_id", "text", (c) => c.notNull().references("jobs.id"))
        .addColumn("seq", "integer", (c) => c.notNull())
        .addColumn("commit", "text", (c) => c.notNull())
        .addColumn("remedies", "text", (c) => c.notNull())
        .addColumn("ok", "integer", (c) => c.notNull())
        .addColumn("signature", "text")
        .addColumn("cached", "integer", (c) => c.notNull())
        .addColumn("duration_ms", "double precision", (c) => c.notNull())
        .addColumn("log", "text")
        .addPrimaryKeyConstraint("builds_pk", ["job_id", "seq"])
        .execute();
      await db.schema.createIndex("builds_commit").on("builds").columns(["commit"]).execute();
      await db.schema
        .createTable("corrections")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("job_id", "text", (c) => c.notNull().references("jobs.id"))
        .addColumn("at", "bigint", (c) => c.notNull())
        .addColumn("by", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("culprit", "text")
        .addColumn("reason", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("corrections_job").on("corrections").columns(["job_id"]).execute();
    },
  },
  // Event schema 2 names each build's cache entry: the builds table becomes the cache's index.
  "0002-builds-cache-key": {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable("builds").addColumn("cache_key", "text").execute();
      await db.schema.createIndex("builds_cache_key").on("builds").columns(["cache_key"]).execute();
    },
  },
  "0003-workers": {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("workers")
        .addColumn("name", "text", (c) => c.primaryKey())
        .addColumn("capabilities", "text", (c) => c.notNull())
        .addColumn("concurrency", "text", (c) => c.notNull())
        .addColumn("heartbeat_ms", "integer", (c) => c.notNull())
        .addColumn("announced_at", "bigint", (c) => c.notNull())
        .addColumn("last_seen", "bigint", (c) => c.notNull())
        .addColumn("doing", "text", (c) => c.notNull())
        .addColumn("stopped", "integer", (c) => c.notNull())
        .execute();
    },
  },
};
