// The `target: linux` job section: what it may say (a zod schema, so mistakes are one clear line)
// and the builder + QEMU runner it makes. Paths in it are relative to the job file.

import { existsSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { freemem, cpus } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { durationField } from "../../core/durationField.js";
import { UserError } from "../../core/errors.js";
import { DEFAULT_RELEASE_PICK, type ReleasePickPolicy } from "../../core/releasePick.js";
import type { RemedyRule } from "../../core/strategy.js";
import { maintainersLookup, type MaintainersLookup } from "../../recipients/maintainers.js";
import { loadReproducer, writeInitramfs } from "../../run/initramfs.js";
import { DEFAULT_OUTPUT_LIMIT } from "../../run/boundedLog.js";
import { detectAccel, QemuRunner, type Accel, type QemuSpec, type VmAccel, type VmRootfs } from "../../run/qemu.js";
import type { ParseLog, Runner } from "../../run/runner.js";
import { DEFAULT_RELEASE_TWEAKS, KERNEL_REMEDIES, KernelBuilder, defaultJobs } from "../../build/kernel.js";

const duration = durationField;

const releaseTag = z.string().regex(/^v\d+\.\d+(?:\.\d+)?(?:-rc\d+)?$/, "write a release tag like v5.10 or v6.1.20");
const symbol = z.string().regex(/^(?:CONFIG_)?[A-Z0-9_]+$/, "write a Kconfig symbol like KASAN or CONFIG_KASAN");

export const linuxTargetSchema = z
  .object({
    kind: z.literal("linux"),
    /** The start .config (e.g. syzbot's config for the bug). */
    config: z.string().min(1),
    /** Set on every build after `config`: {KASAN: y, DEBUG_INFO: n}. */
    configSet: z.record(symbol, z.string().min(1)).default({}),
    /** "vX.Y" → compiler for commits whose newest reachable release is that one or newer. */
    compilers: z.record(releaseTag, z.string().min(1)).default({}),
    compiler: z.string().min(1).default("gcc"),
    ccache: z.union([z.boolean(), z.literal("auto")]).default("auto"),
    jobs: z.number().int().min(1).max(256).optional(),
    makeArgs: z.array(z.string().min(1)).default([]),
    keepVmlinux: z.boolean().default(false),
    reproducer: z
      .object({
        path: z.string().min(1),
        kind: z.enum(["auto", "shell", "c", "binary"]).default("auto"),
        /** Host compiler for a C reproducer (compiled once, statically). */
        cc: z.string().min(1).default("gcc"),
        /** A non-zero exit inside the VM with no crash report: could not run (default), a crash, or OK. */
        exitStatus: z.enum(["untestable", "crash", "ignore"]).default("untestable"),
      })
      .strict(),
    vm: z
      .object({
        qemu: z.string().min(1).default("qemu-system-x86_64"),
        accel: z.enum(["auto", "kvm", "tcg"]).default("auto"),
        /** QEMU's -cpu; default: the first of KVM_CPUS a guest boots with under KVM, "max" under TCG. */
        cpu: z.string().min(1).optional(),
        /** MiB per VM. */
        memory: z.number().int().min(128).max(1 << 20).default(1024),
        cpus: z.number().int().min(1).max(64).default(2),
        /** VMs at once; default from free memory and host CPUs. */
        count: z.number().int().min(1).max(256).optional(),
        cmdline: z.array(z.string().min(1)).default([]),
        /** Boot culprit's initramfs (default), your own initramfs, or a disk image as root. */
        initramfs: z.string().min(1).optional(),
        image: z
          .object({ path: z.string().min(1), format: z.enum(["raw", "qcow2"]).default("raw"), root: z.string().min(1).default("/dev/vda") })
          .strict()
          .optional(),
        busybox: z.string().min(1).default("/bin/busybox"),
        infraRetries: z.number().int().min(0).max(10).default(2),
        /** Bytes of each serial console kept (first and last halves) and parsed. */
        outputLimit: z.number().int().min(4096).default(DEFAULT_OUTPUT_LIMIT),
      })
      .strict()
      .prefault({}),
    timeouts: z
      .object({
        build: duration.default(60 * 60_000),
        boot: duration.default(5 * 60_000),
        noOutput: duration.default(3 * 60_000),
        /** One whole run: boot, sanity check, reproducer, power-off. */
        run: duration.default(10 * 60_000),
      })
      .strict()
      .prefault({}),
    releases: z
      .object({
        oldest: releaseTag.optional(),
        newest: z.number().int().min(0).default(DEFAULT_RELEASE_PICK.newest),
        pointReleases: z.number().int().min(0).default(DEFAULT_RELEASE_PICK.pointReleases),
        includeRc: z.boolean().default(DEFAULT_RELEASE_PICK.includeRc),
        max: z.number().int().min(1).default(DEFAULT_RELEASE_PICK.max),
      })
      .strict()
      .prefault({}),
    /** Options to switch off for commits older than `tag`. */
    releaseTweaks: z.array(z.object({ tag: releaseTag, disable: z.array(symbol).min(1), why: z.string().optional() }).strict()).default([]),
    maintainers: z.enum(["file", "script"]).default("file"),
  })
  .strict()
  .refine((t) => !(t.vm.initramfs && t.vm.image), { message: "give vm.initramfs or vm.image, not both", path: ["vm"] });

export type LinuxTarget = z.infer<typeof linuxTargetSchema>;

export interface LinuxTargetContext {
  repoDir: string;
  /** Relative paths in the section are relative to this (the job file's directory). */
  baseDir: string;
  /** Where culprit may write the initramfs and the compiled reproducer. */
  workDir: string;
  /** Every crash report of a console log (report/'s parseAll). */
  parse: ParseLog;
  /** Log lines such as "building reproducer …". */
  log: (line: string) => void;
}

export interface LinuxTargetParts {
  /** The concrete builder (a benchmark times a plain make with its flags). */
  builder: KernelBuilder;
  runner: Runner;
  /** For BisectProblem.remedies. */
  remedies: RemedyRule[];
  /** For choosing the releases to test (core/releasePick.ts). */
  releasePolicy: ReleasePickPolicy;
  /** The per-run timeout to put in RunRequest.timeoutMs. */
  runTimeoutMs: number;
  /** The log's "<label> signature:" line, as in syzbot's. */
  signatureLabel: "kernel";
  maintainers: MaintainersLookup;
  accel: Accel;
  /** QEMU's -cpu under that accelerator. */
  cpu: string;
}

function readable(path: string, what: string, field: string): string {
  if (!existsSync(path)) throw new UserError(`${what} ${path} does not exist`, `check ${field} in the job file`);
  return path;
}

/** Most VMs that fit: half the free memory, one per host CPU. */
export function defaultVmCount(memoryMb: number, freeBytes = freemem(), hostCpus = cpus().length): number {
  return Math.max(1, Math.min(hostCpus, Math.floor((freeBytes * 0.5) / (memoryMb * 1024 * 1024))));
}

/** Validates the section (UserError naming the field) without checking the files it names. */
export function parseLinuxTarget(raw: unknown): LinuxTarget {
  const parsed = linuxTargetSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = ["target", ...(issue?.path ?? []).map(String)].join(".");
  throw new UserError(`invalid ${field} in job: ${issue?.message ?? "invalid"}`, "see docs/kernel.md");
}

/** The builder and runner for a `target: linux` section. Checks the files it names exist. */
export async function createLinuxTarget(target: LinuxTarget, ctx: LinuxTargetContext): Promise<LinuxTargetParts> {
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(ctx.baseDir, p));
  const configPath = readable(path(target.config), "kernel config", "target.config");
  const reproducerPath = readable(path(target.reproducer.path), "reproducer", "target.reproducer.path");
  const builder = new KernelBuilder({
    repoDir: ctx.repoDir,
    config: readFileSync(configPath, "utf8"),
    compilers: target.compilers,
    defaultCompiler: target.compiler,
    ccache: target.ccache,
    jobs: target.jobs ?? defaultJobs(),
    imageTarget: "bzImage",
    imagePath: "arch/x86/boot/bzImage",
    timeoutMs: target.timeouts.build,
    releaseTweaks: [...DEFAULT_RELEASE_TWEAKS, ...target.releaseTweaks],
    extraConfig: Object.entries(target.configSet).map(([symbol, value]) => ({ symbol, value })),
    keepVmlinux: target.keepVmlinux,
    makeArgs: target.makeArgs,
  });

  const { accel, cpu } = await vmAccel(target.vm);
  const initramfs = join(ctx.workDir, "initramfs.cpio");
  let rootfs: VmRootfs;
  let prepare = async (): Promise<void> => {};
  if (target.vm.image) {
    rootfs = { kind: "image", path: readable(path(target.vm.image.path), "disk image", "target.vm.image.path"), format: target.vm.image.format, root: target.vm.image.root };
  } else if (target.vm.initramfs) {
    rootfs = { kind: "initramfs", path: readable(path(target.vm.initramfs), "initramfs", "target.vm.initramfs") };
  } else {
    const busybox = readable(target.vm.busybox, "busybox", "target.vm.busybox (install busybox-static)");
    rootfs = { kind: "initramfs", path: initramfs };
    // Once per bisection, before the first boot: a C reproducer is compiled here.
    prepare = async () => {
      await mkdir(ctx.workDir, { recursive: true });
      const reproducer = await loadReproducer(reproducerPath, target.reproducer.kind, {
        cc: target.reproducer.cc,
        outDir: join(ctx.workDir, "reproducer"),
        log: ctx.log,
      });
      await writeInitramfs(initramfs, { busybox, reproducer });
    };
  }
  const spec: QemuSpec = {
    qemu: target.vm.qemu,
    accel,
    cpu,
    kernelImage: "bzImage",
    memoryMb: target.vm.memory,
    cpus: target.vm.cpus,
    vms: target.vm.count ?? defaultVmCount(target.vm.memory),
    rootfs,
    cmdline: target.vm.cmdline,
    bootTimeoutMs: target.timeouts.boot,
    noOutputTimeoutMs: target.timeouts.noOutput,
    shutdownGraceMs: 30_000,
    infraRetries: target.vm.infraRetries,
    outputLimit: target.vm.outputLimit,
    exitStatus: target.reproducer.exitStatus,
  };
  const { oldest, ...pick } = target.releases;
  return {
    builder,
    runner: new QemuRunner(spec, ctx.parse, prepare),
    remedies: KERNEL_REMEDIES.map(({ name, removesTypes }) => ({ name, removesTypes })),
    releasePolicy: { ...DEFAULT_RELEASE_PICK, ...pick, ...(oldest ? { oldest } : {}) },
    runTimeoutMs: target.timeouts.run,
    signatureLabel: "kernel",
    maintainers: maintainersLookup(target.maintainers),
    accel,
    cpu,
  };
}

/** The accelerator and CPU model, probed once: `auto` takes KVM when a guest boots with it. */
async function vmAccel(vm: LinuxTarget["vm"]): Promise<VmAccel> {
  if (vm.accel === "tcg") return { accel: "tcg", cpu: vm.cpu ?? "max" };
  const probed = await detectAccel(vm.qemu, vm.cpu ? { cpus: [vm.cpu] } : {});
  if (vm.accel === "auto") return probed;
  // KVM asked for: the model that probed fine, or the one given (QEMU then says what fails).
  return { accel: "kvm", cpu: probed.accel === "kvm" ? probed.cpu : (vm.cpu ?? "host") };
}
