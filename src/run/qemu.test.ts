import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunOutcome } from "../core/outcome.js";
import { parseAll } from "../report/index.js";
import type { CrashReport } from "../report/types.js";
import { loadReproducer, MARKERS, writeInitramfs, type InitramfsInput } from "./initramfs.js";
import { bootVm, classifyVmRun, detectAccel, QemuRunner, qemuArgv, type QemuSpec, type VmEnd } from "./qemu.js";
import type { RunResult } from "./runner.js";
import { reportTitled } from "./testkit.js";

/** Stands in for report/: each line "OOPS <title>" is a crash report starting on that line. */
function fakeParse(log: string): CrashReport[] {
  return log.split("\n").flatMap((line, at) => (line.startsWith("OOPS ") ? [reportTitled(line.slice(5), at, line.startsWith("OOPS suppressed"))] : []));
}

const exited: VmEnd = { kind: "exited", code: 0, signal: null, stderr: "" };
const boot = ["[0.1] Linux version 6.1", "[0.2] Freeing unused kernel memory"];
const booted = [...boot, MARKERS.initStarted, MARKERS.basicOk, MARKERS.reproStarted];
const finished = [...booted, `${MARKERS.reproFinished} (exit status 0)`, "reboot: Restarting system"];

function describeOutcome(o: RunOutcome): string {
  switch (o.kind) {
    case "ok":
      return "ok";
    case "infra":
      return `infra: ${o.reason}`;
    case "untestable":
      return `untestable: ${o.reason}`;
    default:
      return `${o.kind}: ${o.crash.title}`;
  }
}

describe("classifyVmRun", () => {
  const cases: [string, VmEnd, string[], string][] = [
    ["finished and rebooted cleanly", exited, finished, "ok"],
    ["finished, then needed killing to stop", { kind: "timeout" }, finished, "ok"],
    ["a crash after the reproducer started", exited, [...booted, "OOPS WARNING in foo"], "crash: WARNING in foo"],
    ["a crash during shutdown still counts", exited, [...finished, "OOPS BUG in reboot"], "crash: BUG in reboot"],
    ["a suppressed report is not a crash", exited, [...finished.slice(0, -1), "OOPS suppressed oom", finished.at(-1) as string], "ok"],
    ["an oops before init started", exited, [...boot, "OOPS WARNING in kvm_wait"], "boot-failed: WARNING in kvm_wait"],
    ["an oops during basic testing", exited, [...boot, MARKERS.initStarted, "OOPS BUG: sleeping function"], "basic-failed: BUG: sleeping function"],
    ["the sanity check failed", exited, [...boot, MARKERS.initStarted, `${MARKERS.basicFailed}cannot write a file to tmpfs`], "basic-failed: cannot write a file to tmpfs"],
    ["no init marker in time", { kind: "boot-timeout" }, boot, "boot-failed: init did not start in time"],
    ["nothing at all on the console", { kind: "boot-timeout" }, [], "boot-failed: no output from test machine"],
    ["the VM went away before init", exited, boot, "boot-failed: lost connection to test machine"],
    ["silence while the reproducer runs", { kind: "no-output" }, booted, "crash: no output from test machine"],
    ["the run's timeout while the reproducer runs", { kind: "timeout" }, booted, "crash: no output from test machine"],
    ["the VM went away mid-reproducer", exited, booted, "crash: lost connection to test machine"],
    ["QEMU could not start", { kind: "spawn-error", message: "spawn qemu ENOENT" }, [], "infra: cannot start QEMU: spawn qemu ENOENT"],
    ["QEMU failed", { kind: "exited", code: 1, signal: null, stderr: "\nqemu: could not load kernel\n" }, [], "infra: QEMU exited with status 1: qemu: could not load kernel"],
    ["QEMU killed by the host", { kind: "exited", code: null, signal: "SIGKILL", stderr: "" }, booted, "infra: QEMU killed by SIGKILL (out of memory?)"],
    ["interrupted", { kind: "aborted" }, booted, "infra: interrupted"],
    // The reproducer's own exit status, as the init reports it, reads as for a process run.
    ["the reproducer exited non-zero: could not run", exited, [...booted, "repro: unknown option", `${MARKERS.reproFinished} (exit status 2)`], "untestable: exit status 2"],
    ["exit 125: cannot test", exited, [...booted, `${MARKERS.reproFinished} (exit status 125)`], "untestable: exit status 125 (cannot test)"],
    ["a shell's 128+11: killed by SIGSEGV", exited, [...booted, `${MARKERS.reproFinished} (exit status 139)`], "crash: fatal signal SIGSEGV"],
    ["a crash report wins over the exit status", exited, [...booted, "OOPS KASAN: slab-out-of-bounds", `${MARKERS.reproFinished} (exit status 1)`], "crash: KASAN: slab-out-of-bounds"],
    ["a user image's marker without a status", exited, [...booted, MARKERS.reproFinished], "ok"],
  ];
  for (const [name, end, lines, want] of cases) {
    it(name, () => assert.equal(describeOutcome(classifyVmRun(end, lines.join("\n"), fakeParse).outcome), want));
  }
  it("a non-zero exit shows the reproducer's last lines, not the kernel's, and follows reproducer.exitStatus", () => {
    const lines = [...booted, "repro: unknown option", `${MARKERS.reproFinished} (exit status 2)`, "reboot: Restarting system"].join("\n");
    assert.deepEqual(classifyVmRun(exited, lines, fakeParse).outcome, { kind: "untestable", reason: "exit status 2", tail: "repro: unknown option" });
    assert.equal(describeOutcome(classifyVmRun(exited, lines, fakeParse, "crash").outcome), "crash: exit status 2");
    assert.equal(describeOutcome(classifyVmRun(exited, lines, fakeParse, "ignore").outcome), "ok");
  });

  it("a report after the first one is recorded as more", () => {
    const { outcome } = classifyVmRun(exited, [...booted, "OOPS possible deadlock in f", "OOPS KASAN: use-after-free Read in g"].join("\n"), fakeParse);
    assert.equal(describeOutcome(outcome), "crash: possible deadlock in f");
    assert.deepEqual(outcome.kind === "crash" ? outcome.more?.map((c) => c.title) : [], ["KASAN: use-after-free Read in g"]);
  });
});

describe("qemuArgv", () => {
  const spec: QemuSpec = {
    qemu: "qemu-system-x86_64",
    accel: "tcg",
    kernelImage: "bzImage",
    memoryMb: 256,
    cpus: 1,
    vms: 1,
    rootfs: { kind: "initramfs", path: "/w/initramfs.cpio" },
    cmdline: ["kasan.fault=panic"],
    bootTimeoutMs: 1,
    noOutputTimeoutMs: 1,
    shutdownGraceMs: 1,
    infraRetries: 0,
  };
  it("boots the initramfs with busybox's shell as init, user parameters before the init's", () => {
    const argv = qemuArgv(spec, "/a/bzImage");
    const append = argv[argv.indexOf("-append") + 1] as string;
    assert.match(append, /^console=ttyS0 .* kasan\.fault=panic rdinit=\/bin\/busybox -- sh \/init\.sh$/);
    assert.ok(argv.includes("-no-reboot"));
    assert.deepEqual(argv.slice(1, 5), ["-accel", "tcg", "-cpu", "max"]);
    assert.deepEqual(qemuArgv({ ...spec, accel: "kvm" }, "/k").slice(1, 5), ["-accel", "kvm", "-cpu", "host"]);
    assert.deepEqual(qemuArgv({ ...spec, accel: "kvm", cpu: "host,-arch-capabilities" }, "/k").slice(1, 5), ["-accel", "kvm", "-cpu", "host,-arch-capabilities"]);
  });
  it("boots an image from disk, in snapshot mode", () => {
    const argv = qemuArgv({ ...spec, accel: "kvm", rootfs: { kind: "image", path: "/i.img", format: "raw", root: "/dev/vda" } }, "/k");
    assert.ok(argv.includes("file=/i.img,format=raw,if=virtio,snapshot=on"));
    assert.match(argv[argv.indexOf("-append") + 1] as string, /root=\/dev\/vda rw/);
    assert.ok(!argv.includes("-initrd"));
  });
  it("a comma in the image path stays part of the path (QEMU doubles commas), never a new option", () => {
    const path = "/imgs/a,format=qcow2,file.locking=off.img";
    const argv = qemuArgv({ ...spec, rootfs: { kind: "image", path, format: "raw", root: "/dev/vda" } }, "/k");
    const drive = argv[argv.indexOf("-drive") + 1] as string;
    assert.equal(drive, "file=/imgs/a,,format=qcow2,,file.locking=off.img,format=raw,if=virtio,snapshot=on");
    // Split as QEMU does (a single comma separates, a double one is literal): one file, one format.
    const options = drive.split(/(?<!,),(?!,)/).map((o) => o.replaceAll(",,", ","));
    assert.deepEqual(options, [`file=${path}`, "format=raw", "if=virtio", "snapshot=on"]);
  });
});

// The watchdog against a stand-in QEMU (a script that ignores its arguments): timeouts fire,
// the whole process group goes (the script's `sleep` too), and the console is in the log.
describe("bootVm watchdog", () => {
  const spec = (qemu: string): QemuSpec => ({
    qemu,
    accel: "tcg",
    kernelImage: "bzImage",
    memoryMb: 64,
    cpus: 1,
    vms: 1,
    rootfs: { kind: "initramfs", path: "/dev/null" },
    cmdline: [],
    bootTimeoutMs: 400,
    noOutputTimeoutMs: 400,
    shutdownGraceMs: 400,
    infraRetries: 0,
  });
  const cases: [string, string, string, string][] = [
    ["no init marker in time", "echo booting\nexec sleep 30\n", "boot-timeout", "boot-failed: init did not start in time"],
    ["silence after init", `echo '${MARKERS.initStarted}'\nexec sleep 30\n`, "no-output", "basic-failed: no output from test machine"],
    [
      "finished but never powers off",
      `printf '${MARKERS.initStarted}\\r\\n${MARKERS.basicOk}\\r\\n${MARKERS.reproFinished} (exit status 0)\\r\\n'\nsleep 30\n`,
      "timeout",
      "ok",
    ],
    ["QEMU fails", "echo 'qemu: could not open kernel' >&2\nexit 1\n", "exited", "infra: QEMU exited with status 1: qemu: could not open kernel"],
  ];
  for (const [name, script, end, want] of cases) {
    it(name, async () => {
      const work = await mkdtemp(join(tmpdir(), "culprit-vm-"));
      try {
        const fake = join(work, "fake-qemu");
        await writeFile(fake, `#!/bin/sh\n${script}`);
        await chmod(fake, 0o755);
        const started = performance.now();
        const boot = await bootVm(spec(fake), "/k", join(work, "console.log"), 20_000, new AbortController().signal);
        assert.ok(performance.now() - started < 5000, "the watchdog, not the run timeout, ended it");
        assert.equal(boot.end.kind, end);
        const log = await readFile(join(work, "console.log"), "utf8");
        assert.ok(!log.includes("\r"), "carriage returns are dropped");
        assert.equal(describeOutcome(classifyVmRun(boot.end, log, fakeParse).outcome), want);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });
  }
});

describe("bootVm console", () => {
  it("keeps the first and last halves of outputLimit of a console that never stops printing", { timeout: 60_000 }, async () => {
    const work = await mkdtemp(join(tmpdir(), "culprit-vm-"));
    try {
      const fake = join(work, "fake-qemu");
      // 4 MB of kernel chatter between the boot lines and the end the parser needs.
      await writeFile(fake, `#!/bin/sh\necho FIRST LINE\nyes 'printk: lots of noise' | head -c 4000000\necho '${MARKERS.initStarted}'\necho LAST LINE\n`);
      await chmod(fake, 0o755);
      const spec: QemuSpec = {
        qemu: fake,
        accel: "tcg",
        kernelImage: "bzImage",
        memoryMb: 64,
        cpus: 1,
        vms: 1,
        rootfs: { kind: "initramfs", path: "/dev/null" },
        cmdline: [],
        bootTimeoutMs: 30_000,
        noOutputTimeoutMs: 30_000,
        shutdownGraceMs: 1000,
        infraRetries: 0,
        outputLimit: 100_000,
      };
      await bootVm(spec, "/k", join(work, "console.log"), 30_000, new AbortController().signal);
      const log = await readFile(join(work, "console.log"), "utf8");
      assert.ok(log.length < 100_200, `console kept: ${log.length} bytes`);
      assert.ok(log.startsWith("FIRST LINE\n"));
      assert.ok(log.endsWith("LAST LINE\n"));
      assert.match(log, /culprit kept the first and last 50000 bytes/);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});

describe("detectAccel", () => {
  it("falls back to TCG when the KVM device cannot be opened", async () => {
    assert.deepEqual(await detectAccel("qemu-system-x86_64", { device: "/nonexistent/kvm" }), { accel: "tcg", cpu: "max" });
  });
  it("skips a CPU model QEMU refuses, and falls back to TCG when none is left", async () => {
    assert.deepEqual(await detectAccel("qemu-system-x86_64", { cpus: ["no-such-cpu-model"] }), { accel: "tcg", cpu: "max" });
  });
});

describe("QemuRunner infra retries", () => {
  // Fails once (as QEMU does when it cannot get memory), then boots and finishes cleanly.
  const flaky = (state: string): string =>
    `#!/bin/sh\nif [ ! -e '${state}' ]; then touch '${state}'; echo 'cannot allocate memory' >&2; exit 1; fi\n` +
    `printf '${MARKERS.initStarted}\\n${MARKERS.basicOk}\\n${MARKERS.reproStarted}\\n${MARKERS.reproFinished} (exit status 0)\\n'\n`;
  const cases: [string, number, string][] = [
    ["a QEMU failure is retried, and the retry counts", 1, "ok"],
    ["with no retries left it stays an infra problem, never a verdict", 0, "infra: QEMU exited with status 1: cannot allocate memory"],
  ];
  for (const [name, retries, want] of cases) {
    it(name, async () => {
      const work = await mkdtemp(join(tmpdir(), "culprit-retry-"));
      try {
        const fake = join(work, "fake-qemu");
        await writeFile(fake, flaky(join(work, "failed-once")));
        await chmod(fake, 0o755);
        const runner = new QemuRunner(
          {
            qemu: fake,
            accel: "tcg",
            kernelImage: "bzImage",
            memoryMb: 64,
            cpus: 1,
            vms: 1,
            rootfs: { kind: "initramfs", path: "/dev/null" },
            cmdline: [],
            bootTimeoutMs: 5000,
            noOutputTimeoutMs: 5000,
            shutdownGraceMs: 5000,
            infraRetries: retries,
          },
          fakeParse,
        );
        const seen: RunResult[] = [];
        const results = await runner.run({
          commit: "c",
          artifactsDir: work,
          indices: [3],
          parallel: 1,
          timeoutMs: 10_000,
          logDir: join(work, "logs"),
          signal: new AbortController().signal,
          onRun: (r) => seen.push(r),
        });
        assert.deepEqual(results.map((r) => [r.index, describeOutcome(r.outcome)]), [[3, want]]);
        assert.equal(seen.length, 1, "onRun hears about the final attempt only");
        assert.equal(results[0]?.logFile, join(work, "logs", "run-3.log"));
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });
  }
});

/** Debian's prebuilt kernel (linux-image-amd64), the newest installed. */
function debianKernel(): string | undefined {
  const images = existsSync("/boot") ? readdirSync("/boot").filter((f) => /^vmlinuz-.*-amd64$/.test(f)) : [];
  const newest = images.sort().at(-1);
  return newest ? join("/boot", newest) : undefined;
}

// The CI acceptance check: a real kernel, real QEMU, culprit's initramfs. ~4 s per boot under TCG.
describe("QEMU runner booting Debian's kernel", () => {
  it("classifies a crash, a clean run, a C reproducer and a broken init", async (t) => {
    const kernel = debianKernel();
    assert.ok(kernel, "no /boot/vmlinuz-*-amd64: install linux-image-amd64 (scripts/debian-packages)");
    assert.ok(existsSync("/bin/busybox"), "no /bin/busybox: install busybox-static (scripts/debian-packages)");
    const work = await mkdtemp(join(tmpdir(), "culprit-qemu-"));
    try {
      const artifacts = join(work, "artifacts");
      await writeFile(join(work, "repro.c"), '#include <stdio.h>\nint main(void) { puts("static C reproducer ran"); return 0; }\n');
      await mkdir(artifacts);
      await symlink(kernel, join(artifacts, "bzImage"));
      const machine = await detectAccel("qemu-system-x86_64");
      t.diagnostic(`accelerator: ${machine.accel}, -cpu ${machine.cpu}`);
      const built: string[] = [];
      const cases: { name: string; input: Omit<InitramfsInput, "busybox"> }[] = [
        { name: "crash", input: { reproducer: { kind: "shell", script: Buffer.from("echo c > /proc/sysrq-trigger\n") } } },
        { name: "clean", input: { reproducer: { kind: "shell", script: Buffer.from("echo the reproducer ran\n") } } },
        {
          name: "c",
          input: {
            reproducer: await loadReproducer(join(work, "repro.c"), "auto", { cc: "gcc", outDir: join(work, "c"), log: (l) => built.push(l) }),
          },
        },
        { name: "broken-init", input: { reproducer: { kind: "shell", script: Buffer.from("true\n") }, init: "echo this init is broken\nexit 1\n" } },
      ];
      const results = await Promise.all(
        cases.map(async ({ name, input }) => {
          const initramfs = join(work, `${name}.cpio`);
          await writeInitramfs(initramfs, { busybox: "/bin/busybox", ...input });
          const runner = new QemuRunner(
            {
              qemu: "qemu-system-x86_64",
              ...machine,
              kernelImage: "bzImage",
              memoryMb: 512,
              cpus: 1,
              vms: 1,
              rootfs: { kind: "initramfs", path: initramfs },
              cmdline: [],
              bootTimeoutMs: 60_000,
              noOutputTimeoutMs: 60_000,
              shutdownGraceMs: 10_000,
              infraRetries: 1,
            },
            parseAll,
          );
          const [result] = await runner.run({
            commit: name,
            artifactsDir: artifacts,
            indices: [0],
            parallel: 1,
            timeoutMs: 90_000,
            logDir: join(work, name),
            signal: new AbortController().signal,
          });
          return [name, result as RunResult] as const;
        }),
      );
      const byName = new Map(results);
      for (const [name, r] of results) t.diagnostic(`${name}: ${describeOutcome(r.outcome)} in ${(r.durationMs / 1000).toFixed(1)}s`);
      assert.ok(results.every(([, r]) => r.accel === machine.accel), "each run says which accelerator it used");
      const crash = byName.get("crash")?.outcome;
      assert.equal(crash?.kind, "crash");
      assert.match(crash.kind === "crash" ? crash.crash.title : "", /sysrq triggered crash/);
      assert.equal(byName.get("clean")?.outcome.kind, "ok");
      assert.equal(byName.get("c")?.outcome.kind, "ok");
      assert.match(built.join("\n"), /^building reproducer .*repro\.c with /);
      assert.equal(byName.get("broken-init")?.outcome.kind, "boot-failed");
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
