// The initramfs culprit boots kernels with: busybox, a tiny init that prints markers the runner
// classifies by, a sanity check, and the reproducer. Written as a newc cpio by hand (the format is
// a header of hex fields per entry) so there is no cpio tool to install and the bytes are
// reproducible: same inputs, same archive.

import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { compilerIdentity } from "./toolchain.js";
import { UserError } from "../core/errors.js";
import { execLogged } from "./exec.js";

/** Lines the init prints; the runner reads the console for them. One protocol, also for user images. */
export const MARKERS = {
  initStarted: "culprit: init started",
  basicOk: "culprit: basic testing ok",
  basicFailed: "culprit: basic testing failed: ",
  reproStarted: "culprit: reproducer started",
  reproFinished: "culprit: reproducer finished",
} as const;

export type CpioEntry =
  | { kind: "dir"; path: string; mode?: number }
  | { kind: "file"; path: string; data: Buffer; mode?: number }
  | { kind: "symlink"; path: string; target: string }
  | { kind: "chardev"; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function cpioRecord(ino: number, mode: number, data: Buffer, name: string, rdev = [0, 0]): Buffer[] {
  const nameBytes = Buffer.from(`${name}\0`);
  const header = Buffer.from(
    "070701" +
      [
        ino,
        mode,
        0, // uid: root
        0, // gid
        (mode & 0o170000) === S_IFDIR ? 2 : 1,
        0, // mtime fixed so the archive is reproducible
        data.length,
        0,
        0,
        rdev[0] ?? 0,
        rdev[1] ?? 0,
        nameBytes.length,
        0,
      ]
        .map(hex8)
        .join(""),
  );
  return [header, nameBytes, pad4(header.length + nameBytes.length), data, pad4(data.length)];
}

/** A newc ("070701") archive the kernel unpacks as its initramfs. Paths are relative ("bin/sh"). */
export function cpioArchive(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const path = e.path.replace(/^\/+/, "");
    switch (e.kind) {
      case "dir":
        parts.push(...cpioRecord(ino++, S_IFDIR | (e.mode ?? 0o755), Buffer.alloc(0), path));
        break;
      case "file":
        parts.push(...cpioRecord(ino++, S_IFREG | (e.mode ?? 0o755), e.data, path));
        break;
      case "symlink":
        parts.push(...cpioRecord(ino++, S_IFLNK | 0o777, Buffer.from(e.target), path));
        break;
      case "chardev":
        parts.push(...cpioRecord(ino++, S_IFCHR | (e.mode ?? 0o600), Buffer.alloc(0), path, [e.major, e.minor]));
        break;
    }
  }
  parts.push(...cpioRecord(0, 0, Buffer.alloc(0), "TRAILER!!!"));
  return Buffer.concat(parts);
}

export type ReproducerPayload =
  | { kind: "shell"; script: Buffer }
  /** A static executable (a compiled C reproducer or a prebuilt one). */
  | { kind: "binary"; executable: Buffer };

/**
 * The init script. It runs as `busybox sh` (passed after `--` on the kernel command line, so the
 * kernel needs no BINFMT_SCRIPT), checks that the basics work, runs the reproducer, then reboots,
 * which QEMU's -no-reboot turns into a clean exit.
 */
export function initScript(reproducerCommand: string): string {
  return `# culprit init: markers are read by culprit's QEMU runner; keep them stable.
export PATH=/bin:/sbin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
echo "${MARKERS.initStarted}"
basic() {
  echo culprit > /tmp/basic || return 1
  [ "$(cat /tmp/basic)" = culprit ] || return 2
  [ -r /proc/self/status ] || return 3
  ( exit 0 ) || return 4
  return 0
}
basic
status=$?
if [ $status -ne 0 ]; then
  case $status in
    1) what="cannot write a file to tmpfs" ;;
    2) what="a file read back differs" ;;
    3) what="no /proc/self/status" ;;
    *) what="cannot fork a subshell" ;;
  esac
  echo "${MARKERS.basicFailed}$what"
  reboot -f
fi
echo "${MARKERS.basicOk}"
cd /tmp
echo "${MARKERS.reproStarted}"
${reproducerCommand}
echo "${MARKERS.reproFinished} (exit status $?)"
sync
reboot -f
`;
}

export interface InitramfsInput {
  /** A statically linked busybox, e.g. /bin/busybox from Debian's busybox-static. */
  busybox: string;
  reproducer: ReproducerPayload;
  /** Replaces the init script (tests use it to boot a broken init). */
  init?: string;
}

/** Kernel command-line tail that makes busybox's shell run our init (see initScript). */
export const INIT_ARGS = ["rdinit=/bin/busybox", "--", "sh", "/init.sh"] as const;

export async function initramfsEntries(input: InitramfsInput): Promise<CpioEntry[]> {
  const busybox = await readFile(input.busybox);
  const repro: CpioEntry =
    input.reproducer.kind === "shell"
      ? { kind: "file", path: "culprit/repro.sh", data: input.reproducer.script, mode: 0o755 }
      : { kind: "file", path: "culprit/repro", data: input.reproducer.executable, mode: 0o755 };
  const command = input.reproducer.kind === "shell" ? "sh /culprit/repro.sh" : "/culprit/repro";
  return [
    { kind: "dir", path: "bin" },
    { kind: "dir", path: "sbin" },
    { kind: "dir", path: "dev" },
    // The kernel opens /dev/console for init's stdio before anything is mounted.
    { kind: "chardev", path: "dev/console", major: 5, minor: 1 },
    { kind: "chardev", path: "dev/null", major: 1, minor: 3, mode: 0o666 },
    { kind: "dir", path: "proc" },
    { kind: "dir", path: "sys" },
    { kind: "dir", path: "tmp", mode: 0o1777 },
    { kind: "dir", path: "culprit" },
    { kind: "file", path: "bin/busybox", data: busybox, mode: 0o755 },
    { kind: "symlink", path: "bin/sh", target: "busybox" },
    repro,
    { kind: "file", path: "init.sh", data: Buffer.from(input.init ?? initScript(command)), mode: 0o755 },
  ];
}

/** Writes the initramfs to `path`. */
export async function writeInitramfs(path: string, input: InitramfsInput): Promise<void> {
  await writeFile(path, cpioArchive(await initramfsEntries(input)));
}

export type ReproducerKind = "auto" | "shell" | "c" | "binary";

/** An ELF that asks for a dynamic loader (PT_INTERP) cannot run in an initramfs with no libc. */
export function isDynamicElf(image: Buffer): boolean {
  if (image.length < 64 || image.readUInt32BE(0) !== 0x7f454c46 || image[4] !== 2 || image[5] !== 1) return false;
  const phoff = Number(image.readBigUInt64LE(0x20));
  const phentsize = image.readUInt16LE(0x36);
  const phnum = image.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > image.length) break;
    if (image.readUInt32LE(at) === 3) return true;
  }
  return false;
}

export function reproducerKindOf(path: string, head: Buffer): Exclude<ReproducerKind, "auto"> {
  if (path.endsWith(".c")) return "c";
  if (head.length >= 4 && head.readUInt32BE(0) === 0x7f454c46) return "binary";
  return "shell";
}

export interface ReproducerBuild {
  /** Host C compiler for C reproducers. */
  cc: string;
  /** Where a compiled reproducer is written. */
  outDir: string;
  /** The log line ("building reproducer …") goes here. */
  log: (line: string) => void;
  signal?: AbortSignal;
}

/**
 * Reads (and for C, compiles once, statically, with the host compiler) the reproducer for the
 * initramfs. Problems are the user's to fix, so they are UserErrors.
 */
export async function loadReproducer(path: string, kind: ReproducerKind, build: ReproducerBuild): Promise<ReproducerPayload> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    throw new UserError(`cannot read reproducer ${path}`, "check target.reproducer in the job file");
  }
  const resolved = kind === "auto" ? reproducerKindOf(path, bytes) : kind;
  switch (resolved) {
    case "shell":
      return { kind: "shell", script: bytes };
    case "binary":
      if (isDynamicElf(bytes)) {
        throw new UserError(`reproducer ${path} is dynamically linked`, "link it with -static: the VM has no libc");
      }
      return { kind: "binary", executable: bytes };
    case "c": {
      await mkdir(build.outDir, { recursive: true });
      const out = join(build.outDir, `${basename(path, ".c")}.static`);
      build.log(`building reproducer ${path} with ${await compilerIdentity(build.cc)}`);
      const argv = ["-static", "-O1", "-pthread", "-o", out, path];
      const result = await execLogged([build.cc, ...argv], {
        cwd: build.outDir,
        timeoutMs: 5 * 60_000,
        logFile: `${out}.log`,
        ...(build.signal ? { signal: build.signal } : {}),
      });
      if (result.kind === "spawn-error") throw new UserError(`cannot run ${build.cc} to build the reproducer: ${result.message}`, "install gcc or set target.reproducer.cc");
      if (result.code !== 0) {
        const errors = (await readFile(`${out}.log`, "utf8")).split("\n").filter((l) => /error/.test(l)).slice(0, 3);
        throw new UserError(`reproducer ${path} does not compile: ${errors.join(" | ") || `exit status ${result.code}`}`, "fix it or give a prebuilt static binary");
      }
      return { kind: "binary", executable: await readFile(out) };
    }
  }
}
