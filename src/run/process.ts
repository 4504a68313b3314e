// The process runner: the reproducer is a local command run against the build's artifacts.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { CrashSummary, RunOutcome } from "../core/outcome.js";
import type { CrashReport } from "../report/types.js";
import { execLogged, type ExecResult } from "./exec.js";
import { mapPool } from "./pool.js";
import type { Runner, RunRequest, RunResult } from "./runner.js";

export interface ProcessRunSpec {
  command: string[];
  env?: Record<string, string>;
}

export type ParseLog = (log: string) => CrashReport | null;

/** git bisect run's convention: exit 125 means "this commit cannot be tested". */
const EXIT_UNTESTABLE = 125;

export function summary(report: CrashReport): CrashSummary {
  return {
    title: report.title,
    alt: report.alt,
    type: report.type,
    frame: report.frame,
    ...(report.crashState.length > 0 ? { frames: report.crashState } : {}),
    ...(report.guiltyFile !== "" ? { file: report.guiltyFile } : {}),
  };
}

function synthetic(title: string, type: string): CrashSummary {
  return { title, alt: [], type, frame: "" };
}

/** What one finished process says about the crash. Pure: the log is already read. */
export function classifyProcessRun(exit: ExecResult, log: string, parse: ParseLog): { outcome: RunOutcome; report?: CrashReport } {
  if (exit.kind === "spawn-error") return { outcome: { kind: "infra", reason: `cannot start reproducer: ${exit.message}` } };
  if (exit.aborted) return { outcome: { kind: "infra", reason: "interrupted" } };
  const report = parse(log);
  if (report && !report.suppressed) return { outcome: { kind: "crash", crash: summary(report) }, report };
  if (exit.timedOut) {
    const title = log.trim().length === 0 ? "no output from test machine" : "reproducer hung";
    return { outcome: { kind: "crash", crash: synthetic(title, "HANG") } };
  }
  if (exit.signal !== null) return { outcome: { kind: "crash", crash: synthetic(`fatal signal ${exit.signal}`, "SIGNAL") } };
  if (exit.code === EXIT_UNTESTABLE) return { outcome: { kind: "infra", reason: "reproducer exited 125 (cannot test)" } };
  if (exit.code !== 0) return { outcome: { kind: "crash", crash: synthetic(`exit status ${exit.code}`, "EXIT") } };
  return { outcome: { kind: "ok" } };
}

export class ProcessRunner implements Runner {
  constructor(
    private readonly spec: ProcessRunSpec,
    private readonly parse: ParseLog,
  ) {}

  run(request: RunRequest): Promise<RunResult[]> {
    return mapPool(request.indices, request.parallel, async (index) => {
      const logFile = join(request.logDir, `run-${index}.log`);
      const exit = await execLogged(this.spec.command, {
        cwd: request.artifactsDir,
        timeoutMs: request.timeoutMs,
        signal: request.signal,
        logFile,
        env: {
          ...process.env,
          ...this.spec.env,
          CULPRIT_RUN: String(index),
          CULPRIT_COMMIT: request.commit,
          CULPRIT_ARTIFACTS: request.artifactsDir,
        },
      });
      const log = await readFile(logFile, "utf8").catch(() => "");
      const { outcome, report } = classifyProcessRun(exit, log, this.parse);
      const result: RunResult = {
        index,
        outcome,
        logFile,
        durationMs: exit.kind === "exited" ? exit.durationMs : 0,
        ...(report ? { report } : {}),
      };
      request.onRun?.(result);
      return result;
    });
  }
}
