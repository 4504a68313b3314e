// The HTTP API of culprit serve (hono): jobs submitted, listed, shown, followed live as
// Server-Sent Events, cancelled, retried and corrected. Every input is checked; a mistake is a
// 4xx with one sentence ({"error": "..."}) and nothing is stored.

import { basename } from "node:path";
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { streamSSE } from "hono/streaming";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { LogView } from "../bisect/logview.js";
import { UserError } from "../core/errors.js";
import { Repo } from "../git/git.js";
import { isBlobKey, type BlobStore } from "../store/blobs.js";
import { JOB_STATUSES } from "../store/schema.js";
import type { Correction, JobRow, Store, StoredEvent } from "../store/store.js";
import { corrected } from "../store/summary.js";
import type { TokenEntry } from "./access.js";
import type { MailOutcome } from "./outbox.js";
import { need, type Env } from "./auth.js";
import { firstIssue } from "./issues.js";
import { registerPages } from "./pages.js";
import { fileResponse, registerWorkerApi } from "./workerApi.js";
import { isTerminal, JobConflict, NoSuchJob, type JobFeed, type Jobs } from "./jobs.js";

/** A job file is a few hundred bytes; anything near this is not one. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface AppDeps {
  store: Store;
  blobs: BlobStore;
  jobs: Jobs;
  tokens: readonly TokenEntry[];
  /** How long an event stream may stay silent before a comment line is sent (default 15 s). */
  keepaliveMs?: number;
  /** Writes (and sends) a finished job's report e-mail even when it would be held back. */
  mail?: (id: string) => Promise<MailOutcome>;
}

/** An answer to a request that cannot be served as asked. */
class Refused extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 413,
    message: string,
  ) {
    super(message);
  }
}

function checked<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Refused(400, firstIssue(parsed.error, what));
  return parsed.data;
}

/** YAML or JSON (YAML reads both), as one mapping. */
function mapping(text: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new Refused(400, `the body is not valid YAML or JSON: ${(err instanceof Error ? err.message : String(err)).split("\n")[0]}`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new Refused(400, "the body must be a mapping of fields");
  return doc as Record<string, unknown>;
}

const listQuery = z
  .object({
    status: z.enum(JOB_STATUSES).optional(),
    kind: z.enum(["cause", "fix"]).optional(),
    repo: z.string().min(1).optional(),
    crash: z.string().min(1).max(500).optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
  })
  .strict();

const reasonField = z.string().trim().min(1, "give a reason").max(2000);
const invalidBody = z.object({ reason: reasonField }).strict();
const culpritBody = z.object({ commit: z.string().regex(/^[0-9a-f]{7,64}$/, "must be a commit hash"), reason: reasonField }).strict();

const JOB_ID = /^[0-9a-f-]{36}$/;

/** What a list shows of a job. */
function listed(row: JobRow): Record<string, unknown> {
  const { job: _job, result: _result, workDir: _workDir, ...rest } = row;
  return rest;
}

function shown(row: JobRow, corrections: readonly Correction[]): Record<string, unknown> {
  return {
    ...listed(row),
    job: JSON.parse(row.job) as unknown,
    result: row.result ? (JSON.parse(row.result) as unknown) : null,
    corrections,
    verdict: corrected(row.culprit, corrections),
  };
}

export function createApp(deps: AppDeps): Hono<Env> {
  const { store, blobs, jobs, tokens } = deps;
  const keepaliveMs = deps.keepaliveMs ?? 15_000;
  const app = new Hono<Env>();

  const jobOf = async (c: Context<Env>): Promise<JobRow> => {
    const id = c.req.param("id") ?? "";
    const row = JOB_ID.test(id) ? await store.job(id) : undefined;
    if (!row) throw new Refused(404, `no job ${id}`);
    return row;
  };
  const bodyOf = async (c: Context<Env>): Promise<Record<string, unknown>> => mapping(await c.req.text());
  const limit = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.json({ error: `the body is larger than ${MAX_BODY_BYTES} bytes` }, 413) });

  app.onError((err, c) => {
    if (err instanceof Refused) return c.json({ error: err.message }, err.status);
    if (err instanceof UserError) return c.json({ error: err.hint ? `${err.message} (${err.hint})` : err.message }, 400);
    if (err instanceof NoSuchJob) return c.json({ error: err.message }, 404);
    if (err instanceof JobConflict) return c.json({ error: err.message }, 409);
    process.stderr.write(`culprit serve: ${err.stack ?? err.message}\n`);
    return c.json({ error: "internal error" }, 500);
  });
  app.notFound((c) => c.json({ error: `no such endpoint: ${c.req.method} ${c.req.path}` }, 404));

  app.get("/api/jobs", need(tokens, "read"), async (c) => {
    const filter = checked(listQuery, c.req.query(), "query parameter");
    return c.json({ jobs: (await store.jobs(filter)).map(listed) });
  });

  app.post("/api/jobs", need(tokens, "submit"), limit, async (c) => {
    const row = await jobs.submit(await bodyOf(c), c.get("caller").name);
    return c.json(shown(row, []), 201);
  });

  app.get("/api/jobs/:id", need(tokens, "read"), async (c) => {
    const row = await jobOf(c);
    return c.json(shown(row, await store.corrections(row.id)));
  });

  app.get("/api/jobs/:id/log", need(tokens, "read"), async (c) => {
    const row = await jobOf(c);
    const view = new LogView();
    const lines = (await store.events(row.id)).flatMap((s) => view.lines(s.event));
    return c.text(lines.map((l) => `${l}\n`).join(""));
  });

  app.get("/api/jobs/:id/events", need(tokens, "read"), async (c) => {
    const row = await jobOf(c);
    const from = c.req.header("last-event-id") ?? c.req.query("after") ?? "-1";
    if (!/^-?\d+$/.test(from)) throw new Refused(400, `after must be a sequence number, got '${from}'`);
    return followEvents(c, row, Number(from));
  });

  app.post("/api/jobs/:id/cancel", need(tokens, "submit"), async (c) => {
    const row = await jobOf(c);
    return c.json(shown(await jobs.cancel(row.id), await store.corrections(row.id)));
  });

  app.post("/api/jobs/:id/retry", need(tokens, "submit"), async (c) => {
    const row = await jobOf(c);
    return c.json(shown(await jobs.retry(row.id, c.get("caller").name), []), 201);
  });

  app.post("/api/jobs/:id/invalid", need(tokens, "admin"), limit, async (c) => {
    const row = await jobOf(c);
    const { reason } = checked(invalidBody, await bodyOf(c), "field");
    if (row.status !== "finished") throw new Refused(409, `job ${row.id} is ${row.status}: only a finished job's result can be marked invalid`);
    await store.addCorrection({ jobId: row.id, by: c.get("caller").name, kind: "invalid", culprit: null, reason });
    return c.json(shown(row, await store.corrections(row.id)), 201);
  });

  // An admin mails a result held back as unreliable or invalid; a message already written is not written again.
  app.post("/api/jobs/:id/mail", need(tokens, "admin"), async (c) => {
    const row = await jobOf(c);
    if (!deps.mail) throw new Refused(409, "this server writes no report e-mails");
    if (row.status !== "finished") throw new Refused(409, `job ${row.id} is ${row.status}: only a finished job's result can be mailed`);
    const outcome = await deps.mail(row.id);
    return c.json(outcome.kind === "not-mailed" ? { outcome: outcome.kind, why: outcome.why } : { outcome: outcome.kind, message: basename(outcome.file) });
  });

  app.post("/api/jobs/:id/culprit", need(tokens, "admin"), limit, async (c) => {
    const row = await jobOf(c);
    const { commit, reason } = checked(culpritBody, await bodyOf(c), "field");
    let hash: string;
    try {
      hash = await (await Repo.open(row.repo)).resolve(`${commit}^{commit}`);
    } catch {
      throw new Refused(400, `commit ${commit} is not in ${row.repo}`);
    }
    await store.addCorrection({ jobId: row.id, by: c.get("caller").name, kind: "culprit", culprit: hash, reason });
    return c.json(shown(row, await store.corrections(row.id)), 201);
  });

  // Hono answers HEAD with this route too: a worker asks whether a key is stored before it uploads.
  app.get("/api/blobs/:key", need(tokens, "read"), async (c) => {
    const key = c.req.param("key");
    if (!isBlobKey(key) || !(await blobs.has(key))) throw new Refused(404, `no blob ${key}`);
    return c.req.method === "HEAD" ? c.body(null, 200) : fileResponse(blobs.pathOf(key));
  });

  registerWorkerApi(app, { store, blobs, tokens });

  /** A job's events from `after` on, then live until it stops; each with the log lines it adds. */
  function followEvents(c: Context<Env>, row: JobRow, after: number): Response {
    return streamSSE(c, async (stream) => {
      const queue: JobFeed[] = [];
      let wake: (() => void) | undefined;
      // Subscribed before the stored events are read: nothing falls between the two.
      const unsubscribe = jobs.subscribe(row.id, (item) => {
        queue.push(item);
        wake?.();
      });
      stream.onAbort(() => wake?.());
      const view = new LogView();
      let last = -1;
      const send = async (stored: StoredEvent): Promise<void> => {
        if (stored.event.seq <= last) return;
        last = stored.event.seq;
        const lines = view.lines(stored.event);
        if (stored.event.seq > after) await stream.writeSSE({ event: "event", id: String(stored.event.seq), data: JSON.stringify({ ...stored, lines }) });
      };
      const end = (status: string): Promise<void> => stream.writeSSE({ event: "end", data: JSON.stringify({ status }) });
      try {
        for (const stored of await store.events(row.id)) await send(stored);
        const now = await store.job(row.id);
        const stopped = now !== undefined && isTerminal(now.status);
        for (;;) {
          while (queue.length > 0) {
            const item = queue.shift() as JobFeed;
            if (item.kind === "end") return await end(item.status);
            // The server stops: the stream ends without an end, the job goes on at the next start.
            if (item.kind === "closed") return;
            await send(item.stored);
          }
          if (stopped) return await end(now.status);
          if (stream.aborted || jobs.closed) return;
          // A build can take an hour without an event: a comment now and then keeps proxies from
          // closing the stream as idle.
          let timer: NodeJS.Timeout | undefined;
          const quiet = await new Promise<boolean>((resolve) => {
            wake = () => resolve(false);
            timer = setTimeout(() => resolve(true), keepaliveMs);
          });
          clearTimeout(timer);
          wake = undefined;
          if (quiet && !stream.aborted) await stream.write(": still running\n\n");
        }
      } finally {
        unsubscribe();
      }
    });
  }

  registerPages(app, { store, tokens });
  return app;
}
