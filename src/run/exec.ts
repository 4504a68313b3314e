// Child processes that can always be stopped: each runs in its own process group
// (`detached`), and a timeout, an abort or the child's own exit kills the whole group,
// so grandchildren (a shell's background jobs, make's compilers) never outlive it.

import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";

export interface ExecOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  signal?: AbortSignal;
  /** stdout and stderr both go to this file, interleaved in the order they were written. */
  logFile: string;
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

/** Process groups still running, so an interrupt can take all of them down. */
const liveGroups = new Set<number>();

export function killAllGroups(): void {
  for (const pgid of liveGroups) killGroup(pgid);
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // ESRCH: the group is already gone.
  }
}

export function execLogged(argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.resolve({ kind: "spawn-error", code: "EINVAL", message: "empty command" });
  const fd = openSync(options.logFile, "w");
  const started = performance.now();
  return new Promise((resolve) => {
    let timedOut = false;
    let aborted = false;
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", fd, fd],
      detached: true,
    });
    const pgid = child.pid;
    if (pgid !== undefined) liveGroups.add(pgid);
    const stop = (): void => {
      if (pgid !== undefined) killGroup(pgid);
    };
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
      if (pgid !== undefined) {
        stop();
        liveGroups.delete(pgid);
      }
      closeSync(fd);
      resolve(result);
    };
    child.once("error", (err: NodeJS.ErrnoException) => {
      finish({ kind: "spawn-error", code: err.code ?? "ERROR", message: err.message });
    });
    child.once("exit", (code, signal) => {
      finish({ kind: "exited", code, signal, timedOut, aborted, durationMs: performance.now() - started });
    });
  });
}
