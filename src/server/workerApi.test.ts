// What a worker asks the server for: refusals that store nothing, uploads checked against their
// key and sent once, a job's settings and logs, and a real `git fetch` of a commit no ref names.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { LOGS_DIR, LogStore } from "../bisect/logstore.js";
import { generateHistory, type GeneratedHistory } from "../demo/history.js";
import { git } from "../git/git.js";
import { simpleHistory } from "../bisect/testkit.js";
import { ServerClient } from "../queue/serverClient.js";
import { auth, harness, jobFields, TOKENS, type Harness } from "./testkit.js";

const sha = (bytes: string): string => createHash("sha256").update(bytes).digest("hex");

type Refusal = [name: string, send: () => Promise<Response>, status: number, message: RegExp];

/** Each request answered with its status and one sentence saying why. */
async function assertRefused(cases: readonly Refusal[]): Promise<void> {
  for (const [name, send, status, message] of cases) {
    const response = await send();
    assert.equal(response.status, status, name);
    const body = (await response.json()) as { error: string };
    assert.match(body.error, message, name);
    assert.doesNotMatch(body.error, /\n/, name);
  }
}

describe("the server's endpoints for workers", () => {
  let h: Harness;
  let history: GeneratedHistory;
  let jobId: string;
  before(async () => {
    h = await harness({ maxJobs: 1 });
    history = await generateHistory(join(h.root, "project"), simpleHistory(8, { culprit: 5 }));
    const submitted = await h.app.request("/api/jobs", { method: "POST", headers: { "content-type": "application/json", ...auth("submit") }, body: JSON.stringify(jobFields(history)) });
    assert.equal(submitted.status, 201);
    jobId = ((await submitted.json()) as { id: string }).id;
  });
  after(async () => {
    await h?.cleanup();
  });

  const request = (path: string, init: RequestInit = {}): Promise<Response> => Promise.resolve(h.app.request(path, init));
  /** The app on a loopback port, for what speaks HTTP itself (git). */
  const overHttp = async (use: (port: number) => Promise<void>): Promise<void> => {
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: h.app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
    });
    try {
      await use((server.address() as AddressInfo).port);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  };
  const blobFiles = async (): Promise<string[]> => (await readdir(h.data.blobs.dir, { recursive: true }).catch(() => [] as string[])).filter((f) => /[0-9a-f]{62}$/.test(f));

  it("refuses with one sentence and stores nothing", async () => {
    const bytes = "some artifact bytes";
    const cases: Refusal[] = [
      ["a read token uploading", () => request(`/api/blobs/${sha(bytes)}`, { method: "PUT", headers: auth("read"), body: bytes }), 403, /needs the worker role; reader has read/],
      ["no token", () => request(`/api/jobs/${jobId}/execution`), 401, /bearer token/],
      ["bytes that are not the key's", () => request(`/api/blobs/${sha("other bytes")}`, { method: "PUT", headers: auth("worker"), body: bytes }), 400, /do not hash to/],
      ["a key that is no key", () => request("/api/blobs/abc", { method: "PUT", headers: auth("worker"), body: bytes }), 400, /not a content key/],
      ["a build naming a blob not stored", () => request(`/api/builds/${sha("k")}`, { method: "PUT", headers: auth("worker"), body: JSON.stringify({ blob: sha(bytes) }) }), 400, /not stored/],
      ["a build body that is not one", () => request(`/api/builds/${sha("k")}`, { method: "PUT", headers: auth("worker"), body: "[" }), 400, /must be/],
      ["a log for no job", () => request(`/api/jobs/00000000-0000-0000-0000-000000000000/logs/${sha(bytes)}`, { method: "PUT", headers: auth("worker"), body: bytes }), 404, /no job/],
      ["a push", () => request(`/git/${jobId}/info/refs?service=git-receive-pack`, { headers: auth("worker") }), 400, /only git-upload-pack/],
    ];
    await assertRefused(cases);
    assert.deepEqual(await blobFiles(), [], "no blob was stored");
    assert.equal(await h.data.blobs.named(`build-${sha("k")}`), undefined);
  });

  it("refuses a bad announcement or heartbeat with one sentence and stores nothing", async () => {
    const good = { name: "host-a:12", capabilities: ["generic"], concurrency: { builds: 1, runs: 4 }, heartbeatMs: 15_000 };
    const post = (path: string, body: unknown, role: Parameters<typeof auth>[0] = "worker"): Promise<Response> =>
      request(path, { method: "POST", headers: { "content-type": "application/json", ...auth(role) }, body: typeof body === "string" ? body : JSON.stringify(body) });
    const cases: Refusal[] = [
      ["a reader announcing", () => post("/api/workers", good, "read"), 403, /needs the worker role/],
      ["no token", () => request("/api/workers", { method: "POST", body: JSON.stringify(good) }), 401, /bearer token/],
      ["a body that is not JSON", () => post("/api/workers", "{"), 400, /announcement must be a JSON object/],
      ["an unknown capability", () => post("/api/workers", { ...good, capabilities: ["gpu"] }), 400, /announcement capabilities\.0/],
      ["a name with a slash", () => post("/api/workers", { ...good, name: "a/b" }), 400, /announcement name: a worker name is/],
      ["a field nobody asked for", () => post("/api/workers", { ...good, role: "admin" }), 400, /unknown announcement role/],
      ["a heartbeat of a worker never announced", () => post("/api/workers/ghost/heartbeat", { doing: [] }), 404, /no worker ghost: announce it first/],
      ["a heartbeat naming no job", () => post(`/api/workers/${good.name}/heartbeat`, { doing: [{ request: "r", job: "x", commit: "abcd", remedies: [], phase: "run" }] }), 400, /heartbeat doing\.0\.job: must be a job id/],
      ["a heartbeat too large", () => post(`/api/workers/${good.name}/heartbeat`, { doing: [], pad: "x".repeat(3 * 1024 * 1024) }), 413, /larger than/],
    ];
    await assertRefused(cases);
    assert.equal((await h.data.store.counts()).workers, 0, "no worker was stored");
    assert.equal((await post("/api/workers", good)).status, 201);
    const work = { request: "r1", job: jobId, commit: history.main[2] as string, remedies: [], phase: "build" };
    assert.equal((await post(`/api/workers/${good.name}/heartbeat`, { doing: [work] })).status, 200);
    assert.equal((await post(`/api/workers/${good.name}/heartbeat`, { doing: [{ ...work, phase: "nap" }] })).status, 400);
    const listed = (await (await request("/api/workers", { headers: auth("read") })).json()) as { workers: { name: string; state: string; capabilities: string[]; doing: unknown[]; goneAfterMs: number }[] };
    assert.deepEqual(
      listed.workers.map((w) => [w.name, w.state, w.capabilities, w.doing, w.goneAfterMs]),
      [[good.name, "live", ["generic"], [work], 45_000]],
      "the refused heartbeat changed nothing",
    );
  });

  it("takes an upload once, by its key, and names a build's artifacts by cache key", async () => {
    const bytes = "the artifacts of one build";
    const key = sha(bytes);
    const cacheKey = sha("tree\nconfig\ntoolchain");
    assert.equal((await request(`/api/blobs/${key}`, { method: "HEAD", headers: auth("worker") })).status, 404);
    assert.equal((await request(`/api/builds/${cacheKey}`, { headers: auth("worker") })).status, 404);
    assert.equal((await request(`/api/blobs/${key}`, { method: "PUT", headers: auth("worker"), body: bytes })).status, 201);
    assert.equal((await request(`/api/blobs/${key}`, { method: "HEAD", headers: auth("worker") })).status, 200);
    assert.equal(await (await request(`/api/blobs/${key}`, { headers: auth("worker") })).text(), bytes);
    assert.equal((await request(`/api/builds/${cacheKey}`, { method: "PUT", headers: auth("worker"), body: JSON.stringify({ blob: key }) })).status, 201);
    // A second worker's build of the same inputs does not replace the first's.
    const later = sha("another tar of the same build");
    await request(`/api/blobs/${later}`, { method: "PUT", headers: auth("worker"), body: "another tar of the same build" });
    await request(`/api/builds/${cacheKey}`, { method: "PUT", headers: auth("worker"), body: JSON.stringify({ blob: later }) });
    assert.deepEqual(await (await request(`/api/builds/${cacheKey}`, { headers: auth("worker") })).json(), { cacheKey, blob: key });
  });

  it("gives a job's settings and puts a worker's logs in the job's log store", async () => {
    const settings = (await (await request(`/api/jobs/${jobId}/execution`, { headers: auth("worker") })).json()) as { job: { build: { command: string[] }; repo: string } };
    assert.deepEqual(settings.job.build.command, ["make", "-s", "demo"]);
    assert.equal(settings.job.repo, history.dir);
    const log = "console output of a run on another machine\n";
    const key = sha(log);
    const path = `/api/jobs/${jobId}/logs/${key}`;
    assert.equal((await request(path, { method: "HEAD", headers: auth("worker") })).status, 404);
    assert.equal((await request(path, { method: "PUT", headers: auth("worker"), body: log })).status, 201);
    assert.equal((await request(path, { method: "HEAD", headers: auth("worker") })).status, 200);
    const row = await h.data.store.job(jobId);
    assert.equal(await readFile(new LogStore(join(row?.workDir as string, LOGS_DIR)).path(key), "utf8"), log);
  });

  it("serves the job's repository to git fetch, a commit no ref names included", async () => {
    await overHttp(async (port) => {
      const clone = join(h.dir, "worker-clone");
      await mkdir(clone);
      await git(clone, ["init", "--quiet"]);
      const commit = history.main[3] as string;
      const token = TOKENS.find((t) => t.role === "worker")?.token as string;
      await git(clone, ["-c", `http.extraHeader=Authorization: Bearer ${token}`, "fetch", "--quiet", `http://127.0.0.1:${port}/git/${jobId}`, commit]);
      assert.equal((await git(clone, ["rev-parse", `${commit}^{tree}`])).stdout.trim(), (await git(history.dir, ["rev-parse", `${commit}^{tree}`])).stdout.trim());
      const refused = await git(clone, ["fetch", "--quiet", `http://127.0.0.1:${port}/git/${jobId}`, commit], { okCodes: [128] });
      assert.equal(refused.code, 128, "no token, no fetch");
    });
  });

  it("a worker's fetch brings the tags the commit reaches, as the server has them, and no other", async () => {
    await overHttp(async (port) => {
      const mirror = join(h.dir, "worker-mirror");
      await mkdir(mirror);
      await git(mirror, ["init", "--quiet"]);
      const [reached, annotated, commit, later] = [1, 2, 3, 5].map((i) => history.main[i] as string) as [string, string, string, string];
      await git(history.dir, ["tag", "v0.1", reached]);
      await git(history.dir, ["-c", "user.name=t", "-c", "user.email=t@t", "tag", "-a", "-m", "v0.2", "v0.2", annotated]);
      await git(history.dir, ["tag", "v0.9", later]);
      const token = TOKENS.find((t) => t.role === "worker")?.token as string;
      await new ServerClient(`http://127.0.0.1:${port}`, token).fetchCommit(jobId, mirror, commit);
      const tags = async (dir: string, ...args: string[]): Promise<string[]> => (await git(dir, ["tag", ...args])).stdout.split("\n").filter(Boolean).sort();
      // The kernel builder picks a commit's compiler from these: the worker must see what the server sees.
      assert.deepEqual(await tags(mirror, "--merged", commit), await tags(history.dir, "--merged", commit));
      assert.ok((await tags(mirror)).includes("v0.2"));
      assert.ok(!(await tags(mirror)).includes("v0.9"), "a tag the commit does not reach is not fetched");
      assert.equal((await git(mirror, ["cat-file", "-e", `${later}^{commit}`], { okCodes: [128] })).code, 128, "nor its history");
    });
  });
});
