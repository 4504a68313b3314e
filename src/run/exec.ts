// Child processes that can always be stopped. This is the one place culprit spawns a tool that
// may start others (builds, reproducers, QEMU, get_maintainer.pl): each runs in its own process
// group (`detached`), and a timeout, an abort or the child's own exit kills the whole group, so
// grandchildren (a shell's background jobs, make's compilers) never outlive it.
//
// Groups are also written to the journals of the work dirs in use, so when culprit itself is
// killed (kill -9, the OOM killer) the next start in that work dir ends what it left running.

import { spawn, type ChildProcess, type ChildProcessByStdio } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { setPriority } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { z } from "zod";
import { BoundedLog } from "./boundedLog.js";

export interface ExecOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  signal?: AbortSignal;
  /** stdout and stderr both go to this file, interleaved in the order they were written. */
  logFile: string;
  /** Bytes of output kept (head and tail, see BoundedLog); absent = everything. */
  outputLimit?: number;
  /**
   * Start the command at the lowest CPU priority (nice 19; its children inherit it): work done
   * ahead of need takes only the CPU nothing else wants.
   */
  lowPriority?: boolean;
}

export type ExecResult =
  | {
      kind: "exited";
      code: number | null;
      signal: NodeJS.Signals | null;
      timedOut: boolean;
      aborted: boolean;
      durationMs: number;
    }
  | { kind: "spawn-error"; code: string; message: string };

/** Field 22 of /proc/PID/stat (start time in clock ticks); undefined where there is no such process or no /proc. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** True while `pid` runs (and, given its start time, is still that process and not a reused pid). */
export function isProcessAlive(pid: number, started?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const now = processStartTime(pid);
  return started === undefined || now === undefined || now === started;
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // ESRCH: the group is already gone.
  }
}

const journalEntry = z.object({ pgid: z.number().int().positive(), owner: z.number().int(), ownerStarted: z.string().optional(), leaderStarted: z.string().optional() });
type JournalEntry = z.infer<typeof journalEntry>;

/** Process groups this process started and that still run, so an interrupt can take all of them down. */
const liveGroups = new Map<number, JournalEntry>();
/** Journal directories of the work dirs this process runs bisections in. */
const journals = new Set<string>();

export function killAllGroups(): void {
  for (const pgid of liveGroups.keys()) killGroup(pgid);
}

function journalFile(dir: string, pgid: number): string {
  return join(dir, `${pgid}.json`);
}

/**
 * Ends what a dead culprit left running in `dir`'s journal, then journals this process's groups
 * there until the returned function is called. Groups of a live owner are left alone.
 */
export function journalGroupsIn(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    let entry: JournalEntry | undefined;
    try {
      const parsed = journalEntry.safeParse(JSON.parse(readFileSync(file, "utf8")));
      entry = parsed.success ? parsed.data : undefined;
    } catch {
      entry = undefined;
    }
    if (entry && isProcessAlive(entry.owner, entry.ownerStarted)) continue;
    // While any member of a group lives its id cannot be reused, so a leader with another start
    // time means the group is gone and the pid belongs to a stranger.
    if (entry) {
      const leader = processStartTime(entry.pgid);
      if (leader === undefined || entry.leaderStarted === undefined || leader === entry.leaderStarted) killGroup(entry.pgid);
    }
    rmSync(file, { force: true });
  }
  journals.add(dir);
  for (const entry of liveGroups.values()) writeFileSync(journalFile(dir, entry.pgid), JSON.stringify(entry));
  return () => {
    journals.delete(dir);
  };
}

function track(pgid: number): void {
  const ownerStarted = processStartTime(process.pid);
  const leaderStarted = processStartTime(pgid);
  const entry: JournalEntry = { pgid, owner: process.pid, ...(ownerStarted ? { ownerStarted } : {}), ...(leaderStarted ? { leaderStarted } : {}) };
  liveGroups.set(pgid, entry);
  for (const dir of journals) {
    try {
      writeFileSync(journalFile(dir, pgid), JSON.stringify(entry));
    } catch {
      // A journal that cannot be written only loses the after-crash cleanup.
    }
  }
}

function untrack(pgid: number): void {
  liveGroups.delete(pgid);
  for (const dir of journals) rmSync(journalFile(dir, pgid), { force: true });
}

export interface GroupChild<C extends ChildProcess = ChildProcess> {
  child: C;
  /** Kills the whole group (idempotent). */
  stop(): void;
}

export interface GroupOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Spawns `argv` as the leader of a new process group; the group dies with its leader. Output
 * goes to pipes the caller reads, or (given a file descriptor) stdout and stderr both to it.
 */
export function spawnGroup(argv: readonly string[], options: GroupOptions & { output: "pipe" }): GroupChild<ChildProcessByStdio<null, Readable, Readable>>;
export function spawnGroup(argv: readonly string[], options: GroupOptions & { output: number }): GroupChild;
export function spawnGroup(argv: readonly string[], options: GroupOptions & { output: "pipe" | number }): GroupChild {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error("spawnGroup: empty command");
  const common = { ...(options.cwd ? { cwd: options.cwd } : {}), env: options.env ?? process.env, detached: true };
  const output = options.output;
  const child =
    output === "pipe"
      ? spawn(file, args, { ...common, stdio: ["ignore", "pipe", "pipe"] })
      : spawn(file, args, { ...common, stdio: ["ignore", output, output] });
  const pgid = child.pid;
  if (pgid !== undefined) track(pgid);
  const stop = (): void => {
    if (pgid !== undefined) killGroup(pgid);
  };
  child.once("exit", () => {
    stop();
    if (pgid !== undefined) untrack(pgid);
  });
  return { child, stop };
}

/** How long output still in the pipes is read after the group was killed. */
const PIPE_DRAIN_MS = 2000;

/** Attempts at starting a program that is "busy" (ETXTBSY) before that counts as a spawn error. */
const BUSY_RETRIES = 5;

/**
 * Nice 19 for the process and what it starts. The command leads a session of its own, and where
 * the scheduler groups CPU time by session (autogroup), a nice value weighs only inside its group:
 * the group itself is reniced too, or the command would still take its equal share of the CPU.
 */
function lowerPriority(pid: number): void {
  try {
    setPriority(pid, 19);
    writeFileSync(`/proc/${pid}/autogroup`, "19");
  } catch {
    // Gone already, no autogroup on this kernel, or not ours to renice: it runs as it is.
  }
}

export async function execLogged(argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
  for (let attempt = 0; ; attempt++) {
    const result = await execOnce(argv, options);
    // Linux refuses to exec a file some process holds open for writing, and a fork made by a
    // sibling run while another run's copy of the program was being written holds it for a
    // moment: a wait of milliseconds is all it takes.
    if (result.kind !== "spawn-error" || result.code !== "ETXTBSY" || attempt >= BUSY_RETRIES) return result;
    await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
  }
}

function execOnce(argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
  if (argv.length === 0) return Promise.resolve({ kind: "spawn-error", code: "EINVAL", message: "empty command" });
  const fd = openSync(options.logFile, "w");
  const started = performance.now();
  let spawned: GroupChild;
  // A bounded log reads the output through pipes (arrival order across stdout and stderr);
  // otherwise the child writes the file itself.
  const bounded = options.outputLimit !== undefined ? new BoundedLog(fd, options.outputLimit) : undefined;
  const drained: Promise<void>[] = [];
  try {
    const group = { cwd: options.cwd, ...(options.env ? { env: options.env } : {}) };
    if (bounded) {
      const piped = spawnGroup(argv, { ...group, output: "pipe" });
      for (const stream of [piped.child.stdout, piped.child.stderr]) {
        stream.on("data", (chunk: Buffer) => bounded.write(chunk));
        drained.push(new Promise((done) => stream.once("close", () => done())));
      }
      spawned = piped;
    } else {
      spawned = spawnGroup(argv, { ...group, output: fd });
    }
  } catch (err) {
    // Some failures (ETXTBSY, EACCES on some systems) are thrown at once instead of emitted.
    closeSync(fd);
    const e = err as NodeJS.ErrnoException;
    return Promise.resolve({ kind: "spawn-error", code: e.code ?? "ERROR", message: e.message });
  }
  const { child, stop } = spawned;
  if (options.lowPriority && child.pid !== undefined) lowerPriority(child.pid);
  return new Promise((resolve) => {
    let timedOut = false;
    let aborted = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, options.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      stop();
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    let finished = false;
    const finish = (result: ExecResult): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      stop();
      // The group is dead, so its pipes close; a process that left the group may hold them, so
      // the wait for the last output is bounded.
      const lastOutput = new Promise<void>((done) => {
        const giveUp = setTimeout(done, PIPE_DRAIN_MS);
        void Promise.all(drained).then(() => {
          clearTimeout(giveUp);
          done();
        });
      });
      void lastOutput.then(() => {
        bounded?.finish();
        closeSync(fd);
        resolve(result);
      });
    };
    child.once("error", (err: NodeJS.ErrnoException) => {
      finish({ kind: "spawn-error", code: err.code ?? "ERROR", message: err.message });
    });
    child.once("exit", (code, signal) => {
      finish({ kind: "exited", code, signal, timedOut, aborted, durationMs: performance.now() - started });
    });
  });
}
