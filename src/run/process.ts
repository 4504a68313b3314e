// The process runner: the reproducer is a local command run against the build's artifacts.

import { randomUUID } from "node:crypto";
import { cp, mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { HANG_TYPE } from "../core/hangs.js";
import type { CrashSummary, RunOutcome } from "../core/outcome.js";
import type { CrashReport } from "../report/types.js";
import { execLogged, type ExecResult } from "./exec.js";
import { DEFAULT_OUTPUT_LIMIT } from "./boundedLog.js";
import { mapPool } from "./pool.js";
import { onMachine, runLogFile, type ParseLog, type Runner, type RunRequest, type RunResult } from "./runner.js";

/** What a non-zero exit with no crash report and no fatal signal means (job field reproducer.exitStatus). */
export type ExitStatusMeaning = "crash" | "untestable" | "ignore";

export interface ProcessRunSpec {
  command: string[];
  env?: Record<string, string>;
  /** Default "untestable": programs fail that way when they cannot run (a syntax error, a missing file). */
  exitStatus?: ExitStatusMeaning;
  /** Bytes of each run's output kept (head and tail), and parsed; default 4 MB. */
  outputLimit?: number;
}

/** git bisect run's convention: exit 125 means "this commit cannot be tested". */
const EXIT_UNTESTABLE = 125;

export function summary(report: CrashReport): CrashSummary {
  return {
    title: report.title,
    alt: report.alt,
    type: report.type,
    frame: report.frame,
    ...(report.frames.length > 0 ? { frames: report.frames } : {}),
    ...(report.guiltyFile !== "" ? { file: report.guiltyFile } : {}),
  };
}

/** What a log's reports say: the crash it shows (its first report) and the later ones, as a run records them. */
export interface LogCrashes {
  report: CrashReport;
  outcome: { crash: CrashSummary; more?: CrashSummary[] };
}

/**
 * The crash of a log from all its reports. Suppressed reports (crashes the fuzzer caused itself)
 * are no crash. Later reports are kept once per title: a multi-shot KASAN kernel repeating one
 * report adds nothing to what the run showed.
 */
export function logCrashes(reports: readonly CrashReport[]): LogCrashes | null {
  const real = reports.filter((r) => !r.suppressed);
  const [first, ...later] = real;
  if (!first) return null;
  const seen = new Set([first.title]);
  const more: CrashSummary[] = [];
  for (const r of later) {
    if (seen.has(r.title)) continue;
    seen.add(r.title);
    more.push(summary(r));
  }
  return { report: first, outcome: { crash: summary(first), ...(more.length > 0 ? { more } : {}) } };
}

function synthetic(title: string, type: string): CrashSummary {
  return { title, alt: [], type, frame: "" };
}

/** Shells report a child killed by signal N as exit status 128+N: these are crashes, not failures to run. */
const SHELL_FATAL_SIGNALS: Record<number, string> = { 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 11: "SIGSEGV" };

/** The last lines of a run's output, for the log to show why the reproducer could not run. */
export function outputTail(log: string, lines = 5, width = 200): string {
  return log
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0)
    .slice(-lines)
    .map((l) => (l.length > width ? `${l.slice(0, width)}…` : l))
    .join("\n");
}

/** What one finished process says about the crash. Pure: the log is already read. */
export function classifyProcessRun(
  exit: ExecResult,
  log: string,
  parse: ParseLog,
  exitStatus: ExitStatusMeaning = "untestable",
): { outcome: RunOutcome; report?: CrashReport } {
  if (exit.kind === "spawn-error") return { outcome: { kind: "infra", reason: `cannot start reproducer: ${exit.message}` } };
  if (exit.aborted) return { outcome: { kind: "infra", reason: "interrupted" } };
  const found = logCrashes(parse(log));
  if (found) return { outcome: { kind: "crash", ...found.outcome }, report: found.report };
  if (exit.timedOut) {
    const title = log.trim().length === 0 ? "no output from test machine" : "reproducer hung";
    return { outcome: { kind: "crash", crash: synthetic(title, HANG_TYPE) } };
  }
  if (exit.signal !== null) return { outcome: { kind: "crash", crash: synthetic(`fatal signal ${exit.signal}`, "SIGNAL") } };
  return { outcome: exitStatusOutcome(exit.code ?? 0, log, exitStatus) };
}

/**
 * What a reproducer's exit status says when its log holds no crash report; the same for a
 * process run and for the reproducer inside a VM (its init reports the status). Pure.
 */
export function exitStatusOutcome(code: number, log: string, exitStatus: ExitStatusMeaning = "untestable"): RunOutcome {
  if (code === 0) return { kind: "ok" };
  const shellSignal = SHELL_FATAL_SIGNALS[code - 128];
  if (shellSignal) return { kind: "crash", crash: synthetic(`fatal signal ${shellSignal}`, "SIGNAL") };
  if (code === EXIT_UNTESTABLE) return { kind: "untestable", reason: "exit status 125 (cannot test)", tail: outputTail(log) };
  switch (exitStatus) {
    case "crash":
      return { kind: "crash", crash: synthetic(`exit status ${code}`, "EXIT") };
    case "untestable":
      return { kind: "untestable", reason: `exit status ${code}`, tail: outputTail(log) };
    case "ignore":
      return { kind: "ok" };
  }
}

export class ProcessRunner implements Runner {
  constructor(
    private readonly spec: ProcessRunSpec,
    private readonly parse: ParseLog,
  ) {}

  run(request: RunRequest): Promise<RunResult[]> {
    return mapPool(request.indices, request.parallel, (index) => onMachine(request, index, () => this.runOnce(request, index)));
  }

  private async runOnce(request: RunRequest, index: number): Promise<RunResult> {
    const logFile = runLogFile(request, index);
    // The reproducer runs in the artifacts directory and may write there: each run gets its
    // own copy, so neither the cache entry nor a sibling run sees what it did.
    const cwd = request.scratchDir ? join(request.scratchDir, `run-${index}-${randomUUID()}`) : request.artifactsDir;
    if (request.scratchDir) {
      await mkdir(request.scratchDir, { recursive: true });
      await cp(request.artifactsDir, cwd, { recursive: true });
    }
    const exit = await execLogged(this.spec.command, {
      cwd,
      timeoutMs: request.timeoutMs,
      signal: request.signal,
      logFile,
      outputLimit: this.spec.outputLimit ?? DEFAULT_OUTPUT_LIMIT,
      env: {
        ...process.env,
        ...this.spec.env,
        CULPRIT_RUN: String(index),
        CULPRIT_COMMIT: request.commit,
        CULPRIT_ARTIFACTS: cwd,
      },
    });
    if (request.scratchDir) await rm(cwd, { recursive: true, force: true });
    const log = await readFile(logFile, "utf8").catch(() => "");
    const { outcome, report } = classifyProcessRun(exit, log, this.parse, this.spec.exitStatus);
    const result: RunResult = {
      index,
      outcome,
      logFile,
      durationMs: exit.kind === "exited" ? exit.durationMs : 0,
      ...(report ? { report } : {}),
    };
    request.onRun?.(result);
    return result;
  }
}
