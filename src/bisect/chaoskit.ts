// Shared by the chaos test and `npm run bench:chaos`: a bisection run by the real CLI, killed
// with SIGKILL at random moments and resumed each time, then checked for what a crash must
// never do — change the answer, repeat a finished build, reuse a run index, leave a process or
// a checkout behind — and for the lock: a second resume of a running work dir exits 2, one line.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, watch } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { observationKey } from "../core/outcome.js";
import { git } from "../git/git.js";
import { generator } from "../sim/random.js";
import { parseEventLine } from "./events.js";
import { LOCK_FILE } from "./lock.js";

const MAIN = fileURLToPath(new URL("../cli/main.js", import.meta.url));

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function cli(args: string[], cwd: string): { pid: number; exit: Promise<Exit> } {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<Exit>((resolve) => child.once("close", (code, signal) => resolve({ code, signal, stderr })));
  return { pid: child.pid as number, exit };
}

function lineCount(file: string): number {
  if (!existsSync(file)) return 0;
  return readFileSync(file, "utf8").split("\n").length - 1;
}

/** Resolves once `ready()` holds, checked whenever something in `dir` changes (no polling). */
function whenInDir(dir: string, ready: () => boolean, gaveUp: Promise<unknown>): Promise<boolean> {
  return new Promise((resolve) => {
    if (ready()) return resolve(true);
    const watcher = watch(dir, () => {
      if (!ready()) return;
      watcher.close();
      resolve(true);
    });
    void gaveUp.then(() => {
      watcher.close();
      resolve(false);
    });
  });
}

export interface ChaosSpec {
  repoDir: string;
  /** The job file to bisect with (its work dir is passed by flag). */
  jobFile: string;
  workDir: string;
  kills: number;
  seed: number;
  /** A kill comes after 1..maxEvents more events, then 0..maxDelayMs more (0: right then). */
  maxEvents: number;
  maxDelayMs: number;
}

export interface ChaosReport {
  culprit: string | undefined;
  kills: number;
  /** Builds finished (not from the cache) more than once for the same commit and remedies. */
  repeatedBuilds: string[];
  /** (commit, remedies, index) handed out or finished more than once. */
  reusedRunIndices: string[];
  /** Processes still running from the work dir after the end. */
  leftProcesses: string[];
  /** Worktrees of the repository besides the user's own (git's porcelain lines), and the checkout slots' dir if left on disk. */
  leftWorktrees: string[];
  /** The second of two concurrent resumes: its exit status and stderr. */
  secondResume: { code: number | null; stderr: string };
}

/** Processes whose working directory or command line is inside `dir`. */
export function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      let cwd = "";
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // gone, or not ours to read
      }
      if (cwd.startsWith(dir) || cmdline.includes(dir)) found.push(`${pid} ${cmdline.trim()}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** What the event log's raw lines say about repeats (every line, as written, before any dedupe). */
export function repeatsIn(eventsText: string): Pick<ChaosReport, "repeatedBuilds" | "reusedRunIndices"> {
  const built = new Map<string, number>();
  const claimed = new Map<string, number>();
  const finished = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  for (const line of eventsText.split("\n")) {
    const e = parseEventLine(line);
    if (!e) continue;
    if (e.type === "build-finished" && !e.cached) bump(built, observationKey(e.commit, e.remedies));
    if (e.type === "tests-started") for (const i of e.indices) bump(claimed, `${observationKey(e.commit, e.remedies)}#${i}`);
    if (e.type === "run-finished") bump(finished, `${observationKey(e.commit, e.remedies)}#${e.index}`);
  }
  const many = (m: Map<string, number>): string[] => [...m].filter(([, n]) => n > 1).map(([k]) => k);
  return { repeatedBuilds: many(built), reusedRunIndices: [...new Set([...many(claimed), ...many(finished)])] };
}

export async function chaosBisection(spec: ChaosSpec): Promise<ChaosReport> {
  const rnd = generator(spec.seed);
  const events = join(spec.workDir, "events.jsonl");
  // Made here so it can be watched from the start; the CLI only refuses a dir holding a bisection.
  mkdirSync(spec.workDir, { recursive: true });
  let run = cli(["bisect", spec.jobFile, "--work-dir", spec.workDir, "--quiet"], spec.repoDir);
  let kills = 0;
  let secondResume = { code: null as number | null, stderr: "" };
  for (; kills < spec.kills; kills++) {
    const ended = run.exit.then(() => undefined);
    const target = lineCount(events) + 1 + Math.floor(rnd() * spec.maxEvents);
    const reached = await whenInDir(spec.workDir, () => lineCount(events) >= target, ended);
    if (!reached) break; // it finished on its own first
    const delay = Math.floor(rnd() * spec.maxDelayMs);
    let finished = false;
    void ended.then(() => (finished = true));
    await Promise.race([delay > 0 ? new Promise((r) => setTimeout(r, delay)) : Promise.resolve(), ended]);
    // It may have finished meanwhile (its pid is then gone, or a stranger's).
    if (finished) break;
    try {
      process.kill(run.pid, "SIGKILL");
    } catch {
      break;
    }
    const exit = await run.exit;
    if (exit.signal !== "SIGKILL") break;
    run = cli(["bisect", "--resume", spec.workDir, "--quiet"], spec.repoDir);
    if (kills === 0) secondResume = await turnedAway(spec, run);
  }
  const last = await run.exit;
  if (last.code !== 0 && last.code !== 1) throw new Error(`the last resume failed (${last.code ?? last.signal}): ${last.stderr}`);
  const result = JSON.parse(readFileSync(join(spec.workDir, "result.json"), "utf8")) as { culprit?: { hash: string } };
  const listed = (await git(spec.repoDir, ["worktree", "list", "--porcelain"])).stdout.trim().split("\n\n").slice(1);
  return {
    culprit: result.culprit?.hash,
    kills,
    ...repeatsIn(readFileSync(events, "utf8")),
    leftProcesses: processesIn(spec.workDir),
    leftWorktrees: [...listed.map((w) => w.replaceAll("\n", " ")), ...(existsSync(join(spec.workDir, "worktrees")) ? [join(spec.workDir, "worktrees")] : [])],
    secondResume,
  };
}

/**
 * A second resume while `holder` holds the work dir. The holder is stopped (SIGSTOP) while the
 * second one tries, so it cannot finish and free the lock in between.
 */
async function turnedAway(spec: ChaosSpec, holder: { pid: number; exit: Promise<Exit> }): Promise<{ code: number | null; stderr: string }> {
  const locked = await whenInDir(spec.workDir, () => readLock(spec.workDir) === holder.pid, holder.exit);
  if (!locked) return { code: null, stderr: "the resume finished before it could be raced" };
  process.kill(holder.pid, "SIGSTOP");
  try {
    const second = await cli(["bisect", "--resume", spec.workDir], spec.repoDir).exit;
    return { code: second.code, stderr: second.stderr };
  } finally {
    process.kill(holder.pid, "SIGCONT");
  }
}

function readLock(workDir: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(workDir, LOCK_FILE), "utf8")) as { pid?: number }).pid;
  } catch {
    return undefined;
  }
}
