// A bisection farm of real processes for the fault tests and bench:soak: `culprit serve --queue`
// and `culprit worker`s, each its own Node process started the way a user starts it, on a
// private Redis. Every process is ended by whoever started it; kill() is SIGKILL, as a crash.

import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { BisectEvent, RecordedEvent } from "../bisect/events.js";
import { observationKey } from "../core/outcome.js";
import { call, follow, type ServerAddress } from "./client.js";

const MAIN = fileURLToPath(new URL("../cli/main.js", import.meta.url));

export const FARM_TOKENS = {
  worker: "farm-worker-token-0123456789",
  submit: "farm-submit-token-0123456789",
};

export async function writeFarmTokens(file: string): Promise<void> {
  await writeFile(file, `- { name: farm, token: "${FARM_TOKENS.worker}", role: worker }\n- { name: ci, token: "${FARM_TOKENS.submit}", role: submit }\n`);
}

export interface FarmProcess {
  child: ChildProcess;
  /** What it printed, both streams. */
  output(): string;
  /** SIGTERM, and its exit awaited. */
  stop(): Promise<void>;
  /** SIGKILL, and its exit awaited. */
  kill(): Promise<void>;
}

function started(args: readonly string[], ready: RegExp): Promise<{ process: FarmProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let said = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  const process_: FarmProcess = { child, output: () => said, stop: () => end("SIGTERM"), kill: () => end("SIGKILL") };
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      said += chunk.toString();
      const match = ready.exec(said);
      if (match) resolve({ process: process_, match });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void exited.then(() => reject(new Error(`culprit ${args[0]} exited before it was ready: ${said.slice(-2000)}`)));
  });
}

export interface ServeArgs {
  data: string;
  root: string;
  tokens: string;
  /** Without it the server runs jobs in-process. */
  queue?: string;
  maxJobs: number;
  /** Default any free one; a restarted server takes its old port, where its workers look for it. */
  port?: number;
}

export async function startServe(args: ServeArgs): Promise<FarmProcess & { server: ServerAddress }> {
  const argv = ["serve", "--data", args.data, "--root", args.root, "--tokens", args.tokens, "--port", String(args.port ?? 0), "--max-jobs", String(args.maxJobs), ...(args.queue ? ["--queue", args.queue] : [])];
  const { process: p, match } = await started(argv, /listening on (http:\/\/\S+)/);
  return { ...p, server: { url: match[1] as string, token: FARM_TOKENS.submit } };
}

export interface WorkerArgs {
  server: string;
  /** --name; the default is HOST:PID. */
  name?: string;
  queue: string;
  cache: string;
  builds?: number;
  /** --runs; the default is the worker's. */
  runs?: number;
  /** --capabilities; the default is the worker's (generic). */
  capabilities?: readonly string[];
  /** Short in tests, so a killed worker's request moves on within seconds. */
  lockDuration?: string;
}

export async function startWorker(args: WorkerArgs): Promise<FarmProcess> {
  const argv = ["worker", "--server", args.server, "--queue", args.queue, "--token", FARM_TOKENS.worker, "--cache", args.cache, "--builds", String(args.builds ?? 1), ...(args.runs ? ["--runs", String(args.runs)] : []), ...(args.capabilities ? ["--capabilities", args.capabilities.join(",")] : []), ...(args.name ? ["--name", args.name] : []), ...(args.lockDuration ? ["--lock-duration", args.lockDuration] : [])];
  return (await started(argv, /culprit worker: taking/)).process;
}

export async function submit(server: ServerAddress, fields: Record<string, unknown>): Promise<string> {
  return ((await call(server, "POST", "/api/jobs", fields)).json as { id: string }).id;
}

export interface EndedJob {
  status: string;
  culprit: string | null;
  outcome: string | null;
  events: RecordedEvent[];
}

/** Follows a job's events until it stops; `onEvent` sees each as it is stored. */
export async function jobEnd(server: ServerAddress, id: string, onEvent: (event: RecordedEvent) => void = () => undefined): Promise<EndedJob> {
  const events: RecordedEvent[] = [];
  await follow(server, `/api/jobs/${id}/events`, (message) => {
    if (message.event !== "event") return;
    const event = (JSON.parse(message.data) as { event: RecordedEvent }).event;
    events.push(event);
    onEvent(event);
  });
  const job = (await call(server, "GET", `/api/jobs/${id}`)).json as { status: string; culprit: string | null; outcome: string | null };
  return { status: job.status, culprit: job.culprit, outcome: job.outcome, events };
}

/** What is wrong with a job's stored events as a sequence: numbers missing or given twice. */
export function sequenceGaps(events: readonly RecordedEvent[]): string[] {
  const count = new Map<number, number>();
  for (const e of events) count.set(e.seq, (count.get(e.seq) ?? 0) + 1);
  const last = Math.max(-1, ...count.keys());
  const problems: string[] = [];
  for (let seq = 0; seq <= last; seq++) {
    const n = count.get(seq) ?? 0;
    if (n !== 1) problems.push(n === 0 ? `event ${seq} missing` : `event ${seq} stored ${n} times`);
  }
  return problems;
}

/** Runs recorded more than once (same commit, remedies and run index), and claimed runs of finished requests never recorded. */
export function doubledAndLost(events: readonly BisectEvent[]): { doubled: string[]; lost: string[] } {
  const seen = new Set<string>();
  const doubled: string[] = [];
  for (const e of events) {
    if (e.type !== "run-finished") continue;
    const key = `${observationKey(e.commit, e.remedies)}#${e.index}`;
    if (seen.has(key)) doubled.push(key);
    seen.add(key);
  }
  const finished = new Set(events.flatMap((e) => (e.type === "tests-finished" ? [e.request] : [])));
  const lost = events.flatMap((e) =>
    e.type === "tests-started" && finished.has(e.request) ? e.indices.map((i) => `${observationKey(e.commit, e.remedies)}#${i}`).filter((k) => !seen.has(k)) : [],
  );
  return { doubled, lost };
}
