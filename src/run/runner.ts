// The Runner contract: run the reproducer against built artifacts N times, up to J at once,
// and classify each run (via report/) into a RunOutcome. Runners never decide verdicts.

import { join } from "node:path";
import type { RunOutcome } from "../core/outcome.js";
import type { CrashReport } from "../report/types.js";
import type { Slots } from "./slots.js";

/** report/'s parseAll: every crash report of a console log, in order, the first being its title. */
export type ParseLog = (log: string) => CrashReport[];

export interface RunRequest {
  commit: string;
  /** The cache entry holding this commit's artifacts: read it, never write to it (other runs share it). */
  artifactsDir: string;
  /** Where a run that needs a writable copy of the artifacts (its working directory) makes it. */
  scratchDir?: string;
  /** Indices of the runs to do (resume and top-ups continue numbering). */
  indices: number[];
  parallel: number;
  timeoutMs: number;
  /** Console log of run i goes to `${logDir}/run-${i}.log`. */
  logDir: string;
  signal: AbortSignal;
  /** Called as each run finishes, in completion order. */
  onRun?: (result: RunResult) => void;
  /** Test machines shared with other bisections (a server's jobs): each run holds one while it runs. */
  machines?: Slots;
}

/** How a VM ran: with KVM, or emulated by QEMU's TCG. */
export type Accel = "kvm" | "tcg";

export interface RunResult {
  index: number;
  outcome: RunOutcome;
  /** The parsed report behind a crash outcome, when there is one. */
  report?: CrashReport;
  logFile: string;
  durationMs: number;
  /** The accelerator of the VM the run booted (QEMU runs only). */
  accel?: Accel;
}

export interface Runner {
  run(request: RunRequest): Promise<RunResult[]>;
}

/** The log file of run `index`. */
export function runLogFile(request: RunRequest, index: number): string {
  return join(request.logDir, `run-${index}.log`);
}

/**
 * Does one run of a request holding one of its shared machines, if it has them. Aborted while
 * waiting for one, the run never starts: an interrupted run, as an aborted one would be.
 */
export async function onMachine(request: RunRequest, index: number, run: () => Promise<RunResult>): Promise<RunResult> {
  if (!request.machines) return run();
  const interrupted: RunResult = { index, outcome: { kind: "infra", reason: "interrupted" }, logFile: runLogFile(request, index), durationMs: 0 };
  return (await request.machines.use(request.signal, run)) ?? interrupted;
}
