// `culprit import DIR`: a CLI work dir (finished or interrupted) into the store, with its
// console logs in the blob store. Keys are the log's own (job id, sequence number), so
// importing the same dir again adds nothing, and a dir imported half-way gets only what is new.

import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadEvents, type RecordedEvent } from "../bisect/events.js";
import { validateJob, type Job } from "../bisect/config.js";
import { JOB_FILE } from "../bisect/job.js";
import { LOGS_DIR, LogStore } from "../bisect/logstore.js";
import { UserError } from "../core/errors.js";
import type { BlobStore } from "./blobs.js";
import type { StoredEvent, Store } from "./store.js";
import { resultColumns, summarize } from "./summary.js";

export const EVENTS_FILE = "events.jsonl";

/**
 * Adds events the store lacks, each with its log stored by content. Returns those that were new,
 * in order: a server catching up on its work dir must show them to the job's followers too.
 */
export async function importEvents(store: Store, blobs: BlobStore, jobId: string, events: readonly RecordedEvent[], where: { dir: string }): Promise<StoredEvent[]> {
  const known = new Set((await store.events(jobId)).map((e) => e.event.seq));
  // Logs are named by content key in the work dir's log store, wherever the dir has moved since.
  const logs = new LogStore(join(where.dir, LOGS_DIR));
  const fresh: StoredEvent[] = [];
  for (const event of events) {
    if (known.has(event.seq)) continue;
    const key = event.type === "build-finished" || event.type === "run-finished" ? event.log : undefined;
    const log = key ? ((await blobs.putFile(logs.path(key))) ?? null) : null;
    fresh.push({ event, log });
  }
  await store.appendEvents(jobId, fresh);
  return fresh;
}

export function readWorkDirEvents(dir: string): { job?: string; events: RecordedEvent[] } {
  let text: string;
  try {
    text = readFileSync(join(dir, EVENTS_FILE), "utf8");
  } catch {
    throw new UserError(`${dir} holds no bisection`, `it has no ${EVENTS_FILE}; give the work dir of a culprit bisect`);
  }
  return loadEvents(text);
}

/** The job a work dir was started with: as saved (durations with their unit) and validated. */
export function readWorkDirJob(dir: string): { fields: Record<string, unknown>; job: Job } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(dir, JOB_FILE), "utf8"));
  } catch {
    throw new UserError(`${dir} holds no readable ${JOB_FILE}`, "give the work dir of a culprit bisect");
  }
  return { fields: raw as Record<string, unknown>, job: validateJob(raw) };
}

export interface ImportReport {
  job: string;
  /** False when the job was already in the store. */
  created: boolean;
  eventsAdded: number;
  status: "finished" | "interrupted";
}

/** A work dir read whole, before anything is stored: a mistake in any dir stores nothing. */
export interface WorkDirContent {
  dir: string;
  job: Job;
  /** job.json as saved. */
  fields: Record<string, unknown>;
  jobId: string;
  events: RecordedEvent[];
}

export function readWorkDir(workDir: string): WorkDirContent {
  const dir = resolve(workDir);
  const { fields, job } = readWorkDirJob(dir);
  const loaded = readWorkDirEvents(dir);
  if (!loaded.job) throw new UserError(`${dir} holds no events yet`, "nothing to import");
  return { dir, job, fields, jobId: loaded.job, events: loaded.events };
}

export async function importWorkDir(store: Store, blobs: BlobStore, content: WorkDirContent): Promise<ImportReport> {
  const { dir, job, fields, jobId, events } = content;
  const summary = summarize(events);
  const status = summary.ending === "finished" ? "finished" : "interrupted";
  const columns = {
    status,
    kind: summary.kind ?? job.kind,
    repo: job.repo,
    strategy: summary.strategy ?? job.strategy,
    crashTitle: summary.crashTitle ?? job.crash ?? null,
    ...(summary.result ? resultColumns(summary.result) : {}),
  } as const;
  const created = await store.insertJob({
    id: jobId,
    ...columns,
    createdAt: events[0]?.at ?? Date.now(),
    job: JSON.stringify(fields),
    workDir: dir,
  });
  const eventsAdded = (await importEvents(store, blobs, jobId, events, { dir })).length;
  // A dir imported while interrupted and again once finished: the row follows its events.
  if (!created && eventsAdded > 0) await store.updateJob(jobId, columns);
  return { job: jobId, created, eventsAdded, status };
}
