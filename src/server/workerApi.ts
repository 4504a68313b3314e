// What workers on other machines ask the server for (role `worker` or above): a job's execution
// settings, its repository over git's smart HTTP, the exchange of logs and build artifacts
// by content key, and their announcements and heartbeats (read back by /api/workers). Uploads are checked against their key (the SHA-256 of the bytes), so a key
// never names other bytes; a key already stored answers HEAD with 200 and is not sent again.

import { createReadStream } from "node:fs";
import { copyFile, mkdir, readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { z } from "zod";
import { JOB_FILE } from "../bisect/job.js";
import { LOGS_DIR, LogStore } from "../bisect/logstore.js";
import { workerName } from "../bisect/events.js";
import { announcement, heartbeat } from "../queue/presence.js";
import { isBlobKey, type BlobStore } from "../store/blobs.js";
import type { JobRow, Store } from "../store/store.js";
import type { TokenEntry } from "./access.js";
import { need, type Env } from "./auth.js";
import { gitUploadPack } from "./gitHttp.js";
import { firstIssue } from "./issues.js";
import { workerView } from "./workers.js";

/** An artifact upload larger than this is refused (a kernel build's artifacts are a few hundred MB). */
export const MAX_UPLOAD_BYTES = 8 * 1024 * 1024 * 1024;

const JOB_ID = /^[0-9a-f-]{36}$/;
/** A build cache key: the SHA-256 of the tree, configuration and toolchain. */
const CACHE_KEY = /^[0-9a-f]{64}$/;

export interface WorkerApiDeps {
  store: Store;
  blobs: BlobStore;
  tokens: readonly TokenEntry[];
}

/** An announcement or a heartbeat is a few hundred bytes; the most requests a worker may have in hand (3000) fit in this. */
const MAX_PRESENCE_BYTES = 2 * 1024 * 1024;

/** The blob name under which a build's artifacts (a tar of its cache entry) are found by cache key. */
export function buildName(cacheKey: string): string {
  return `build-${cacheKey}`;
}

const refuse = (c: Context<Env>, status: 400 | 404 | 413, error: string): Response => c.json({ error }, status);

/** The request body, counted: past `limit` bytes it stops with an error the handler turns into a 413. */
class TooLarge extends Error {}
async function* counted(body: ReadableStream<Uint8Array>, limit: number): AsyncIterable<Uint8Array> {
  let total = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > limit) throw new TooLarge();
    yield chunk;
  }
}

/** A stored file as a plain-text answer, streamed (an artifact tar can be large). */
export function fileResponse(file: string): Response {
  const body = Readable.toWeb(createReadStream(file)) as unknown as ReadableStream<Uint8Array>;
  return new Response(body, { status: 200, headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" } });
}

export function registerWorkerApi(app: Hono<Env>, deps: WorkerApiDeps): void {
  const { store, blobs, tokens } = deps;
  const worker = need(tokens, "worker");

  const jobOf = async (c: Context<Env>): Promise<JobRow | undefined> => {
    const id = c.req.param("id") ?? "";
    return JOB_ID.test(id) ? store.job(id) : undefined;
  };

  /** Stores an upload under `key` if its bytes hash to it; the answer when they do not, or are too many. */
  const upload = async (c: Context<Env>, key: string): Promise<Response | undefined> => {
    const body = c.req.raw.body;
    if (!body) return refuse(c, 400, "the upload has no body");
    try {
      if (!(await blobs.putVerified(key, counted(body, MAX_UPLOAD_BYTES)))) return refuse(c, 400, `the uploaded bytes do not hash to ${key}`);
    } catch (err) {
      if (err instanceof TooLarge) return refuse(c, 413, `an upload is at most ${MAX_UPLOAD_BYTES} bytes`);
      throw err;
    }
    return undefined;
  };

  /** The JSON body checked by `schema`, or the one-sentence refusal. */
  const presence = async <T extends z.ZodType>(c: Context<Env>, schema: T, what: string): Promise<z.infer<T> | Response> => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return refuse(c, 400, `the ${what} must be a JSON object`);
    }
    const parsed = schema.safeParse(body);
    return parsed.success ? (parsed.data as z.infer<T>) : refuse(c, 400, firstIssue(parsed.error, what));
  };
  const presenceLimit = bodyLimit({ maxSize: MAX_PRESENCE_BYTES, onError: (c) => c.json({ error: `the body is larger than ${MAX_PRESENCE_BYTES} bytes` }, 413) });

  // A worker starting: who it is, what it takes, how often it will say it is alive.
  app.post("/api/workers", worker, presenceLimit, async (c) => {
    const said = await presence(c, announcement, "announcement");
    if (said instanceof Response) return said;
    await store.announceWorker({ name: said.name, capabilities: JSON.stringify(said.capabilities), concurrency: JSON.stringify(said.concurrency), heartbeatMs: said.heartbeatMs });
    return c.json({ name: said.name }, 201);
  });

  // What a worker has in hand now; 404 tells it to announce itself again (this server forgot it).
  app.post("/api/workers/:name/heartbeat", worker, presenceLimit, async (c) => {
    const name = c.req.param("name");
    if (!workerName.safeParse(name).success) return refuse(c, 400, `not a worker name: ${name.slice(0, 100)}`);
    const said = await presence(c, heartbeat, "heartbeat");
    if (said instanceof Response) return said;
    if (!(await store.workerHeartbeat(name, { doing: JSON.stringify(said.doing), stopped: said.stopped ? 1 : 0 }))) return refuse(c, 404, `no worker ${name}: announce it first`);
    return c.json({ name });
  });

  app.get("/api/workers", need(tokens, "read"), async (c) => {
    const now = Date.now();
    return c.json({ workers: (await store.workers()).map((row) => workerView(row, now)) });
  });

  // The job as saved for resume: build, reproducer or target, runs. Paths in it are the server's.
  app.get("/api/jobs/:id/execution", worker, async (c) => {
    const row = await jobOf(c);
    if (!row) return refuse(c, 404, `no job ${c.req.param("id")}`);
    const saved = await readFile(join(row.workDir, JOB_FILE), "utf8").catch(() => undefined);
    if (saved === undefined) return refuse(c, 404, `job ${row.id} has no execution settings on this server`);
    return c.json({ id: row.id, job: JSON.parse(saved) as unknown });
  });

  // A worker's log, into the blob store and the job's own log store (where the bisection reads
  // it). Hono answers HEAD with the GET route: HEAD says whether the job has it already.
  const logTarget = async (c: Context<Env>): Promise<{ row: JobRow; key: string; target: string } | Response> => {
    const row = await jobOf(c);
    if (!row) return refuse(c, 404, `no job ${c.req.param("id")}`);
    const key = c.req.param("key") ?? "";
    if (!isBlobKey(key)) return refuse(c, 400, `not a content key: ${key}`);
    return { row, key, target: new LogStore(join(row.workDir, LOGS_DIR)).path(key) };
  };
  app.get("/api/jobs/:id/logs/:key", worker, async (c) => {
    const found = await logTarget(c);
    if (found instanceof Response) return found;
    const there = await stat(found.target).then(() => true, () => false);
    if (!there) return refuse(c, 404, `job ${found.row.id} has no log ${found.key}`);
    return c.req.method === "HEAD" ? c.body(null, 200) : fileResponse(found.target);
  });
  app.put("/api/jobs/:id/logs/:key", worker, async (c) => {
    const found = await logTarget(c);
    if (found instanceof Response) return found;
    const refused = await upload(c, found.key);
    if (refused) return refused;
    await mkdir(dirname(found.target), { recursive: true });
    await copyFile(blobs.pathOf(found.key), found.target);
    return c.json({ key: found.key }, 201);
  });

  // Any content by key (a tar of a build's artifacts); GET /api/blobs/KEY reads it back.
  app.put("/api/blobs/:key", worker, async (c) => {
    const key = c.req.param("key");
    if (!isBlobKey(key)) return refuse(c, 400, `not a content key: ${key}`);
    const refused = await upload(c, key);
    return refused ?? c.json({ key }, 201);
  });

  // A build's artifacts by its cache key: what a worker looks for before it builds.
  app.get("/api/builds/:cacheKey", worker, async (c) => {
    const cacheKey = c.req.param("cacheKey");
    if (!CACHE_KEY.test(cacheKey)) return refuse(c, 400, `not a build cache key: ${cacheKey}`);
    const blob = await blobs.named(buildName(cacheKey));
    return blob ? c.json({ cacheKey, blob }) : refuse(c, 404, `no artifacts for build ${cacheKey}`);
  });

  app.put("/api/builds/:cacheKey", worker, async (c) => {
    const cacheKey = c.req.param("cacheKey");
    if (!CACHE_KEY.test(cacheKey)) return refuse(c, 400, `not a build cache key: ${cacheKey}`);
    let blob: unknown;
    try {
      blob = ((await c.req.json()) as { blob?: unknown }).blob;
    } catch {
      return refuse(c, 400, 'the body must be {"blob": KEY}');
    }
    if (typeof blob !== "string" || !isBlobKey(blob)) return refuse(c, 400, 'the body must be {"blob": KEY}');
    if (!(await blobs.has(blob))) return refuse(c, 400, `blob ${blob} is not stored: upload it first`);
    await blobs.setName(buildName(cacheKey), blob);
    return c.json({ cacheKey, blob: await blobs.named(buildName(cacheKey)) }, 201);
  });

  // git fetch SERVER/git/JOB_ID COMMIT: the job's repository, fetch only.
  app.get("/git/:id/info/refs", worker, async (c) => {
    const row = await jobOf(c);
    if (!row) return refuse(c, 404, `no job ${c.req.param("id")}`);
    if (c.req.query("service") !== "git-upload-pack") return refuse(c, 400, "only git-upload-pack (fetch) is served");
    return gitUploadPack(row.repo, { method: "GET", pathInfo: "/info/refs", query: "service=git-upload-pack", headers: c.req.raw.headers, body: null });
  });

  app.post("/git/:id/git-upload-pack", worker, async (c) => {
    const row = await jobOf(c);
    if (!row) return refuse(c, 404, `no job ${c.req.param("id")}`);
    return gitUploadPack(row.repo, { method: "POST", pathInfo: "/git-upload-pack", query: "", headers: c.req.raw.headers, body: c.req.raw.body });
  });
}
