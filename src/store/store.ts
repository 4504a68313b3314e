// Jobs, their events, builds and users' corrections, in SQLite (one file, the embedded default)
// or PostgreSQL (`postgres://…`), through one schema. The store keeps what it is given and
// decides nothing: statuses come from whoever runs the job, summaries from the events.

import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { CamelCasePlugin, Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Insertable, type Selectable } from "kysely";
import pg from "pg";
import { UserError } from "../core/errors.js";
import type { RecordedEvent } from "../bisect/events.js";
import { migrations, type CorrectionsTable, type Database, type JobStatus, type JobsTable, type WorkersTable } from "./schema.js";

export type JobRow = Selectable<JobsTable>;
export type NewJob = Omit<Insertable<JobsTable>, "createdAt" | "updatedAt"> & { createdAt?: number };
export type JobUpdate = Partial<Omit<JobRow, "id" | "createdAt">>;
export type Correction = Selectable<CorrectionsTable>;
export type WorkerRow = Selectable<WorkersTable>;

export interface StoredEvent {
  event: RecordedEvent;
  /** The content key of its log in the blob store, for build-finished and run-finished. */
  log: string | null;
}

export interface JobFilter {
  status?: JobStatus;
  kind?: string;
  repo?: string;
  /** Part of the crash title, any case. */
  crash?: string;
  limit?: number;
  /** Oldest first (a queue's order) instead of newest first. */
  oldestFirst?: boolean;
}

/** Rows per insert: well under SQLite's and PostgreSQL's limits on bound parameters. */
const BATCH = 200;

function isPostgres(location: string): boolean {
  return /^postgres(ql)?:\/\//.test(location);
}

/** PostgreSQL's bigint (int8) comes back as a string by default; every bigint here is a millisecond time. */
function pgTypes(): pg.CustomTypesConfig {
  return {
    getTypeParser: ((oid: number, format?: "text" | "binary") =>
      oid === pg.types.builtins.INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig["getTypeParser"],
  };
}

/** `LIKE` pattern matching `text` anywhere, with the wildcards in it taken literally. */
function containing(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export class Store {
  private constructor(
    readonly db: Kysely<Database>,
    readonly dialect: "sqlite" | "postgres",
  ) {}

  /**
   * Opens the store at `location` (a postgres:// URL, or the path of a SQLite file) and brings
   * its schema up to date.
   */
  static async open(location: string, options: { migrateTo?: string } = {}): Promise<Store> {
    let store: Store;
    if (isPostgres(location)) {
      const pool = new pg.Pool({ connectionString: location, max: 8, types: pgTypes() });
      store = new Store(new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new CamelCasePlugin()] }), "postgres");
    } else {
      const file = resolve(location);
      try {
        mkdirSync(dirname(file), { recursive: true });
      } catch {
        throw new UserError(`cannot create the directory of the database ${file}`, "choose another --data dir");
      }
      let database: BetterSqlite3.Database;
      try {
        database = new BetterSqlite3(file);
      } catch (err) {
        throw new UserError(`cannot open the database ${file}: ${(err as Error).message}`, "choose another --data dir");
      }
      // WAL: readers (the API) never wait for the writer (a running job's events).
      database.pragma("journal_mode = WAL");
      database.pragma("foreign_keys = ON");
      database.pragma("busy_timeout = 5000");
      store = new Store(new Kysely<Database>({ dialect: new SqliteDialect({ database }), plugins: [new CamelCasePlugin()] }), "sqlite");
    }
    try {
      await store.migrate(options.migrateTo);
    } catch (err) {
      await store.close();
      if (store.dialect === "postgres") throw new UserError(`cannot use the database at --db: ${(err as Error).message}`, "check the URL and that the server runs");
      throw err;
    }
    return store;
  }

  /** Brings the schema to the latest migration (or to `to`, for tests of an upgrade). */
  private async migrate(to?: string): Promise<void> {
    const migrator = new Migrator({ db: this.db, provider: { getMigrations: async () => migrations } });
    const { error } = to === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(to);
    if (error) throw error instanceof Error ? error : new Error(String(error));
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  /** Adds a job; false when one with its id is already there (nothing is changed then). */
  async insertJob(job: NewJob, now = Date.now()): Promise<boolean> {
    const row = { ...job, createdAt: job.createdAt ?? now, updatedAt: now };
    const result = await this.db
      .insertInto("jobs")
      .values(row)
      .onConflict((oc) => oc.column("id").doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async updateJob(id: string, update: JobUpdate, now = Date.now()): Promise<void> {
    await this.db
      .updateTable("jobs")
      .set({ ...update, updatedAt: now })
      .where("id", "=", id)
      .execute();
  }

  async job(id: string): Promise<JobRow | undefined> {
    return this.db.selectFrom("jobs").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /** Newest first, unless asked otherwise. */
  async jobs(filter: JobFilter = {}): Promise<JobRow[]> {
    let query = this.db.selectFrom("jobs").selectAll();
    if (filter.status) query = query.where("status", "=", filter.status);
    if (filter.kind) query = query.where("kind", "=", filter.kind);
    if (filter.repo) query = query.where("repo", "=", filter.repo);
    if (filter.crash) query = query.where(sql<string>`lower(crash_title)`, "like", sql<string>`${containing(filter.crash)} escape '\\'`);
    return query
      .orderBy("createdAt", filter.oldestFirst ? "asc" : "desc")
      .orderBy("id")
      .limit(filter.limit ?? 100)
      .execute();
  }

  /**
   * Appends a job's events; one already there (same job and sequence number) is left as it
   * was, so delivering events twice adds nothing. Returns how many were new.
   */
  async appendEvents(jobId: string, events: readonly StoredEvent[]): Promise<number> {
    let added = 0;
    for (let i = 0; i < events.length; i += BATCH) {
      const batch = events.slice(i, i + BATCH);
      added += await this.db.transaction().execute(async (tx) => {
        const result = await tx
          .insertInto("events")
          .values(batch.map(({ event, log }) => ({ jobId, seq: event.seq, type: event.type, at: event.at, line: JSON.stringify(event), log })))
          .onConflict((oc) => oc.columns(["jobId", "seq"]).doNothing())
          .executeTakeFirst();
        const builds = batch.flatMap(({ event, log }) =>
          event.type === "build-finished"
            ? [
                {
                  jobId,
                  seq: event.seq,
                  commit: event.commit,
                  remedies: JSON.stringify(event.remedies),
                  ok: event.build.kind === "ok" ? 1 : 0,
                  signature: event.build.kind === "ok" ? event.build.signature : null,
                  cached: event.cached ? 1 : 0,
                  durationMs: event.durationMs,
                  log,
                  cacheKey: event.cacheKey,
                },
              ]
            : [],
        );
        if (builds.length > 0) {
          await tx
            .insertInto("builds")
            .values(builds)
            .onConflict((oc) => oc.columns(["jobId", "seq"]).doNothing())
            .execute();
        }
        return Number(result.numInsertedOrUpdatedRows ?? 0);
      });
    }
    return added;
  }

  /** A job's events after sequence number `after`, in order. */
  async events(jobId: string, after = -1): Promise<StoredEvent[]> {
    const rows = await this.db.selectFrom("events").select(["line", "log"]).where("jobId", "=", jobId).where("seq", ">", after).orderBy("seq").execute();
    return rows.map((r) => ({ event: JSON.parse(r.line) as RecordedEvent, log: r.log }));
  }

  async builds(jobId: string): Promise<Selectable<Database["builds"]>[]> {
    return this.db.selectFrom("builds").selectAll().where("jobId", "=", jobId).orderBy("seq").execute();
  }

  /** Every job's build of one cache entry, oldest first: who built it, and who found it cached. */
  async buildsOfCacheEntry(cacheKey: string): Promise<Selectable<Database["builds"]>[]> {
    return this.db.selectFrom("builds").selectAll().where("cacheKey", "=", cacheKey).orderBy("jobId").orderBy("seq").execute();
  }

  async addCorrection(correction: Omit<Correction, "id" | "at">, now = Date.now()): Promise<Correction> {
    const row: Correction = { ...correction, id: randomUUID(), at: now };
    await this.db.insertInto("corrections").values(row).execute();
    return row;
  }

  /** Oldest first. */
  async corrections(jobId: string): Promise<Correction[]> {
    return this.db.selectFrom("corrections").selectAll().where("jobId", "=", jobId).orderBy("at").orderBy("id").execute();
  }

  /** A worker that announced itself: new, or the same name started again (in hand: nothing yet). */
  async announceWorker(worker: Pick<WorkerRow, "name" | "capabilities" | "concurrency" | "heartbeatMs">, now = Date.now()): Promise<void> {
    const fresh = { capabilities: worker.capabilities, concurrency: worker.concurrency, heartbeatMs: worker.heartbeatMs, announcedAt: now, lastSeen: now, doing: "[]", stopped: 0 };
    await this.db
      .insertInto("workers")
      .values({ name: worker.name, ...fresh })
      .onConflict((oc) => oc.column("name").doUpdateSet(fresh))
      .execute();
  }

  /** A worker's heartbeat; false when no worker of that name announced itself. */
  async workerHeartbeat(name: string, beat: Pick<WorkerRow, "doing" | "stopped">, now = Date.now()): Promise<boolean> {
    const result = await this.db
      .updateTable("workers")
      .set({ ...beat, lastSeen: now })
      .where("name", "=", name)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Every worker ever announced, by name. */
  async workers(): Promise<WorkerRow[]> {
    return this.db.selectFrom("workers").selectAll().orderBy("name").execute();
  }

  /** Several jobs' corrections in one query (a list of jobs shows their flags), each job's oldest first. */
  async correctionsOf(jobIds: readonly string[]): Promise<Map<string, Correction[]>> {
    const byJob = new Map<string, Correction[]>();
    if (jobIds.length === 0) return byJob;
    const rows = await this.db.selectFrom("corrections").selectAll().where("jobId", "in", [...jobIds]).orderBy("at").orderBy("id").execute();
    for (const row of rows) byJob.set(row.jobId, [...(byJob.get(row.jobId) ?? []), row]);
    return byJob;
  }

  /** Rows in each table, for checks that something was (or was not) stored. */
  async counts(): Promise<Record<keyof Database, number>> {
    const count = async (table: keyof Database): Promise<number> => {
      const row = await this.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
      return Number(row.n);
    };
    return { jobs: await count("jobs"), events: await count("events"), builds: await count("builds"), corrections: await count("corrections"), workers: await count("workers") };
  }
}
