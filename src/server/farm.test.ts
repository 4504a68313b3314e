// culprit serve --queue with real worker processes on a real Redis: the same culprit as
// in-process; a worker killed with SIGKILL mid-run leaves its request to another and no run is
// recorded twice; Redis killed and restarted mid-job (same port, its append-only file) loses nothing.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BisectEvent } from "../bisect/events.js";
import { openRequests } from "../bisect/events.js";
import { bisectInProcess, scratchHistory, simpleHistory, type Scratch } from "../bisect/testkit.js";
import { generateHistory, type GeneratedHistory } from "../demo/history.js";
import { git } from "../git/git.js";
import { startRedis, type RedisServer } from "../queue/redisServer.js";
import { call } from "./client.js";
import { doubledAndLost, FARM_TOKENS, jobEnd, startServe, startWorker, submit, writeFarmTokens, type FarmProcess } from "./farmkit.js";
import { jobFields } from "./testkit.js";
import type { WorkerView } from "./workers.js";

const MAIN = fileURLToPath(new URL("../cli/main.js", import.meta.url));

describe("culprit serve --queue with culprit worker processes", () => {
  let dir: string;
  let redis: RedisServer;
  let serve: Awaited<ReturnType<typeof startServe>>;
  const workers: FarmProcess[] = [];
  let history: GeneratedHistory;
  let reference: Scratch;
  let expected: string | undefined;
  let firstJob: string | undefined;

  const worker = async (name: string): Promise<FarmProcess> => {
    const w = await startWorker({ server: serve.server.url, queue: redis.url, cache: join(dir, name), name, lockDuration: "2s" });
    workers.push(w);
    return w;
  };

  const workersListed = async (): Promise<WorkerView[]> => ((await call(serve.server, "GET", "/api/workers")).json as { workers: WorkerView[] }).workers;

  const serveArgs = (port?: number): Parameters<typeof startServe>[0] => ({ data: join(dir, "data"), root: join(dir, "repos"), tokens: join(dir, "tokens.yaml"), queue: redis.url, maxJobs: 2, ...(port ? { port } : {}) });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "culprit-farm-"));
    const root = join(dir, "repos");
    await mkdir(root);
    const spec = simpleHistory(14, { culprit: 9, commentOnlyEvery: 0 });
    history = await generateHistory(join(root, "project"), spec);
    // The same history bisected in-process: what the farm must answer.
    reference = await scratchHistory(spec);
    expected = (await bisectInProcess(reference, { good: reference.history.main[0], runs: 2, startRuns: 2 })).result.culprit?.hash;
    redis = await startRedis({ persist: true });
    await writeFarmTokens(join(dir, "tokens.yaml"));
    serve = await startServe(serveArgs());
    await worker("one");
    await worker("two");
  });
  after(async () => {
    for (const w of workers) await w.kill();
    await serve?.stop();
    await redis?.stop();
    await reference?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("ends with the culprit the in-process bisection names, every build and run done by a worker", { timeout: 60_000 }, async () => {
    assert.equal(typeof expected, "string");
    const id = await submit(serve.server, jobFields(history));
    firstJob = id;
    const job = await jobEnd(serve.server, id);
    assert.equal(job.status, "finished", serve.output());
    // Hashes differ between the two generated repositories only if generation is not deterministic: compare positions.
    assert.equal(history.main.indexOf(job.culprit as string), reference.history.main.indexOf(expected as string));
    assert.deepEqual(doubledAndLost(job.events), { doubled: [], lost: [] });
    assert.ok(job.events.some((e) => e.type === "build-finished" && !e.cached), "a worker built");
    const done = job.events.flatMap((e) => (e.type === "build-started" || e.type === "build-finished" || e.type === "run-finished" ? [e.worker] : []));
    assert.ok(done.length > 0);
    assert.ok(
      done.every((w) => w === "one" || w === "two"),
      `each build and run names the worker that did it: ${[...new Set(done)].join(", ")}`,
    );
    const listed = await workersListed();
    assert.deepEqual(
      listed.map((w) => [w.name, w.state, w.capabilities, w.concurrency]),
      [
        ["one", "live", ["generic"], { builds: 1, runs: 4 }],
        ["two", "live", ["generic"], { builds: 1, runs: 4 }],
      ],
    );
    // A heartbeat every second (half the 2 s lock): each was heard from just now.
    for (const w of listed) assert.ok(Date.now() - w.lastSeen < 10_000, `${w.name} last seen ${Date.now() - w.lastSeen} ms ago`);
  });

  it("a worker the server will not take (more builds at once than it keeps) stops at start with one line", async () => {
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const args = ["worker", "--server", serve.server.url, "--queue", redis.url, "--token", FARM_TOKENS.worker, "--cache", join(dir, "refused"), "--builds", "5000"];
      execFile(process.execPath, [MAIN, ...args], (err, _stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stderr }));
    });
    assert.equal(code, 2, stderr);
    assert.match(stderr, /^culprit: culprit serve did not take this worker: .*announcement concurrency\.builds/);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
  });

  it("a worker with another cache and no checkout runs the tests of commits other workers built", { timeout: 60_000 }, async () => {
    for (const w of workers.splice(0)) await w.stop();
    await worker("fresh");
    const retried = (await call(serve.server, "POST", `/api/jobs/${firstJob as string}/retry`)).json as { id: string };
    const job = await jobEnd(serve.server, retried.id);
    assert.equal(job.status, "finished", serve.output());
    assert.equal(job.culprit, history.culprit);
    const builds = job.events.filter((e) => e.type === "build-finished");
    assert.ok(builds.length > 0);
    assert.ok(builds.every((e) => e.type === "build-finished" && e.cached), "every build was found, none made again");
    // Its repository was made for the job and never given a single object: nothing was fetched.
    const [mirror] = await readdir(join(dir, "fresh", "repos"));
    const objects = (await git(join(dir, "fresh", "repos", mirror as string), ["count-objects", "-v"])).stdout;
    assert.match(objects, /^count: 0$/m);
    assert.match(objects, /^in-pack: 0$/m);
    await worker("two");
  });

  it("a worker killed with SIGKILL mid-run: its request is taken again and no run is recorded twice", { timeout: 60_000 }, async () => {
    const id = await submit(serve.server, jobFields(history, { runs: 3, startRuns: 3, seed: 2 }));
    let killed: Promise<void> | undefined;
    const job = await jobEnd(serve.server, id, (event) => {
      // Whichever worker holds the request: both die at its first run, and fresh ones take over.
      if (event.type === "run-finished" && !killed) {
        const dying = workers.splice(0);
        killed = (async () => {
          for (const w of dying) await w.kill();
          await worker("three");
          await worker("four");
        })();
      }
    });
    await killed;
    assert.ok(killed, "the workers were killed while the job ran");
    assert.equal(job.status, "finished", serve.output());
    assert.equal(job.culprit, history.culprit);
    assert.deepEqual(doubledAndLost(job.events), { doubled: [], lost: [] });
    // Killed workers send no last heartbeat: 3 missed ones (3 s) and they are gone; those stopped with SIGTERM said so.
    let states: string[][] = [];
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 500))) {
      states = (await workersListed()).map((w) => [w.name, w.state]);
      if (states.filter(([, state]) => state === "gone").length === 2) break;
    }
    assert.deepEqual(states, [
      ["four", "live"],
      ["fresh", "gone"],
      ["one", "stopped"],
      ["three", "live"],
      ["two", "gone"],
    ]);
  });

  it("Redis killed and restarted mid-job, on its port with its append-only file: the job finishes", { timeout: 60_000 }, async () => {
    const id = await submit(serve.server, jobFields(history, { seed: 3 }));
    let restarted: Promise<void> | undefined;
    const job = await jobEnd(serve.server, id, (event) => {
      if (event.type === "run-finished" && !restarted) restarted = redis.restart();
    });
    await restarted;
    assert.ok(restarted, "Redis was restarted while the job ran");
    assert.equal(job.status, "finished", serve.output());
    assert.equal(job.culprit, history.culprit);
    assert.deepEqual(doubledAndLost(job.events), { doubled: [], lost: [] });
  });

  it("a server stopped mid-job and started again finds its requests in flight by id and finishes them", { timeout: 60_000 }, async () => {
    const id = await submit(serve.server, jobFields(history, { seed: 4, runs: 3, startRuns: 3 }));
    const seen: BisectEvent[] = [];
    let stopped = false;
    // The stream ends when the server stops; the job goes on at its next start.
    await jobEnd(serve.server, id, (event) => {
      seen.push(event);
      if (event.type === "run-finished" && !stopped) {
        stopped = true;
        void serve.stop();
      }
    }).catch(() => undefined);
    await serve.stop();
    const open = openRequests(seen).map((r) => r.request);
    assert.ok(open.length > 0, "requests were in flight when the server stopped");
    serve = await startServe(serveArgs(Number(new URL(serve.server.url).port)));
    const job = await jobEnd(serve.server, id);
    assert.equal(job.status, "finished", serve.output());
    assert.equal(job.culprit, history.culprit);
    assert.deepEqual(doubledAndLost(job.events), { doubled: [], lost: [] });
    const done = new Set(job.events.flatMap((e) => (e.type === "tests-finished" || (e.type === "build-finished" && e.build.kind === "failed") ? [e.request] : [])));
    // An answer that came first stops what is still in flight: such a request has no end, but is
    // never asked for again under another id either.
    const stoppedByAnswer = job.events.some((e) => e.type === "note" && e.note.kind === "info" && e.note.text.startsWith("the answer needs none of the"));
    for (const r of openRequests(seen)) {
      const again = job.events.filter((e) => e.type === "tests-started" && e.commit === r.commit && e.request !== r.request && e.at > (seen.at(-1)?.at ?? 0));
      assert.ok(done.has(r.request) || (stoppedByAnswer && again.length === 0), `request ${r.request}, in flight at the stop, finished under its own id or was stopped by the answer`);
    }
  });
});

describe("culprit worker and serve --queue refuse bad input with one line", () => {
  const cases: [string, string[], RegExp][] = [
    ["a worker without a queue", ["worker", "--token", "0123456789abcdef0123"], /needs --queue redis:\/\/HOST:PORT/],
    ["an unknown capability", ["worker", "--queue", "redis://127.0.0.1:1", "--capabilities", "generic,gpu", "--token", "0123456789abcdef0123"], /unknown capability 'gpu'/],
    ["a queue that is not Redis", ["worker", "--queue", "http://127.0.0.1:1", "--token", "0123456789abcdef0123"], /not a Redis URL/],
    ["a name that is no name", ["worker", "--queue", "redis://127.0.0.1:1", "--name", "rack 1", "--token", "0123456789abcdef0123"], /--name must be 1-100 letters/],
    ["no token", ["worker", "--queue", "redis://127.0.0.1:1", "--server", "http://127.0.0.1:1"], /needs a token with the worker role/],
    ["a server nobody runs", ["worker", "--queue", "redis://127.0.0.1:1", "--server", "http://127.0.0.1:1", "--token", "0123456789abcdef0123"], /cannot reach culprit serve/],
    ["a Redis nobody runs", ["serve", "--queue", "redis://127.0.0.1:1", "--port", "0"], /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/],
  ];
  for (const [name, argv, message] of cases) {
    it(name, async () => {
      const dir = await mkdtemp(join(tmpdir(), "culprit-farm-input-"));
      try {
        const data = join(dir, "data");
        const args = argv[0] === "serve" ? [...argv, "--data", data] : [...argv, "--cache", join(dir, "cache")];
        const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const { CULPRIT_TOKEN: _token, CULPRIT_SERVER: _server, ...env } = process.env;
          execFile(process.execPath, [MAIN, ...args], { env }, (err, _stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stderr }));
        });
        assert.equal(code, 2, stderr);
        assert.match(stderr, message);
        assert.equal(stderr.trim().split("\n").length, 1, stderr);
        assert.deepEqual(await readdir(dir), [], "nothing was left behind");
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
