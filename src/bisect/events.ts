// The event log: every fact of a bisection, one JSON object per line, appended as it happens.
// The human log, the progress display and the JSON result are views of it; `--resume`
// replays it into observations and continues without repeating finished work.
//
// Each line carries the job id, a sequence number and the schema version, so a log can be
// read back whatever happened to it: lines cut short by kill -9, delivered twice (a retried
// worker) or out of order (merged from several writers) load as the facts they were, once.

import { randomUUID } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, renameSync, truncateSync, writeFileSync } from "node:fs";
import { join, sep } from "node:path";
import { z } from "zod";
import type { BuildOutcome, Observation, RunOutcome } from "../core/outcome.js";
import { observationKey } from "../core/outcome.js";
import type { BisectKind, Note, Release } from "../core/strategy.js";
import type { Accel } from "../run/runner.js";
import { LOG_KEY, LOGS_DIR, LogStore } from "./logstore.js";
import type { BisectResult } from "./result.js";

/**
 * Bumped when a line's meaning changes. 2: facts name their request, logs are content keys
 * instead of local paths, a build names its cache entry, a VM run its accelerator. A log of
 * schema 1 is upgraded when it is opened (upgradeSchema1); lines of other versions are not
 * replayed (such a work dir starts over).
 */
export const EVENT_SCHEMA_VERSION = 2;

/** Where the commit graph of a bisection stops: `tip` and its ancestors, minus `exclude`'s. */
export interface GraphBoundary {
  tip: string;
  exclude: string[];
}

export type BisectEvent =
  | { type: "started"; at: number; kind: BisectKind; start: string; strategy: string; resumed: boolean }
  /** What the revisions named in the job resolved to, recorded once: a resume never resolves names again. */
  | { type: "problem"; at: number; kind: BisectKind; start: string; good?: string; oldest?: string; releases: Release[]; graph: GraphBoundary }
  | { type: "note"; at: number; note: Note; title?: string }
  /** A test request handed to an executor, with the run indices claimed for it (so a resume never hands them out again). */
  | { type: "tests-started"; at: number; request: string; commit: string; remedies: string[]; indices: number[] }
  | { type: "build-started"; at: number; request: string; commit: string; remedies: string[]; toolchain: string; worker?: string }
  | {
      type: "build-finished";
      at: number;
      request: string;
      commit: string;
      remedies: string[];
      build: BuildOutcome;
      cached: boolean;
      durationMs: number;
      /** The build cache entry holding the artifacts (or the failure); absent in a build upgraded from schema 1, which did not record it. */
      cacheKey?: string;
      /** The build's output in the log store; absent when the cache answered. */
      log?: string;
      signatureLabel: string;
      /** The worker that carried it out (`culprit worker --name`); absent when the server did it in-process. */
      worker?: string;
    }
  | {
      type: "run-finished";
      at: number;
      request: string;
      commit: string;
      remedies: string[];
      index: number;
      outcome: RunOutcome;
      durationMs: number;
      /** The run's console log in the log store. */
      log: string;
      /** The VM's accelerator (QEMU runs). */
      accel?: Accel;
      /** The worker that ran it; absent when the server ran it in-process. */
      worker?: string;
    }
  | { type: "tests-finished"; at: number; request: string; commit: string; remedies: string[]; runs: number; durationMs: number }
  | { type: "interrupted"; at: number }
  | { type: "finished"; at: number; result: BisectResult };

/** What every line carries besides its fact. */
export interface EventStamp {
  v: number;
  job: string;
  seq: number;
}

export type RecordedEvent = BisectEvent & EventStamp;

const crashSummary = z.object({
  title: z.string(),
  alt: z.array(z.string()),
  type: z.string(),
  frame: z.string(),
  frames: z.array(z.string()).optional(),
  file: z.string().optional(),
});

const runOutcome = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("ok") }),
  z.object({ kind: z.literal("crash"), crash: crashSummary, more: z.array(crashSummary).optional() }),
  z.object({ kind: z.literal("boot-failed"), crash: crashSummary, more: z.array(crashSummary).optional() }),
  z.object({ kind: z.literal("basic-failed"), crash: crashSummary, more: z.array(crashSummary).optional() }),
  z.object({ kind: z.literal("infra"), reason: z.string() }),
  z.object({ kind: z.literal("untestable"), reason: z.string(), tail: z.string() }),
]);

const buildOutcome = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("ok"), signature: z.string() }),
  z.object({ kind: z.literal("failed"), excerpt: z.string() }),
]);

const note = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("release"), tag: z.string(), commit: z.string() }),
  z.object({ kind: z.literal("bisect-start"), bad: z.string(), good: z.array(z.string()) }),
  z.object({ kind: z.literal("bisect-step"), commit: z.string(), revisionsLeft: z.number(), stepsLeft: z.number() }),
  z.object({ kind: z.literal("verdict"), commit: z.string(), verdict: z.enum(["good", "bad", "skip"]) }),
  z.object({ kind: z.literal("target"), crash: crashSummary }),
  z.object({ kind: z.literal("info"), text: z.string() }),
]);

const outcomes = ["culprit", "inconclusive", "no-culprit", "error"] as const;

/** A result is a view written once at the end and never replayed; its outline is what is checked. */
const bisectResult = z.custom<BisectResult>((value) => {
  if (typeof value !== "object" || value === null) return false;
  const outcome = (value as { outcome?: unknown }).outcome;
  return outcomes.some((o) => o === outcome);
});

const remedies = z.array(z.string());
const commit = z.string().min(1);
const at = z.number();
const request = z.string().min(1);
/** A key, never a path: a fact from another machine cannot point outside the log store. */
const logKey = z.string().regex(LOG_KEY);
/**
 * A worker's name as it gave it; optional, so lines written before workers were named (and facts
 * from in-process execution) load as they are, in the same schema version.
 */
export const workerName = z.string().regex(/^[\w.:@-]{1,100}$/, "a worker name is 1-100 letters, digits or . _ : @ -");

const bisectEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("started"), at, kind: z.enum(["cause", "fix"]), start: z.string(), strategy: z.string(), resumed: z.boolean() }),
  z.object({
    type: z.literal("problem"),
    at,
    kind: z.enum(["cause", "fix"]),
    start: commit,
    good: commit.optional(),
    oldest: commit.optional(),
    releases: z.array(z.object({ tag: z.string(), commit })),
    graph: z.object({ tip: commit, exclude: z.array(z.string()) }),
  }),
  z.object({ type: z.literal("note"), at, note, title: z.string().optional() }),
  z.object({ type: z.literal("tests-started"), at, request, commit, remedies, indices: z.array(z.number().int().min(0)) }),
  z.object({ type: z.literal("build-started"), at, request, commit, remedies, toolchain: z.string(), worker: workerName.optional() }),
  z.object({
    type: z.literal("build-finished"),
    at,
    request,
    commit,
    remedies,
    build: buildOutcome,
    cached: z.boolean(),
    durationMs: z.number(),
    cacheKey: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    log: logKey.optional(),
    signatureLabel: z.string(),
    worker: workerName.optional(),
  }),
  z.object({
    type: z.literal("run-finished"),
    at,
    request,
    commit,
    remedies,
    index: z.number().int().min(0),
    outcome: runOutcome,
    durationMs: z.number(),
    log: logKey,
    accel: z.enum(["kvm", "tcg"]).optional(),
    worker: workerName.optional(),
  }),
  z.object({ type: z.literal("tests-finished"), at, request, commit, remedies, runs: z.number().int(), durationMs: z.number() }),
  z.object({ type: z.literal("interrupted"), at }),
  z.object({ type: z.literal("finished"), at, result: bisectResult }),
]);

const stamp = z.object({ v: z.literal(EVENT_SCHEMA_VERSION), job: z.string().min(1), seq: z.number().int().min(0) });

// The schemas and the types must describe the same lines: a variant added to one and not the
// other fails to compile here instead of being dropped silently on the next resume.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemasMatchTypes: [Same<z.infer<typeof runOutcome>, RunOutcome>, Same<z.infer<typeof note>, Note>, Same<z.infer<typeof bisectEvent>, BisectEvent>] = [
  true,
  true,
  true,
];
void schemasMatchTypes;

/** One line of a log, or undefined when it is not a whole, valid event of this schema. */
export function parseEventLine(line: string): RecordedEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const meta = stamp.safeParse(value);
  if (!meta.success) return undefined;
  const event = bisectEvent.safeParse(value);
  if (!event.success) return undefined;
  return { ...event.data, ...meta.data };
}

const durationMs = z.number();
const schema1Stamp = z.object({ v: z.literal(1), job: z.string().min(1), seq: z.number().int().min(0) });
/** Schema 1's facts: no request, logs by local path, no cache key; its other events read as schema 2's. */
const schema1Fact = z.discriminatedUnion("type", [
  z.object({ type: z.literal("tests-started"), at, commit, remedies, indices: z.array(z.number().int().min(0)) }),
  z.object({ type: z.literal("build-started"), at, commit, remedies, toolchain: z.string() }),
  z.object({ type: z.literal("build-finished"), at, commit, remedies, build: buildOutcome, cached: z.boolean(), durationMs, logFile: z.string(), signatureLabel: z.string() }),
  z.object({ type: z.literal("run-finished"), at, commit, remedies, index: z.number().int().min(0), outcome: runOutcome, durationMs, logFile: z.string() }),
  z.object({ type: z.literal("tests-finished"), at, commit, remedies, runs: z.number().int(), durationMs }),
]);

/**
 * A schema-1 log as schema 2 lines, deterministically: each fact's request is named after the
 * line that opened it (the first fact of its commit+remedies since that one's last
 * tests-finished), and a log named by path gets the key `logKeyOf` gives it. Job and sequence
 * numbers are kept. Undefined when the text holds no schema-1 line or any line of schema 2.
 */
export function upgradeSchema1(text: string, logKeyOf: (logFile: string) => string): RecordedEvent[] | undefined {
  const lines: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (line.trim().length === 0) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (value !== null && typeof value === "object") lines.push(value as Record<string, unknown>);
    } catch {
      // A torn line is dropped on load, whatever its schema.
    }
  }
  if (lines.some((l) => l.v === EVENT_SCHEMA_VERSION) || !lines.some((l) => l.v === 1)) return undefined;
  const upgraded: RecordedEvent[] = [];
  const open = new Map<string, string>();
  const ordered = lines.flatMap((l) => {
    const meta = schema1Stamp.safeParse(l);
    return meta.success ? [{ line: l, meta: meta.data }] : [];
  });
  ordered.sort((a, b) => a.meta.seq - b.meta.seq);
  for (const { line, meta } of ordered) {
    const stamp = { ...meta, v: EVENT_SCHEMA_VERSION };
    const fact = schema1Fact.safeParse(line);
    if (!fact.success) {
      const event = bisectEvent.safeParse(line);
      if (event.success) upgraded.push({ ...event.data, ...stamp });
      if (event.success && event.data.type === "interrupted") open.clear();
      continue;
    }
    const f = fact.data;
    const key = observationKey(f.commit, f.remedies);
    const request = open.get(key) ?? `schema1-${meta.job}-${meta.seq}`;
    open.set(key, request);
    const common = { at: f.at, request, commit: f.commit, remedies: f.remedies };
    switch (f.type) {
      case "tests-started":
        upgraded.push({ type: f.type, ...common, indices: f.indices, ...stamp });
        break;
      case "build-started":
        upgraded.push({ type: f.type, ...common, toolchain: f.toolchain, ...stamp });
        break;
      case "build-finished":
        // A cached build wrote no log of its own.
        upgraded.push({ type: f.type, ...common, build: f.build, cached: f.cached, durationMs: f.durationMs, ...(f.cached ? {} : { log: logKeyOf(f.logFile) }), signatureLabel: f.signatureLabel, ...stamp });
        break;
      case "run-finished":
        upgraded.push({ type: f.type, ...common, index: f.index, outcome: f.outcome, durationMs: f.durationMs, log: logKeyOf(f.logFile), ...stamp });
        break;
      case "tests-finished":
        upgraded.push({ type: f.type, ...common, runs: f.runs, durationMs: f.durationMs, ...stamp });
        open.delete(key);
        break;
    }
  }
  return upgraded;
}

/**
 * Where a schema-1 log path points now: the path itself, or the same file under this work dir's
 * logs (a work dir copied or moved since). Undefined when neither is there.
 */
function schema1LogFile(logFile: string, workDir: string): string | undefined {
  if (existsSync(logFile)) return logFile;
  const at = logFile.lastIndexOf(`${sep}${LOGS_DIR}${sep}`);
  if (at < 0) return undefined;
  const moved = join(workDir, logFile.slice(at + 1));
  return existsSync(moved) ? moved : undefined;
}

/**
 * Upgrades the schema-1 log of a work dir in place (the original kept beside it as
 * events.jsonl.schema1), its logs copied into the log store; a log no longer found is stored
 * empty. Returns how many events it upgraded (0: nothing to upgrade).
 */
function upgradeSchema1File(file: string, text: string, workDir: string): number {
  const store = new LogStore(join(workDir, LOGS_DIR));
  const upgraded = upgradeSchema1(text, (logFile) => {
    const found = schema1LogFile(logFile, workDir);
    return store.putBytes(found ? readFileSync(found) : Buffer.alloc(0));
  });
  if (!upgraded) return 0;
  writeFileSync(`${file}.schema1`, text);
  writeFileSync(`${file}.upgrading`, upgraded.map((e) => `${JSON.stringify(e)}\n`).join(""));
  renameSync(`${file}.upgrading`, file);
  return upgraded.length;
}

/**
 * Identity of a fact, for those that must count once: a run is (commit, remedies, run index),
 * whichever request delivered it; the other facts of a request are its own, once each.
 */
function factKey(e: BisectEvent): string | undefined {
  switch (e.type) {
    case "run-finished":
      return `${observationKey(e.commit, e.remedies)}#${e.index}`;
    case "tests-started":
    case "build-started":
    case "build-finished":
    case "tests-finished":
      return `${e.type}@${e.request}`;
    default:
      return undefined;
  }
}

export interface LoadedLog {
  /** The job the log belongs to (the first valid line's); undefined for an empty log. */
  job?: string;
  /** Valid events of that job, each once, in sequence order. */
  events: RecordedEvent[];
  /** Lines dropped: torn, invalid, another schema version, another job, or a repeat. */
  dropped: number;
}

/**
 * Reads a log's text whatever state it is in; never throws. A line is kept once: a repeated
 * sequence number or a second delivery of the same fact is dropped, then lines go in sequence order.
 */
export function loadEvents(text: string): LoadedLog {
  const parsed: RecordedEvent[] = [];
  let dropped = 0;
  for (const line of text.split("\n")) {
    if (line.trim().length === 0) continue;
    const event = parseEventLine(line);
    if (event) parsed.push(event);
    else dropped++;
  }
  const job = parsed[0]?.job;
  const seqs = new Set<number>();
  const mine: RecordedEvent[] = [];
  for (const e of parsed) {
    if (e.job !== job || seqs.has(e.seq)) {
      dropped++;
      continue;
    }
    seqs.add(e.seq);
    mine.push(e);
  }
  mine.sort((a, b) => a.seq - b.seq);
  const facts = new Set<string>();
  const events: RecordedEvent[] = [];
  for (const e of mine) {
    const key = factKey(e);
    if (key !== undefined) {
      if (facts.has(key)) {
        dropped++;
        continue;
      }
      facts.add(key);
    }
    events.push(e);
  }
  return { ...(job !== undefined ? { job } : {}), events, dropped };
}

export class EventLog {
  readonly events: RecordedEvent[];
  readonly job: string;
  /** Lines of the file that were not loaded (torn, invalid, another schema version or job, repeats). */
  readonly unread: number;
  /** Events upgraded from schema 1 when the log was opened. */
  readonly upgraded: number;
  private nextSeq: number;
  private readonly facts = new Set<string>();
  private readonly listeners: ((event: RecordedEvent) => void)[] = [];

  /**
   * Opens (or starts) the log in `file`; a new log gets `job` as its id, or a fresh one. With
   * `workDir` (the work dir holding the log), a schema-1 log is upgraded first.
   */
  constructor(
    readonly file: string,
    job?: string,
    workDir?: string,
  ) {
    let bytes = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
    // A line cut short by kill -9 was never acknowledged: cut it off, or the next append
    // would be glued to it and lost too.
    if (bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a) {
      truncateSync(file, bytes.lastIndexOf(0x0a) + 1);
      bytes = bytes.subarray(0, bytes.lastIndexOf(0x0a) + 1);
    }
    this.upgraded = workDir !== undefined ? upgradeSchema1File(file, bytes.toString("utf8"), workDir) : 0;
    if (this.upgraded > 0) bytes = readFileSync(file);
    const loaded = loadEvents(bytes.toString("utf8"));
    this.events = loaded.events;
    this.unread = loaded.dropped;
    this.job = loaded.job ?? job ?? randomUUID();
    this.nextSeq = 1 + Math.max(-1, ...this.events.map((e) => e.seq));
    for (const e of this.events) {
      const key = factKey(e);
      if (key !== undefined) this.facts.add(key);
    }
  }

  onEvent(listener: (event: RecordedEvent) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Appends synchronously, so an event is on disk before anything that depends on it happens.
   * A second delivery of a fact already recorded (a run, or a request's build) is ignored: returns false.
   */
  record(event: BisectEvent): boolean {
    const key = factKey(event);
    if (key !== undefined) {
      if (this.facts.has(key)) return false;
      this.facts.add(key);
    }
    const recorded: RecordedEvent = { ...event, v: EVENT_SCHEMA_VERSION, job: this.job, seq: this.nextSeq++ };
    appendFileSync(this.file, JSON.stringify(recorded) + "\n");
    this.events.push(recorded);
    for (const listener of this.listeners) listener(recorded);
    return true;
  }
}

/** Observations (builds and runs per commit+remedies) as recorded so far. */
export function observationsOf(events: readonly BisectEvent[]): Observation[] {
  const byKey = new Map<string, Observation>();
  const get = (commit: string, remedies: string[]): Observation => {
    const key = observationKey(commit, remedies);
    let o = byKey.get(key);
    if (!o) {
      o = { commit, remedies, runs: [] };
      byKey.set(key, o);
    }
    return o;
  };
  for (const e of events) {
    if (e.type === "build-finished") get(e.commit, e.remedies).build = e.build;
    if (e.type === "run-finished") get(e.commit, e.remedies).runs.push(e.outcome);
  }
  return [...byKey.values()];
}

/** The cache key the last build of commit+remedies was recorded with (none before the key was recorded). */
export function recordedCacheKey(events: readonly BisectEvent[], commit: string, remedies: readonly string[]): string | undefined {
  const key = observationKey(commit, remedies);
  let found: string | undefined;
  for (const e of events) if (e.type === "build-finished" && e.cacheKey !== undefined && observationKey(e.commit, e.remedies) === key) found = e.cacheKey;
  return found;
}

/** The first run index not handed out yet for commit+remedies (handed out ≠ finished: see tests-started). */
export function nextRunIndex(events: readonly BisectEvent[], commit: string, remedies: readonly string[]): number {
  const key = observationKey(commit, remedies);
  let next = 0;
  for (const e of events) {
    if ((e.type === "tests-started" || e.type === "run-finished") && observationKey(e.commit, e.remedies) === key) {
      const indices = e.type === "tests-started" ? e.indices : [e.index];
      for (const i of indices) next = Math.max(next, i + 1);
    }
  }
  return next;
}

/** A request handed out whose answer is not all in: one an executor that outlives this process may still be carrying out. */
export interface OpenRequest {
  request: string;
  commit: string;
  remedies: string[];
  indices: number[];
}

/**
 * Requests started and not finished: no tests-finished, no failed build, and (for a build-only
 * request) no build at all, with some claimed run still missing. A restarted server asks for
 * these again by id, so their work is found where it is, never done twice.
 */
export function openRequests(events: readonly BisectEvent[]): OpenRequest[] {
  const started = new Map<string, OpenRequest>();
  const closed = new Set<string>();
  const ran = new Set<string>();
  const built = new Set<string>();
  for (const e of events) {
    if (e.type === "tests-started") started.set(e.request, { request: e.request, commit: e.commit, remedies: e.remedies, indices: e.indices });
    if (e.type === "tests-finished") closed.add(e.request);
    if (e.type === "build-finished") (e.build.kind === "failed" ? closed : built).add(e.request);
    if (e.type === "run-finished") ran.add(`${observationKey(e.commit, e.remedies)}#${e.index}`);
  }
  return [...started.values()].filter((r) => {
    if (closed.has(r.request)) return false;
    if (r.indices.length === 0) return !built.has(r.request);
    return r.indices.some((i) => !ran.has(`${observationKey(r.commit, r.remedies)}#${i}`));
  });
}

/** The resolved problem recorded by an earlier start of this bisection, if any. */
export function recordedProblem(events: readonly BisectEvent[]): Extract<BisectEvent, { type: "problem" }> | undefined {
  for (const e of events) if (e.type === "problem") return e;
  return undefined;
}
