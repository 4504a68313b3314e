// npm run bench:soak [jobs] [seed] — culprit serve --queue with 3 culprit worker processes on a
// private Redis, 30 jobs (default) on generated histories, while every ~20 s one worker is
// killed with SIGKILL and started again and Redis is killed and restarted once; next to the same
// jobs on an in-process culprit serve with the same total concurrency (3 tests at once), in the
// same run. Fails unless every job ends with the in-process result and no event is lost or doubled.

import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleHistory } from "../src/bisect/testkit.js";
import { generateHistory, type GeneratedHistory, type HistorySpec } from "../src/demo/history.js";
import { startRedis } from "../src/queue/redisServer.js";
import { doubledAndLost, jobEnd, sequenceGaps, startServe, startWorker, submit, writeFarmTokens, type EndedJob, type FarmProcess } from "../src/server/farmkit.js";
import type { ServerAddress } from "../src/server/client.js";
import { jobFields } from "../src/server/testkit.js";
import { generator } from "../src/sim/random.js";

const JOBS = Number(process.argv[2] ?? 30);
const SEED = Number(process.argv[3] ?? 1);
const WORKERS = 3;
const KILL_EVERY_MS = 20_000;
/** The whole bench stops with a failure past this: a soak that hangs is a finding, not a wait. */
const DEADLINE_MS = 10 * 60_000;

/** Histories with what makes bisection hard, each small enough for many jobs: flaky, broken builds, comment-only commits. */
const SPECS: HistorySpec[] = [
  simpleHistory(24, { culprit: 15 }),
  simpleHistory(24, { culprit: 7, targetPercent: 60 }),
  simpleHistory(24, { culprit: 18, buildBroken: { from: 10, to: 13 } }),
  simpleHistory(20, { culprit: 12, commentOnlyEvery: 2 }),
  simpleHistory(28, { culprit: 21, targetPercent: 70, buildBroken: { from: 5, to: 7 } }),
];

interface Run {
  jobs: EndedJob[];
  wallMs: number;
}

async function runAll(server: ServerAddress, fields: Record<string, unknown>[]): Promise<Run> {
  const started = performance.now();
  const ids = [];
  for (const f of fields) ids.push(await submit(server, f));
  const jobs = await Promise.all(ids.map((id) => jobEnd(server, id)));
  return { jobs, wallMs: performance.now() - started };
}

function withDeadline<T>(what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not end within ${DEADLINE_MS / 60_000} minutes`)), DEADLINE_MS)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "culprit-soak-"));
  const root = join(dir, "repos");
  await mkdir(root);
  const tokens = join(dir, "tokens.yaml");
  await writeFarmTokens(tokens);
  const histories: GeneratedHistory[] = [];
  for (const [i, spec] of SPECS.entries()) histories.push(await generateHistory(join(root, `h${i}`), spec));
  const fields = Array.from({ length: JOBS }, (_, i) => jobFields(histories[i % histories.length] as GeneratedHistory, { seed: SEED + Math.floor(i / histories.length), parallelism: { commits: 1, runs: 2 } }));
  const processes: FarmProcess[] = [];
  const redis = await startRedis({ persist: true });
  try {
    // In-process: one server, 3 jobs at once, each one test at a time: 3 tests at once, as 3 workers of one build each.
    const local = await startServe({ data: join(dir, "local"), root, tokens, maxJobs: WORKERS });
    processes.push(local);
    const inProcess = await withDeadline("the in-process run", runAll(local.server, fields));
    await local.stop();

    const serve = await startServe({ data: join(dir, "farm"), root, tokens, queue: redis.url, maxJobs: WORKERS });
    processes.push(serve);
    const workers: FarmProcess[] = [];
    const startOne = async (n: number): Promise<FarmProcess> => {
      const w = await startWorker({ server: serve.server.url, queue: redis.url, cache: join(dir, `worker-${n}`), lockDuration: "5s" });
      processes.push(w);
      return w;
    };
    for (let n = 0; n < WORKERS; n++) workers.push(await startOne(n));
    const random = generator(SEED);
    let kills = 0;
    let redisRestarts = 0;
    let stopChaos = false;
    // Every ~20 s one worker dies and a new one takes its cache dir; once, Redis dies and comes back.
    const chaos = (async () => {
      for (let round = 0; !stopChaos; round++) {
        await new Promise((resolve) => setTimeout(resolve, KILL_EVERY_MS * (0.75 + random() * 0.5)));
        if (stopChaos) break;
        if (round === 1) {
          await redis.restart();
          redisRestarts++;
          continue;
        }
        const n = Math.floor(random() * WORKERS);
        await (workers[n] as FarmProcess).kill();
        kills++;
        workers[n] = await startOne(n);
      }
    })();
    const farm = await withDeadline("the farm run", runAll(serve.server, fields)).finally(() => (stopChaos = true));
    await chaos;

    const mismatched = farm.jobs.flatMap((job, i) => {
      const want = inProcess.jobs[i] as EndedJob;
      return job.status !== want.status || job.outcome !== want.outcome || job.culprit !== want.culprit ? [`job ${i}: ${job.status} ${job.outcome} ${job.culprit} vs ${want.status} ${want.outcome} ${want.culprit}`] : [];
    });
    const eventProblems = farm.jobs.flatMap((job, i) => {
      const { doubled, lost } = doubledAndLost(job.events);
      return [...sequenceGaps(job.events), ...doubled.map((d) => `run ${d} recorded twice`), ...lost.map((l) => `run ${l} lost`)].map((p) => `job ${i}: ${p}`);
    });
    const perHour = (run: Run): number => (run.jobs.length / run.wallMs) * 3_600_000;
    const finished = (run: Run): number => run.jobs.filter((j) => j.status === "finished").length;
    const builds = (run: Run): number => run.jobs.reduce((n, j) => n + j.events.filter((e) => e.type === "build-finished" && !e.cached).length, 0);
    const runs = (run: Run): number => run.jobs.reduce((n, j) => n + j.events.filter((e) => e.type === "run-finished").length, 0);
    console.log(`bench:soak — ${JOBS} jobs on ${SPECS.length} generated histories (seed ${SEED}), ${WORKERS} tests at once either way`);
    console.log(`in-process serve:         ${finished(inProcess)}/${JOBS} finished in ${(inProcess.wallMs / 1000).toFixed(1)}s = ${perHour(inProcess).toFixed(0)} jobs/hour (${builds(inProcess)} builds, ${runs(inProcess)} runs)`);
    console.log(`serve --queue + ${WORKERS} workers: ${finished(farm)}/${JOBS} finished in ${(farm.wallMs / 1000).toFixed(1)}s = ${perHour(farm).toFixed(0)} jobs/hour (${builds(farm)} builds, ${runs(farm)} runs), ${kills} workers SIGKILLed and restarted, Redis restarted ${redisRestarts}×`);
    console.log(`ratio queue/in-process jobs per hour: ${(perHour(farm) / perHour(inProcess)).toFixed(2)}`);
    const checks: [string, boolean, string][] = [
      ["every job finished", finished(farm) === JOBS && finished(inProcess) === JOBS, ""],
      ["same results as in-process", mismatched.length === 0, mismatched.slice(0, 5).join("; ")],
      ["no event lost or doubled", eventProblems.length === 0, eventProblems.slice(0, 5).join("; ")],
      ["workers were killed, Redis restarted", kills >= 1 && redisRestarts === 1, `${kills} kills, ${redisRestarts} Redis restarts`],
    ];
    for (const [name, ok, detail] of checks) console.log(`${ok ? "ok  " : "FAIL"} ${name}${ok ? "" : `: ${detail}`}`);
    if (checks.some(([, ok]) => !ok)) process.exitCode = 1;
  } finally {
    for (const p of processes) await p.kill();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
