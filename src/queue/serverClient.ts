// A worker's calls to culprit serve (role `worker`): a job's settings, its repository fetched
// over git's smart HTTP, and logs and artifacts moved by content key, asked for with HEAD first
// so nothing the server has is sent again. Any failure here is the infrastructure's: it throws,
// and the request is retried (BullMQ's backoff), never turned into a verdict.

import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { UserError } from "../core/errors.js";
import { git } from "../git/git.js";
import type { Announcement, Heartbeat } from "./presence.js";

/** The SHA-256 of a file's bytes, in hex: its content key. */
export async function fileKey(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export class ServerClient {
  private readonly base: string;

  constructor(
    url: string,
    private readonly token: string,
  ) {
    this.base = url.replace(/\/+$/, "");
  }

  private async call(method: string, path: string, init: { body?: BodyInit; json?: unknown } = {}): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    let body = init.body;
    if (init.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(init.json);
    }
    // A file streamed as the body: Node's fetch needs to be told it is sent while the answer may come.
    return fetch(`${this.base}${path}`, { method, headers, ...(body !== undefined ? { body, duplex: "half" } : {}) } as RequestInit);
  }

  private async expect(response: Response, what: string, ok: readonly number[]): Promise<Response> {
    if (ok.includes(response.status)) return response;
    const text = await response.text().catch(() => "");
    let reason = text;
    try {
      reason = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // not JSON: the text is the reason
    }
    throw new Error(`${what}: the server answered ${response.status} ${reason.slice(0, 300)}`);
  }

  /** A one-line error now, at start, for a server that cannot be reached or a token that is not a worker's. */
  async checkAccess(): Promise<void> {
    let response: Response;
    try {
      // Needs the worker role, and stores nothing: an empty body is refused after the token is checked.
      response = await this.call("PUT", `/api/builds/${"0".repeat(64)}`, { json: {} });
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      throw new UserError(`cannot reach culprit serve at ${this.base}: ${cause}`, "check --server");
    }
    if (response.status === 401 || response.status === 403) {
      throw new UserError(`culprit serve at ${this.base} refuses this token (${response.status})`, "give a token with the worker role: --token or CULPRIT_TOKEN");
    }
    if (response.status !== 400) throw new UserError(`${this.base} does not answer as culprit serve does (${response.status})`, "check --server");
  }

  /** The job's fields as the server saved them (build, reproducer or target, runs). */
  async settings(job: string): Promise<Record<string, unknown>> {
    const response = await this.expect(await this.call("GET", `/api/jobs/${job}/execution`), `settings of job ${job}`, [200]);
    return ((await response.json()) as { job: Record<string, unknown> }).job;
  }

  /** Makes `commit` of the job's repository present in the local repository `dir`. */
  async fetchCommit(job: string, dir: string, commit: string): Promise<void> {
    const present = await git(dir, ["cat-file", "-e", `${commit}^{commit}`], { okCodes: [1, 128] });
    if (present.code === 0) return;
    const url = `${this.base}/git/${job}`;
    const env = { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "http.extraHeader", GIT_CONFIG_VALUE_0: `Authorization: Bearer ${this.token}` };
    await git(dir, ["fetch", "--quiet", "--no-tags", url, commit], { env });
    await this.fetchTagsReached(dir, url, commit, env);
  }

  /**
   * The server's tags that `commit` reaches, and only those (any other would bring its history
   * along): a kernel build's compiler and release tweaks follow the releases a commit reaches, and
   * must be the ones the server's repository says.
   */
  private async fetchTagsReached(dir: string, url: string, commit: string, env: Record<string, string>): Promise<void> {
    const tagged = new Map<string, string>();
    for (const line of (await git(dir, ["ls-remote", "--tags", url], { env })).stdout.split("\n")) {
      const [hash, ref] = line.split("\t");
      if (!hash || !ref) continue;
      // An annotated tag is listed twice: its own object, then (ref^{}) the commit it names.
      if (ref.endsWith("^{}")) tagged.set(ref.slice(0, -3), hash);
      else if (!tagged.has(ref)) tagged.set(ref, hash);
    }
    if (tagged.size === 0) return;
    const reached = new Set((await git(dir, ["rev-list", commit])).stdout.split("\n"));
    const refspecs = [...tagged].filter(([, target]) => reached.has(target)).map(([ref]) => `+${ref}:${ref}`);
    // Batches keep each command line short on a kernel's thousands of tags.
    for (let i = 0; i < refspecs.length; i += 1000) await git(dir, ["fetch", "--quiet", "--no-tags", url, ...refspecs.slice(i, i + 1000)], { env });
  }

  /** Puts a log in the job's log store unless it is there. */
  async shipLog(job: string, key: string, file: string): Promise<void> {
    const path = `/api/jobs/${job}/logs/${key}`;
    if ((await this.call("HEAD", path)).status === 200) return;
    await this.expect(await this.call("PUT", path, { body: Readable.toWeb(createReadStream(file)) as unknown as BodyInit }), `log ${key}`, [201]);
  }

  /** Stores a file by its content key unless it is there; returns the key. */
  async putBlob(file: string): Promise<string> {
    const key = await fileKey(file);
    const path = `/api/blobs/${key}`;
    if ((await this.call("HEAD", path)).status === 200) return key;
    await this.expect(await this.call("PUT", path, { body: Readable.toWeb(createReadStream(file)) as unknown as BodyInit }), `blob ${key}`, [201]);
    return key;
  }

  /** Writes the blob `key` to `file`, checked against its key. */
  async getBlob(key: string, file: string): Promise<void> {
    const response = await this.expect(await this.call("GET", `/api/blobs/${key}`), `blob ${key}`, [200]);
    if (!response.body) throw new Error(`blob ${key}: the server sent no body`);
    const partial = `${file}.partial`;
    try {
      await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>), createWriteStream(partial));
      if ((await fileKey(partial)) !== key) throw new Error(`blob ${key}: the bytes received do not hash to it`);
      await rename(partial, file);
    } finally {
      await rm(partial, { force: true });
    }
  }

  /** The blob holding the artifacts of the build with this cache key, if any worker has uploaded them. */
  async buildBlob(cacheKey: string): Promise<string | undefined> {
    const response = await this.call("GET", `/api/builds/${cacheKey}`);
    if (response.status === 404) return undefined;
    return ((await (await this.expect(response, `build ${cacheKey}`, [200])).json()) as { blob: string }).blob;
  }

  async nameBuild(cacheKey: string, blob: string): Promise<void> {
    await this.expect(await this.call("PUT", `/api/builds/${cacheKey}`, { json: { blob } }), `build ${cacheKey}`, [201]);
  }

  /** Tells the server who this worker is and what it takes; again after the server forgot it. */
  async announce(worker: Announcement): Promise<void> {
    await this.expect(await this.call("POST", "/api/workers", { json: worker }), `announcing worker ${worker.name}`, [201]);
  }

  /** What this worker has in hand now; false when the server does not know it (announce it again). */
  async heartbeat(name: string, beat: Heartbeat): Promise<boolean> {
    const response = await this.call("POST", `/api/workers/${encodeURIComponent(name)}/heartbeat`, { json: beat });
    if (response.status === 404) return false;
    await this.expect(response, `heartbeat of worker ${name}`, [200]);
    return true;
  }
}
