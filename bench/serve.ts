// npm run bench:serve [sqlite|postgres] — how fast culprit serve answers with 200 jobs stored and
// 50 clients following live event streams, next to the same views read from the CLI's work dirs.
//
// Four generated histories are bisected once by the CLI; their work dirs are copied into 200
// (50 more, cut before their end, stand for jobs still running) and imported into the store, as
// `culprit import` does. The API and pages are served by culprit serve's app on a loopback socket;
// the baseline answers the list and one job from the work dirs alone (read every events.jsonl,
// summarize, answer the same JSON), through the same HTTP stack on another socket. Requests go
// one at a time, the series interleaved so both sides see the same load; each series stops at
// ROUNDS requests or SERIES_MS, whichever comes first.

import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { randomUUID } from "node:crypto";
import { prepareJob } from "../src/bisect/job.js";
import { runBisection } from "../src/bisect/orchestrator.js";
import { simpleHistory } from "../src/bisect/testkit.js";
import { generateHistory } from "../src/demo/history.js";
import { backends } from "../src/store/backends.js";
import { openDataDir } from "../src/store/data.js";
import { importWorkDir, readWorkDir, readWorkDirEvents, readWorkDirJob } from "../src/store/import.js";
import { summarize } from "../src/store/summary.js";
import { createApp } from "../src/server/app.js";
import { Jobs } from "../src/server/jobs.js";
import { TOKENS, auth } from "../src/server/testkit.js";

const BACKEND = (process.argv[2] ?? "sqlite") as "sqlite" | "postgres";
const JOBS = 200;
const LIVE = 50;
const ROUNDS = 200;
const SERIES_MS = 60_000;

type Listening = { url: string; close(): Promise<void> };

function listen(fetch: (request: Request) => Response | Promise<Response>): Promise<Listening> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: "127.0.0.1" }, (info) =>
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            if ("closeAllConnections" in server) server.closeAllConnections();
          }),
      }),
    );
  });
}

/** The baseline: the list and one job, answered from the CLI's work dirs on every request. */
function fromWorkDirs(root: string): Hono {
  const app = new Hono();
  const describe = (dir: string, id: string): Record<string, unknown> => {
    const { job } = readWorkDirJob(dir);
    const summary = summarize(readWorkDirEvents(dir).events);
    const result = summary.result;
    return { id, status: summary.ending, kind: summary.kind ?? job.kind, repo: job.repo, strategy: summary.strategy ?? job.strategy, crashTitle: summary.crashTitle ?? null, outcome: result?.outcome ?? null, culprit: result?.culprit?.hash ?? null, confidence: result?.confidence ?? null };
  };
  app.get("/jobs", async (c) => c.json({ jobs: (await readdir(root)).map((id) => describe(join(root, id), id)) }));
  app.get("/jobs/:id", (c) => {
    const dir = join(root, c.req.param("id"));
    const events = readWorkDirEvents(dir).events;
    return c.json({ ...describe(dir, c.req.param("id")), job: readWorkDirJob(dir).fields, result: summarize(events).result ?? null });
  });
  return app;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

interface Series {
  name: string;
  url: string;
  headers: Record<string, string>;
  ms: number[];
  bytes: number;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "culprit-bench-serve-"));
  const backend = await backends[BACKEND]();
  const closers: (() => Promise<void>)[] = [];
  try {
    // Four real bisections, the CLI's way.
    const cliDirs: string[] = [];
    for (let i = 0; i < 4; i++) {
      const history = await generateHistory(join(dir, `repo-${i}`), simpleHistory(30 + 10 * i, { culprit: 12 + 5 * i }));
      const workDir = join(dir, `cli-${i}`);
      const job = { repo: history.dir, good: history.main[0], build: { command: ["make", "-s", "demo"], artifacts: ["demo"], timeout: "2m" }, reproducer: { command: ["demo"], timeout: "20s" }, runs: 4, startRuns: 8, workDir };
      const prepared = await prepareJob(job, dir, workDir);
      await runBisection(prepared.spec, prepared.deps, { signal: new AbortController().signal });
      cliDirs.push(workDir);
    }
    // 200 finished jobs and 50 still running, each a work dir of its own (its id in its name).
    const workDirs = join(dir, "workdirs");
    const data = await openDataDir(join(dir, "data"), BACKEND === "postgres" ? await backend.fresh() : undefined);
    closers.push(() => data.store.close());
    const live: string[] = [];
    for (let n = 0; n < JOBS + LIVE; n++) {
      const id = randomUUID();
      const copy = join(workDirs, id);
      await cp(cliDirs[n % cliDirs.length] as string, copy, { recursive: true });
      const content = readWorkDir(copy);
      const running = n >= JOBS;
      // A running job: its events up to its last test, as if it were still bisecting.
      const events = running ? content.events.slice(0, Math.floor(content.events.length * 0.7)) : content.events;
      if (running) live.push(id);
      await importWorkDir(data.store, data.blobs, { ...content, dir: copy, jobId: id, events });
      if (running) await data.store.updateJob(id, { status: "running" });
    }
    for (const id of live) await rm(join(workDirs, id), { recursive: true, force: true });
    const finished = (await readdir(workDirs)).slice(0, 20);

    // Their copies were only for the import: the baseline lists the finished ones.
    // The server's app without its job runner: nothing here runs, it only answers.
    const jobs = new Jobs({ data, roots: [], maxJobs: 1 });
    const server = await listen(createApp({ store: data.store, blobs: data.blobs, jobs, tokens: TOKENS }).fetch);
    closers.push(() => server.close());
    const baseline = await listen(fromWorkDirs(workDirs).fetch);
    closers.push(() => baseline.close());

    // 50 clients following running jobs' event streams for the whole measurement.
    const following = new AbortController();
    const streams = live.map(async (id) => {
      const response = await fetch(`${server.url}/api/jobs/${id}/events`, { headers: auth("read"), signal: following.signal });
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      let replayed = false;
      let text = "";
      try {
        for (;;) {
          const chunk = await reader.read();
          if (chunk.done) return replayed;
          text += new TextDecoder().decode(chunk.value);
          replayed ||= text.includes("\n\n");
        }
      } catch {
        return replayed;
      }
    });

    const read = auth("read");
    const series: Series[] = [];
    const add = (name: string, url: string, headers: Record<string, string> = {}): Series => {
      const s = { name, url, headers, ms: [], bytes: 0 };
      series.push(s);
      return s;
    };
    const pick = (n: number): string => finished[n % finished.length] as string;
    const plan: [Series, (n: number) => string][] = [
      [add("job list, API JSON (GET /api/jobs?limit=200)", `${server.url}/api/jobs?limit=200`, read), () => ""],
      [add("job list, page (GET /jobs)", `${server.url}/jobs`, read), () => ""],
      [add("job list from the CLI's work dirs (baseline)", `${baseline.url}/jobs`), () => ""],
      [add("one job, API JSON (GET /api/jobs/ID)", `${server.url}/api/jobs/`, read), pick],
      [add("one job, page (GET /jobs/ID)", `${server.url}/jobs/`, read), pick],
      [add("one job from its CLI work dir (baseline)", `${baseline.url}/jobs/`), pick],
    ];
    // A few requests each first: connections and code paths warm on both sides.
    for (const [s, path] of plan) for (let n = 0; n < 5; n++) await (await fetch(s.url + path(n), { headers: s.headers })).arrayBuffer();
    const started = performance.now();
    for (let n = 0; n < ROUNDS && performance.now() - started < SERIES_MS * plan.length; n++) {
      for (const [s, path] of plan) {
        const t = performance.now();
        const response = await fetch(s.url + path(n), { headers: s.headers });
        const body = await response.arrayBuffer();
        s.ms.push(performance.now() - t);
        if (response.status !== 200) throw new Error(`${s.name}: HTTP ${response.status}`);
        s.bytes = body.byteLength;
      }
    }
    following.abort();
    const replayedStreams = (await Promise.all(streams)).filter(Boolean).length;

    const stats = new Map(series.map((s) => {
      const sorted = [...s.ms].sort((a, b) => a - b);
      return [s.name, { p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length, bytes: s.bytes }];
    }));
    const jobEvents = readWorkDirEvents(join(workDirs, pick(0))).events.length;
    console.log(`bench:serve (${BACKEND}) — ${JOBS} finished jobs (${jobEvents}–ish events each) and ${LIVE} running ones stored; ${replayedStreams}/${LIVE} SSE clients following the running ones`);
    console.log(`requests one at a time on loopback, the six series interleaved, up to ${ROUNDS} each\n`);
    console.log(`${"view".padEnd(48)} ${"n".padStart(4)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"bytes".padStart(8)}  p50 vs baseline`);
    const ratio = (name: string, base: string): string => `${((stats.get(name)?.p50 ?? 0) / (stats.get(base)?.p50 ?? 1)).toFixed(2)}×`;
    const baselineOf: Record<string, string> = {
      [plan[0]?.[0].name as string]: plan[2]?.[0].name as string,
      [plan[1]?.[0].name as string]: plan[2]?.[0].name as string,
      [plan[3]?.[0].name as string]: plan[5]?.[0].name as string,
      [plan[4]?.[0].name as string]: plan[5]?.[0].name as string,
    };
    for (const s of series) {
      const st = stats.get(s.name);
      if (!st) continue;
      const base = baselineOf[s.name];
      console.log(`${s.name.padEnd(48)} ${String(st.n).padStart(4)} ${st.p50.toFixed(2).padStart(8)} ${st.p99.toFixed(2).padStart(8)} ${String(st.bytes).padStart(8)}  ${base ? ratio(s.name, base) : ""}`);
    }
    if (replayedStreams < LIVE) process.exitCode = 1;
  } finally {
    for (const close of closers.reverse()) await close();
    await backend.teardown();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
