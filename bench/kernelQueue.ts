// bench:kernel --queue — the bench's kernel bisection as a farm user first tries it: the same job
// submitted to an in-process `culprit serve` and to `culprit serve --queue` on a private Redis
// with one `culprit worker --capabilities linux-build,qemu` that builds and boots (--split: one
// worker that builds and another that boots, without the source), in the same run. It fails
// unless both name the planted commit, and prints both wall times and what the workers did.

import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { RecordedEvent } from "../src/bisect/events.js";
import { LogView } from "../src/bisect/logview.js";
import { goDuration } from "../src/core/duration.js";
import { git } from "../src/git/git.js";
import { startRedis } from "../src/queue/redisServer.js";
import { jobEnd, startServe, startWorker, submit, writeFarmTokens, type EndedJob, type FarmProcess } from "../src/server/farmkit.js";
import type { ServerAddress } from "../src/server/client.js";

export interface KernelJob {
  /** Where the bench keeps its repository and files; the servers' root. */
  work: string;
  /** The fields submitted (repo, start, target, runs …), the same on both servers. */
  fields: Record<string, unknown>;
  planted: string;
}

interface Side {
  label: string;
  ended: EndedJob;
  wallMs: number;
}

async function bisect(label: string, server: ServerAddress, fields: Record<string, unknown>): Promise<Side> {
  console.log(`\n== ${label}: bisection log follows`);
  const view = new LogView();
  const started = performance.now();
  const id = await submit(server, fields);
  const ended = await jobEnd(server, id, (event) => view.lines(event).forEach((l) => console.log(`  ${l}`)));
  return { label, ended, wallMs: performance.now() - started };
}

/** What a side's events say: builds made and taken from a cache, runs, accelerators, who did what. */
function summary(events: readonly RecordedEvent[]): string[] {
  const builds = events.flatMap((e) => (e.type === "build-finished" ? [e] : []));
  const runs = events.flatMap((e) => (e.type === "run-finished" ? [e] : []));
  const made = builds.filter((b) => !b.cached);
  const accels = new Map<string, number>();
  for (const r of runs) accels.set(r.accel ?? "none", (accels.get(r.accel ?? "none") ?? 0) + 1);
  const by = (names: readonly (string | undefined)[]): string => {
    const count = new Map<string, number>();
    for (const n of names) count.set(n ?? "the server", (count.get(n ?? "the server") ?? 0) + 1);
    return [...count].map(([n, c]) => `${n} ${c}`).join(", ");
  };
  const buildMs = made.reduce((s, b) => s + b.durationMs, 0);
  // From the first test asked for to its build starting: on a fresh worker, the fetch of the source.
  const asked = events.find((e) => e.type === "tests-started")?.at;
  const building = events.find((e) => e.type === "build-started")?.at;
  return [
    ...(asked !== undefined && building !== undefined ? [`first test asked for → its build started: ${goDuration(Math.round(building - asked))}`] : []),
    `builds: ${made.length} made (${goDuration(Math.round(buildMs))} in all; ${by(made.map((b) => b.worker))}), ${builds.length - made.length} from a cache; runs: ${runs.length} (${by(runs.map((r) => r.worker))})`,
    `accelerator per run: ${[...accels].map(([a, c]) => `${a} ×${c}`).join(", ")}`,
  ];
}

/** Objects in every repository under `dir` (a worker's, one per server repository). */
async function objectsIn(dir: string): Promise<number> {
  let count = 0;
  for (const repo of await readdir(dir).catch(() => [] as string[])) {
    const out = (await git(join(dir, repo), ["count-objects", "-v"])).stdout;
    for (const m of out.matchAll(/^(?:count|in-pack): (\d+)$/gm)) count += Number(m[1]);
  }
  return count;
}

/** `split`: the builds on one worker (linux-build) and the runs on another (qemu), without the source. */
export async function throughQueue(job: KernelJob, split: boolean): Promise<number> {
  const dir = join(job.work, "queue-bench");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const tokens = join(dir, "tokens.yaml");
  await writeFarmTokens(tokens);
  const processes: FarmProcess[] = [];
  const redis = await startRedis({ persist: true });
  const sides: Side[] = [];
  try {
    const local = await startServe({ data: join(dir, "in-process"), root: job.work, tokens, maxJobs: 1 });
    processes.push(local);
    sides.push(await bisect("in-process culprit serve", local.server, job.fields));
    await local.stop();

    const serve = await startServe({ data: join(dir, "farm"), root: job.work, tokens, queue: redis.url, maxJobs: 1 });
    processes.push(serve);
    // Fresh worker machines: no repository, no build cache; one fetches what it builds from the server.
    const machines = split
      ? [
          { name: "kernel-build", capabilities: ["linux-build"] },
          { name: "kernel-boot", capabilities: ["qemu"] },
        ]
      : [{ name: "kernel-0", capabilities: ["linux-build", "qemu"] }];
    for (const m of machines) processes.push(await startWorker({ server: serve.server.url, queue: redis.url, cache: join(dir, m.name), name: m.name, capabilities: m.capabilities, runs: 2 }));
    const label = `culprit serve --queue + ${machines.map((m) => `culprit worker ${m.name} (${m.capabilities.join(", ")})`).join(" + ")}`;
    sides.push(await bisect(label, serve.server, job.fields));
    if (split) console.log(`\nthe booting worker's repositories hold ${await objectsIn(join(dir, "kernel-boot", "repos"))} git objects: it never had the source`);
  } finally {
    for (const p of processes.reverse()) await p.stop();
    await redis.stop();
  }
  console.log("");
  let named = true;
  for (const side of sides) {
    const found = side.ended.culprit === job.planted;
    named &&= found;
    const result = side.ended.events.flatMap((e) => (e.type === "finished" ? [e.result] : []))[0];
    console.log(`${side.label}: ${side.ended.status}, ${found ? "named the planted commit" : `DID NOT name the planted commit (culprit ${side.ended.culprit ?? "none"})`}, outcome ${side.ended.outcome ?? "none"}${result ? `, confidence ${(result.confidence * 100).toFixed(1)}%` : ""}; wall ${goDuration(Math.round(side.wallMs))}`);
    for (const line of summary(side.ended.events)) console.log(`  ${line}`);
  }
  const [inProcess, farm] = sides as [Side, Side];
  console.log(`ratio queue/in-process wall time: ${(farm.wallMs / inProcess.wallMs).toFixed(2)}`);
  return named ? 0 : 1;
}
