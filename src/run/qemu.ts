// The QEMU runner: boots a built kernel with culprit's initramfs (or the user's disk image),
// reads the serial console as it streams, and classifies each run by the init's markers and
// report/'s parse of the log. QEMU failing is an infra problem, retried, never a verdict.

import { closeSync, constants, openSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { CrashSummary, RunOutcome } from "../core/outcome.js";
import type { CrashReport } from "../report/types.js";
import { kernelTypeOfTitle, LOST_CONNECTION_TITLE, NO_OUTPUT_TITLE } from "../report/titles.js";
import { spawnGroup } from "./exec.js";
import { INIT_ARGS, MARKERS } from "./initramfs.js";
import { mapPool } from "./pool.js";
import { BoundedLog, DEFAULT_OUTPUT_LIMIT } from "./boundedLog.js";
import { exitStatusOutcome, logCrashes, type ExitStatusMeaning } from "./process.js";
import { onMachine, runLogFile, type Accel, type ParseLog, type Runner, type RunRequest, type RunResult } from "./runner.js";

export type { Accel } from "./runner.js";

/** What the VM boots: an initramfs (culprit's or the user's), or a disk image as root. */
export type VmRootfs =
  | { kind: "initramfs"; path: string }
  /** The image's own init must print culprit's markers (docs/kernel.md) and run the reproducer. */
  | { kind: "image"; path: string; format: "raw" | "qcow2"; root: string };

export interface QemuSpec {
  qemu: string;
  accel: Accel;
  /** QEMU's -cpu; default "host" under KVM, "max" under TCG (detectAccel says which KVM takes here). */
  cpu?: string;
  /** The kernel image inside each build's artifacts directory, e.g. "bzImage". */
  kernelImage: string;
  memoryMb: number;
  cpus: number;
  /** Most VMs at once, whatever the request asks for. */
  vms: number;
  rootfs: VmRootfs;
  /** Extra kernel command-line parameters, after culprit's. */
  cmdline: string[];
  /** The init-started marker must appear within this. */
  bootTimeoutMs: number;
  /** A silent console for this long after boot is a hang. */
  noOutputTimeoutMs: number;
  /** How long a VM may take to power off after the reproducer finished. */
  shutdownGraceMs: number;
  /** Extra attempts for a run whose VM failed for infra reasons. */
  infraRetries: number;
  /** Bytes of each serial console kept (head and tail, see BoundedLog) and parsed; default 4 MB. */
  outputLimit?: number;
  /** What a non-zero exit of the reproducer inside the VM means; default "untestable", as for process runs. */
  exitStatus?: ExitStatusMeaning;
}

/** Kernel parameters culprit always sets: serial console, and every oops/warning ends the run. */
export const BASE_CMDLINE = [
  "console=ttyS0",
  "earlyprintk=serial",
  "oops=panic",
  "panic_on_warn=1",
  "nmi_watchdog=panic",
  // Reboot at once on panic; QEMU's -no-reboot turns that into an exit.
  "panic=-1",
];

/** A value inside a QEMU option list (`-drive file=…,format=…`): QEMU reads ",," as a literal
 *  comma, so a comma in a path cannot start another option. */
export function qemuOptionValue(value: string): string {
  return value.replaceAll(",", ",,");
}

const DEFAULT_CPU: Record<Accel, string> = { kvm: "host", tcg: "max" };

export function qemuArgv(spec: QemuSpec, kernel: string): string[] {
  const accel = ["-accel", spec.accel, "-cpu", spec.cpu ?? DEFAULT_CPU[spec.accel]];
  const common = [
    spec.qemu,
    ...accel,
    "-m",
    String(spec.memoryMb),
    "-smp",
    String(spec.cpus),
    "-nodefaults",
    "-display",
    "none",
    "-no-reboot",
    "-serial",
    "stdio",
    "-kernel",
    kernel,
  ];
  switch (spec.rootfs.kind) {
    case "initramfs":
      return [...common, "-initrd", spec.rootfs.path, "-append", [...BASE_CMDLINE, ...spec.cmdline, ...INIT_ARGS].join(" ")];
    case "image":
      return [
        ...common,
        // snapshot=on: runs on the same image never see each other's writes.
        "-drive",
        `file=${qemuOptionValue(spec.rootfs.path)},format=${spec.rootfs.format},if=virtio,snapshot=on`,
        "-append",
        [...BASE_CMDLINE, `root=${spec.rootfs.root}`, "rw", ...spec.cmdline].join(" "),
      ];
  }
}

/** How a VM's life ended, as the runner saw it. */
export type VmEnd =
  | { kind: "spawn-error"; message: string }
  | { kind: "aborted" }
  | { kind: "exited"; code: number | null; signal: string | null; stderr: string }
  | { kind: "boot-timeout" }
  | { kind: "no-output" }
  | { kind: "timeout" };

/** Titles culprit gives itself get report/'s type for them (NO_OUTPUT, LOST_CONNECTION), so remedies and families treat them alike. */
function synthetic(title: string): CrashSummary {
  return { title, alt: [], type: kernelTypeOfTitle(title), frame: "" };
}

/** 0-based line of the first line containing `marker`, or undefined. */
function markerLine(lines: readonly string[], marker: string): number | undefined {
  const i = lines.findIndex((l) => l.includes(marker));
  return i < 0 ? undefined : i;
}

/** The reproducer's exit status as the init reported it, and its output (between the markers); undefined without the marker. */
function reproducerExit(lines: readonly string[]): { code: number; output: string } | undefined {
  const finished = markerLine(lines, MARKERS.reproFinished);
  if (finished === undefined) return undefined;
  const status = /\(exit status (\d+)\)/.exec(lines[finished] ?? "");
  // A user image's init may print the marker without the status: it ran, and that is all it says.
  const code = status ? Number(status[1]) : 0;
  const started = markerLine(lines, MARKERS.reproStarted) ?? -1;
  return { code, output: lines.slice(started + 1, finished).join("\n") };
}

/** Classifies one run from how the VM ended and its console log. Pure. */
export function classifyVmRun(end: VmEnd, log: string, parse: ParseLog, exitStatus: ExitStatusMeaning = "untestable"): { outcome: RunOutcome; report?: CrashReport } {
  switch (end.kind) {
    case "spawn-error":
      return { outcome: { kind: "infra", reason: `cannot start QEMU: ${end.message}` } };
    case "aborted":
      return { outcome: { kind: "infra", reason: "interrupted" } };
    case "exited":
      // The guest only ever powers off or reboots (exit 0); anything else is QEMU or the host.
      if (end.signal !== null) return { outcome: { kind: "infra", reason: `QEMU killed by ${end.signal} (out of memory?)` } };
      if (end.code !== 0) {
        const why = end.stderr.split("\n").find((l) => l.trim() !== "")?.trim() ?? "no message";
        return { outcome: { kind: "infra", reason: `QEMU exited with status ${end.code}: ${why}` } };
      }
      break;
    default:
      break;
  }
  const lines = log.split("\n");
  const initLine = markerLine(lines, MARKERS.initStarted);
  const basicOkLine = markerLine(lines, MARKERS.basicOk);
  const found = logCrashes(parse(log));
  if (found) {
    const { report, outcome } = found;
    if (initLine === undefined || report.startLine < initLine) return { outcome: { kind: "boot-failed", ...outcome }, report };
    if (basicOkLine === undefined || report.startLine < basicOkLine) return { outcome: { kind: "basic-failed", ...outcome }, report };
    return { outcome: { kind: "crash", ...outcome }, report };
  }
  const silentTitle = log.trim() === "" || end.kind !== "exited" ? NO_OUTPUT_TITLE : LOST_CONNECTION_TITLE;
  if (initLine === undefined) {
    const title = log.trim() === "" ? NO_OUTPUT_TITLE : end.kind === "exited" ? LOST_CONNECTION_TITLE : "init did not start in time";
    return { outcome: { kind: "boot-failed", crash: synthetic(title) } };
  }
  const failed = lines.find((l) => l.includes(MARKERS.basicFailed));
  if (failed !== undefined) {
    const what = failed.slice(failed.indexOf(MARKERS.basicFailed) + MARKERS.basicFailed.length).trim();
    return { outcome: { kind: "basic-failed", crash: synthetic(what || "sanity check failed") } };
  }
  if (basicOkLine === undefined) {
    return { outcome: { kind: "basic-failed", crash: synthetic(silentTitle) } };
  }
  // Finished and no crash in the whole log: its exit status decides, as for a process run (a
  // non-zero exit is "could not run"), even if the VM then needed killing to go away.
  const exit = reproducerExit(lines);
  if (exit) return { outcome: exitStatusOutcome(exit.code, exit.output, exitStatus) };
  return { outcome: { kind: "crash", crash: synthetic(silentTitle) } };
}

/** Only the lines and markers the watchdog needs, kept from an unbounded stream. */
class ConsoleWatch {
  private tail = "";
  initSeen = false;
  finishedSeen = false;

  feed(chunk: string): void {
    const text = this.tail + chunk;
    if (!this.initSeen && text.includes(MARKERS.initStarted)) this.initSeen = true;
    if (!this.finishedSeen && text.includes(MARKERS.reproFinished)) this.finishedSeen = true;
    // Keep enough to catch a marker split across two chunks.
    this.tail = text.slice(-64);
  }
}

export interface VmBoot {
  end: VmEnd;
  durationMs: number;
  /** Milliseconds from QEMU's start to the init-started marker; undefined if it never came. */
  bootMs?: number;
}

/** Boots one VM, streams its console to `logFile`, and stops it by the spec's timeouts. */
export function bootVm(spec: QemuSpec, kernel: string, logFile: string, timeoutMs: number, signal: AbortSignal): Promise<VmBoot> {
  const argv = qemuArgv(spec, kernel);
  const started = performance.now();
  const elapsed = (): number => performance.now() - started;
  return new Promise((resolve) => {
    // A log that cannot be written is reported by the read that follows; never crash the process.
    let fd: number | undefined;
    try {
      fd = openSync(logFile, "w");
    } catch {
      fd = undefined;
    }
    // A kernel printing in a loop is cut like a chatty process: first and last halves of the limit.
    const out = fd === undefined ? undefined : new BoundedLog(fd, spec.outputLimit ?? DEFAULT_OUTPUT_LIMIT);
    const { child, stop } = spawnGroup(argv, { output: "pipe" });
    const watch = new ConsoleWatch();
    let stderr = "";
    let ending: VmEnd | undefined;
    let bootMs: number | undefined;
    const timers: NodeJS.Timeout[] = [];
    let silence: NodeJS.Timeout | undefined;

    const kill = (why: VmEnd): void => {
      ending ??= why;
      stop();
    };
    const armSilence = (): void => {
      if (silence) clearTimeout(silence);
      silence = setTimeout(() => kill({ kind: "no-output" }), spec.noOutputTimeoutMs);
    };
    timers.push(setTimeout(() => kill({ kind: "timeout" }), timeoutMs));
    timers.push(setTimeout(() => watch.initSeen || kill({ kind: "boot-timeout" }), spec.bootTimeoutMs));
    const onAbort = (): void => kill({ kind: "aborted" });
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) onAbort();

    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      // Serial consoles end lines with CRLF; logs and parsers want plain lines.
      out?.write(Buffer.from(chunk.replace(/\r/g, "")));
      const wasInit = watch.initSeen;
      const wasFinished = watch.finishedSeen;
      watch.feed(chunk);
      if (!wasInit && watch.initSeen) bootMs = elapsed();
      if (watch.finishedSeen) {
        // Past the reproducer only power-off is left: the grace period replaces the silence watchdog.
        if (silence) clearTimeout(silence);
        if (!wasFinished) timers.push(setTimeout(() => kill({ kind: "timeout" }), spec.shutdownGraceMs));
      } else if (watch.initSeen) armSilence();
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      if (stderr.length < 16_384) stderr += chunk;
    });

    let settled = false;
    const finish = (end: VmEnd): void => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      if (silence) clearTimeout(silence);
      signal.removeEventListener("abort", onAbort);
      kill(end);
      out?.finish();
      if (fd !== undefined) closeSync(fd);
      resolve({ end: ending ?? end, durationMs: elapsed(), ...(bootMs !== undefined ? { bootMs } : {}) });
    };
    child.once("error", (err) => finish({ kind: "spawn-error", message: err.message }));
    // "close" waits for the console pipe to drain, so the log is complete.
    child.once("close", (code, sig) => finish({ kind: "exited", code, signal: sig, stderr }));
  });
}

/** An accelerator and the CPU model QEMU runs guests with under it. */
export interface VmAccel {
  accel: Accel;
  cpu: string;
}

/**
 * CPU models tried under KVM, best first. Some hosts (nested virtualisation) pass
 * IA32_ARCH_CAPABILITIES through yet refuse to set it, and QEMU aborts at once with "failed to
 * set MSR 0x10a" for "host" and "max": without that one feature the host's CPU works.
 */
export const KVM_CPUS = ["host", "host,-arch-capabilities", "qemu64"];

export interface AccelProbe {
  /** Default /dev/kvm. */
  device?: string;
  /** Default KVM_CPUS. */
  cpus?: readonly string[];
  /** How long one probe may take to reach the BIOS's last line; default 3 s. */
  probeMs?: number;
}

/**
 * KVM with the first CPU model that gets a guest through the BIOS faster than TCG does, when
 * the device opens; else TCG. Opening and even running is not enough: under nested
 * virtualisation a host can run SeaBIOS with KVM in 20 s (TCG: 0.4 s) and then sit in a
 * kernel's real-mode setup for minutes. Probed once per bisection; a refused model costs a
 * QEMU start (it aborts at once).
 */
export async function detectAccel(qemu: string, probe: AccelProbe = {}): Promise<VmAccel> {
  const tcg: VmAccel = { accel: "tcg", cpu: DEFAULT_CPU.tcg };
  try {
    closeSync(openSync(probe.device ?? "/dev/kvm", constants.O_RDWR));
  } catch {
    return tcg;
  }
  const probeMs = probe.probeMs ?? 3000;
  const emulated = await biosMs(qemu, tcg, probeMs);
  for (const cpu of probe.cpus ?? KVM_CPUS) {
    if ((await biosMs(qemu, { accel: "kvm", cpu }, emulated ?? probeMs)) !== undefined) return { accel: "kvm", cpu };
  }
  return tcg;
}

/** Milliseconds until SeaBIOS prints its last boot line with `machine`, or undefined when it does not within `limitMs` (QEMU aborted, or crawled). */
function biosMs(qemu: string, machine: VmAccel, limitMs: number): Promise<number | undefined> {
  const argv = ["-accel", machine.accel, "-cpu", machine.cpu, "-m", "64", "-nodefaults", "-display", "none", "-no-reboot",
    "-chardev", "stdio,id=bios", "-device", "isa-debugcon,iobase=0x402,chardev=bios"];
  const started = performance.now();
  return new Promise((resolve) => {
    const { child, stop } = spawnGroup([qemu, ...argv], { output: "pipe" });
    let seen = "";
    let done = false;
    const finish = (ms: number | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stop();
      resolve(ms);
    };
    const timer = setTimeout(() => finish(undefined), limitMs);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      seen = (seen + chunk).slice(-256);
      if (seen.includes("No bootable device")) finish(performance.now() - started);
    });
    // Read and dropped, so a chatty QEMU never blocks on a full pipe.
    child.stderr.resume();
    child.once("error", () => finish(undefined));
    child.once("close", () => finish(undefined));
  });
}

export class QemuRunner implements Runner {
  constructor(
    private readonly spec: QemuSpec,
    private readonly parse: ParseLog,
    /** Called once before the first boot (e.g. to assemble the initramfs). */
    private readonly prepare: () => Promise<void> = async () => {},
  ) {}

  private prepared?: Promise<void>;

  async run(request: RunRequest): Promise<RunResult[]> {
    this.prepared ??= this.prepare();
    await this.prepared;
    const kernel = join(request.artifactsDir, this.spec.kernelImage);
    await mkdir(request.logDir, { recursive: true });
    const parallel = Math.max(1, Math.min(request.parallel, this.spec.vms));
    return mapPool(request.indices, parallel, (index) => onMachine(request, index, () => this.boot(request, kernel, index)));
  }

  private async boot(request: RunRequest, kernel: string, index: number): Promise<RunResult> {
    const logFile = runLogFile(request, index);
    let attempt = 0;
    for (;;) {
      const boot = await bootVm(this.spec, kernel, logFile, request.timeoutMs, request.signal);
      const log = await readFile(logFile, "utf8").catch(() => "");
      const { outcome, report } = classifyVmRun(boot.end, log, this.parse, this.spec.exitStatus);
      const retry = outcome.kind === "infra" && boot.end.kind !== "aborted" && attempt < this.spec.infraRetries;
      if (retry) {
        attempt++;
        continue;
      }
      const result: RunResult = { index, outcome, logFile, durationMs: boot.durationMs, accel: this.spec.accel, ...(report ? { report } : {}) };
      request.onRun?.(result);
      return result;
    }
  }
}
