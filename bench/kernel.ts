// bench:kernel — a real kernel bisection on this machine. From Debian's linux-source-6.1 it makes
// a repository whose first commit is that tree (tagged v6.1) and whose next 60 commits are the
// bench's own: code edits that change the image but not behaviour, comment-only and
// documentation edits (same signature), a stretch that does not build, and one commit planting a
// WARN_ON reachable from prctl(). Then it runs a full cause bisection with the kernel builder and
// the QEMU runner, and checks that the planted commit is named.
//
// Not in CI: the first kernel build alone takes minutes. The prepared repository is reused
// between runs (CULPRIT_BENCH_DIR, default $TMPDIR/culprit-bench-kernel); builds are not.

import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { appendFile, copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Builder, BuildRequest, BuildResult } from "../src/build/builder.js";
import { applyConfigEdits, type ConfigEdit, type KernelBuilder } from "../src/build/kernel.js";
import { createLinuxTarget, parseLinuxTarget } from "../src/targets/linux/target.js";
import { LogView } from "../src/bisect/logview.js";
import { runBisection, type BisectSpec } from "../src/bisect/orchestrator.js";
import { strategies } from "../src/bisect/job.js";
import { goDuration } from "../src/core/duration.js";
import { describeRun } from "../src/core/outcome.js";
import { execLogged } from "../src/run/exec.js";
import type { Runner } from "../src/run/runner.js";
import { parse, parseAll, sameCrash } from "../src/report/index.js";
import { throughQueue } from "./kernelQueue.js";
import { median } from "./median.js";

const TARBALL = "/usr/src/linux-source-6.1.tar.xz";
const WORK = process.env["CULPRIT_BENCH_DIR"] ?? join(tmpdir(), "culprit-bench-kernel");
const REPO = join(WORK, "linux");
/** Bump when the generated history changes, so an old prepared repository is rebuilt. */
const HISTORY_VERSION = 1;
const PRCTL_MAGIC = "0x43554c50";

const REQUIRED = [
  ["make", "make"],
  ["gcc", "gcc"],
  ["flex", "flex"],
  ["bison", "bison"],
  ["bc", "bc"],
  ["ccache", "ccache"],
  ["qemu-system-x86_64", "qemu-system-x86"],
  ["xz", "xz-utils"],
] as const;

function run(cwd: string, argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(argv[0] as string, argv.slice(1), { cwd, env, maxBuffer: 256 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${argv.join(" ")} failed: ${stderr.split("\n").slice(-5).join("\n")}`)) : resolve(stdout),
    );
  });
}

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "Bench Author",
  GIT_AUTHOR_EMAIL: "bench@example.org",
  GIT_COMMITTER_NAME: "Bench Author",
  GIT_COMMITTER_EMAIL: "bench@example.org",
};
const git = (...args: string[]): Promise<string> => run(REPO, ["git", ...args], gitEnv);

function missingTools(): string[] {
  const missing: string[] = [];
  for (const [tool, pkg] of REQUIRED) {
    try {
      execFileSync("which", [tool], { stdio: "ignore" });
    } catch {
      missing.push(pkg);
    }
  }
  if (!existsSync(TARBALL)) missing.push("linux-source-6.1");
  if (!existsSync("/bin/busybox")) missing.push("busybox-static");
  for (const header of ["/usr/include/libelf.h", "/usr/include/openssl/ssl.h"]) {
    if (!existsSync(header)) missing.push(header.includes("elf") ? "libelf-dev" : "libssl-dev");
  }
  return missing;
}

/** Files every x86-64 kernel compiles, whatever the config. */
const BUILT = [
  "kernel/fork.c",
  "kernel/exit.c",
  "kernel/signal.c",
  "kernel/panic.c",
  "kernel/printk/printk.c",
  "kernel/time/timer.c",
  "mm/page_alloc.c",
  "mm/mmap.c",
  "fs/namei.c",
  "fs/open.c",
  "fs/read_write.c",
  "fs/exec.c",
  "lib/string.c",
  "init/main.c",
];
const DOCS = ["Documentation/admin-guide/README.rst", "Documentation/process/howto.rst", "README"];

type Edit =
  | { kind: "code"; file: string }
  | { kind: "comment"; file: string }
  | { kind: "docs"; file: string }
  | { kind: "break" }
  | { kind: "unbreak" }
  | { kind: "bug" };

/** The 60 commits after v6.1, in order. Fixed, so every run of the bench bisects the same history. */
function history(): Edit[] {
  const edits: Edit[] = [];
  for (let i = 1; i <= 60; i++) {
    const file = BUILT[(i * 5) % BUILT.length] as string;
    if (i === 20) edits.push({ kind: "break" });
    else if (i === 23) edits.push({ kind: "unbreak" });
    else if (i === 41) edits.push({ kind: "bug" });
    else if (i % 7 === 0 || i === 40 || i === 42) edits.push({ kind: "comment", file });
    else if (i % 5 === 0) edits.push({ kind: "docs", file: DOCS[i % DOCS.length] as string });
    else edits.push({ kind: "code", file });
  }
  return edits;
}

async function applyEdit(edit: Edit, n: number): Promise<string> {
  const append = async (file: string, text: string): Promise<void> => appendFile(join(REPO, file), text);
  switch (edit.kind) {
    case "code":
      // Changes .rodata, so the image and its signature change; nothing reads it.
      await append(edit.file, `\nconst char culprit_bench_note_${n}[] = "bench edit ${n}";\n`);
      return `${edit.file.split("/").at(-2) ?? "core"}: add bench note ${n}`;
    case "comment":
      await append(edit.file, `\n/* culprit bench: comment-only edit ${n} */\n`);
      return `${edit.file.split("/").at(-2) ?? "core"}: comment-only edit ${n}`;
    case "docs":
      await append(edit.file, `\nBench documentation edit ${n}.\n`);
      return `docs: edit ${n}`;
    case "break":
      await append("kernel/panic.c", "\n#error culprit bench: this commit does not build\n");
      return "panic: a change that breaks the build";
    case "unbreak": {
      const path = join(REPO, "kernel/panic.c");
      const text = await readFile(path, "utf8");
      await writeFile(path, text.replace("\n#error culprit bench: this commit does not build\n", "\n"));
      return "panic: fix the build";
    }
    case "bug": {
      const path = join(REPO, "kernel/sys.c");
      const text = await readFile(path, "utf8");
      const anchor = "\terror = security_task_prctl(option, arg2, arg3, arg4, arg5);\n";
      if (!text.includes(anchor)) throw new Error("kernel/sys.c has changed: cannot plant the bug");
      await writeFile(path, text.replace(anchor, `\tif (option == ${PRCTL_MAGIC})\n\t\tWARN_ON(arg2 == 0);\n${anchor}`));
      return "sys: validate a new prctl option";
    }
  }
}

interface Prepared {
  version: number;
  planted: string;
  start: string;
}

async function prepareRepo(): Promise<Prepared> {
  const marker = join(WORK, "prepared.json");
  if (existsSync(marker)) {
    const prepared = JSON.parse(await readFile(marker, "utf8")) as Prepared;
    if (prepared.version === HISTORY_VERSION && existsSync(join(REPO, ".git"))) {
      console.log(`reusing the prepared repository ${REPO}`);
      return prepared;
    }
  }
  await rm(REPO, { recursive: true, force: true });
  await mkdir(WORK, { recursive: true });
  let t = performance.now();
  console.log(`extracting ${TARBALL} …`);
  await run(WORK, ["tar", "-xJf", TARBALL, "-C", WORK]);
  await run(WORK, ["mv", join(WORK, "linux-source-6.1"), REPO]);
  console.log(`  ${goDuration(performance.now() - t)}`);
  t = performance.now();
  console.log("committing the tree …");
  // Debian's package adds "ignore everything at the top level" to .gitignore; the kernel's own rules stay.
  const ignore = join(REPO, ".gitignore");
  await writeFile(ignore, (await readFile(ignore, "utf8")).replace(/^\/\*\n!\/debian\/\n/m, ""));
  await git("init", "-q");
  // An automatic gc of a kernel-size repository would eat the cores the builds need.
  await git("config", "gc.auto", "0");
  await git("add", "-A");
  await git("commit", "-q", "-m", "Linux 6.1 (Debian linux-source-6.1)");
  await git("tag", "v6.1");
  console.log(`  ${goDuration(performance.now() - t)}`);
  let planted = "";
  const edits = history();
  for (const [i, edit] of edits.entries()) {
    const title = await applyEdit(edit, i + 1);
    await git("commit", "-q", "-a", "-m", title);
    if (edit.kind === "bug") planted = (await git("rev-parse", "HEAD")).trim();
  }
  const prepared = { version: HISTORY_VERSION, planted, start: (await git("rev-parse", "HEAD")).trim() };
  await writeFile(marker, JSON.stringify(prepared));
  return prepared;
}

/** tinyconfig plus what booting culprit's initramfs and seeing a WARNING needs. */
const CONFIG_EDITS: ConfigEdit[] = [
  "64BIT", "PRINTK", "PRINTK_TIME", "EARLY_PRINTK", "TTY", "SERIAL_8250", "SERIAL_8250_CONSOLE",
  "BLK_DEV_INITRD", "BINFMT_ELF", "BINFMT_SCRIPT", "DEVTMPFS", "SHMEM", "TMPFS", "PROC_FS", "SYSFS",
  "KALLSYMS", "BUG", "DEBUG_KERNEL", "DEBUG_BUGVERBOSE", "FUTEX", "MULTIUSER", "POSIX_TIMERS",
].map((symbol) => ({ symbol, value: "y" }));

async function makeConfig(): Promise<string> {
  const path = join(WORK, "bench.config");
  const scratch = join(WORK, "config-scratch");
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  // Out of tree, so the repository stays clean.
  await run(REPO, ["make", `O=${scratch}`, "tinyconfig"]);
  const tiny = await readFile(join(scratch, ".config"), "utf8");
  await writeFile(join(scratch, ".config"), applyConfigEdits(tiny, CONFIG_EDITS));
  await run(REPO, ["make", `O=${scratch}`, "olddefconfig"]);
  const final = await readFile(join(scratch, ".config"), "utf8");
  const lost = CONFIG_EDITS.filter((e) => !final.includes(`CONFIG_${e.symbol}=y`)).map((e) => e.symbol);
  if (lost.length > 0) throw new Error(`olddefconfig dropped ${lost.join(", ")}: the bench config needs them`);
  await writeFile(path, final);
  await rm(scratch, { recursive: true, force: true });
  return path;
}

interface CcacheStats {
  hits: number;
  misses: number;
}

async function ccacheStats(): Promise<CcacheStats> {
  const out = await run(WORK, ["ccache", "--print-stats"]);
  const value = (key: string): number => Number(new RegExp(`^${key}\\t(\\d+)$`, "m").exec(out)?.[1] ?? 0);
  return { hits: value("direct_cache_hit") + value("preprocessed_cache_hit"), misses: value("cache_miss") };
}

interface BuildFigures {
  commit: string;
  /** The checkout it ran in: consecutive builds in one checkout are incremental. */
  worktree: string;
  ms: number;
  ok: boolean;
  hits: number;
  misses: number;
  /** Objects make compiled (its "CC"/"AS" lines naming a .o). */
  objects: string[];
}

/** Objects a kernel build log says make compiled or assembled (quiet Kbuild: "  CC      kernel/fork.o"). */
function compiledObjects(log: string): string[] {
  return [...log.matchAll(/^ {2}(?:CC|AS)(?: \[M\])? +(\S+\.o)$/gm)].map((m) => m[1] as string);
}

/** Where the bench keeps the object lists of each build, for finding out why one recompiled more. */
const OBJECTS = join(WORK, "objects");

/** Wraps the kernel builder to count ccache hits and misses and the objects compiled per build. */
class MeasuredBuilder implements Builder {
  readonly builds: BuildFigures[] = [];
  constructor(private readonly inner: Builder) {}
  toolchain(commit: string): Promise<string> {
    return this.inner.toolchain(commit);
  }
  configHash(remedies: readonly string[]): string {
    return this.inner.configHash(remedies);
  }
  async build(request: BuildRequest): Promise<BuildResult> {
    const before = await ccacheStats();
    const result = await this.inner.build(request);
    const after = await ccacheStats();
    const objects = compiledObjects(await readFile(request.logFile, "utf8").catch(() => ""));
    // The .config culprit built with, for the plain make to start from.
    if (this.builds.length === 0) await copyFile(join(request.worktree, ".config"), join(WORK, "plain.config"));
    await mkdir(OBJECTS, { recursive: true });
    await writeFile(join(OBJECTS, `culprit-${this.builds.length}-${request.commit.slice(0, 12)}.txt`), objects.join("\n"));
    this.builds.push({
      commit: request.commit,
      worktree: request.worktree,
      ms: result.durationMs,
      ok: result.kind === "ok",
      hits: after.hits - before.hits,
      misses: after.misses - before.misses,
      objects,
    });
    return result;
  }
}

const REPRODUCER = `// culprit bench: the prctl() the planted commit turns into a WARNING.
#include <stdio.h>
#include <sys/prctl.h>

int main(void)
{
	int ret = prctl(${PRCTL_MAGIC}, 0, 0, 0, 0);
	printf("prctl returned %d\\n", ret);
	return 0;
}
`;

async function main(): Promise<number> {
  const missing = missingTools();
  if (missing.length > 0) {
    console.error(`bench:kernel needs these Debian packages: apt-get install ${[...new Set(missing)].join(" ")}`);
    return 2;
  }
  const wall = performance.now();
  const prepared = await prepareRepo();
  const configPath = await makeConfig();
  await writeFile(join(WORK, "repro.c"), REPRODUCER);

  const ccacheDir = join(WORK, "ccache");
  const queue = process.argv.includes("--queue");
  // A cold, private ccache: the first build shows what a compile costs without it. --queue
  // compares two bisections of the same commits; both find it as earlier runs left it.
  if (!queue) await rm(ccacheDir, { recursive: true, force: true });
  process.env["CCACHE_DIR"] = ccacheDir;
  process.env["CCACHE_MAXSIZE"] = "5G";
  const section = {
    kind: "linux",
    config: configPath,
    ccache: true,
    reproducer: { path: join(WORK, "repro.c") },
    vm: { memory: 256, cpus: 1, count: 2 },
    timeouts: { build: "40m", boot: "60s", noOutput: "60s", run: "120s" },
  };
  if (queue) {
    // The same bisection as below, as a job: the same start, runs and seed.
    const fields = { repo: REPO, start: prepared.start, target: section, runs: 6, startRuns: 8, parallelism: { commits: 1, runs: 2 }, seed: 1 };
    return throughQueue({ work: WORK, fields, planted: prepared.planted }, process.argv.includes("--split"));
  }
  const jobDir = join(WORK, "job");
  const cacheDir = join(WORK, "build-cache");
  await rm(OBJECTS, { recursive: true, force: true });
  await rm(jobDir, { recursive: true, force: true });
  await rm(cacheDir, { recursive: true, force: true });

  const target = parseLinuxTarget(section);
  const parts = await createLinuxTarget(target, {
    repoDir: REPO,
    baseDir: WORK,
    workDir: join(WORK, "target"),
    parse: parseAll,
    log: (line) => console.log(line),
  });
  const builder = new MeasuredBuilder(parts.builder);
  if (process.argv.includes("--smoke")) return smoke(builder, parts.runner, prepared);
  const spec: BisectSpec = {
    repoDir: REPO,
    kind: "cause",
    start: prepared.start,
    runs: 6,
    startRuns: 8,
    parallelCommits: 1,
    parallelRuns: 2,
    runTimeoutMs: parts.runTimeoutMs,
    // Incremental builds: make recompiles only what the checkout changed.
    cleanCheckouts: false,
    workDir: jobDir,
    cacheDir,
    seed: 1,
  };
  console.log(`accelerator: ${parts.accel}; bisection log follows`);
  const view = new LogView();
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  const result = await runBisection(
    spec,
    {
      builder,
      runner: parts.runner,
      strategy: strategies.culprit,
      parse,
      sameCrash,
      signatureLabel: parts.signatureLabel,
      maintainers: parts.maintainers,
    },
    { signal: controller.signal, onEvent: (event) => view.lines(event).forEach((l) => console.log(l)) },
  );
  // The log view prints the result itself, on the "finished" event.

  const wallMs = performance.now() - wall;
  const found = result.culprit?.hash === prepared.planted;
  const cold = builder.builds[0];
  const hits = builder.builds.reduce((s, b) => s + b.hits, 0);
  const misses = builder.builds.reduce((s, b) => s + b.misses, 0);
  const buildMs = builder.builds.reduce((s, b) => s + b.ms, 0);
  // Estimate: a hit saves what a miss costs in the cold first build (an upper bound: that
  // build's time includes linking, which every build pays).
  const missMs = cold && cold.misses > 0 ? cold.ms / cold.misses : 0;
  const savedMs = hits * missMs;
  console.log("");
  console.log(`bench:kernel: ${found ? "named the planted commit" : "DID NOT name the planted commit"} ${prepared.planted}`);
  console.log(`  outcome: ${result.outcome}, confidence ${(result.confidence * 100).toFixed(1)}%, accelerator ${parts.accel}`);
  console.log(`  revisions tested: ${result.revisionsTested}, builds: ${result.builds} (${result.cachedBuilds} from the build cache), runs: ${result.runs}`);
  console.log(`  wall time: ${goDuration(wallMs)} (bisection: ${goDuration(result.time.totalMs)}, build: ${goDuration(result.time.buildMs)}, test: ${goDuration(result.time.testMs)})`);
  for (const b of builder.builds) {
    console.log(`  build ${b.commit.slice(0, 12)}: ${goDuration(b.ms)} ${b.ok ? "ok" : "failed"}, ${b.objects.length} objects compiled, ccache ${b.hits} hits / ${b.misses} misses`);
  }
  const share = buildMs + savedMs > 0 ? (100 * savedMs) / (buildMs + savedMs) : 0;
  console.log(`  ccache: ${hits} hits, ${misses} misses; build time saved ≈ ${goDuration(savedMs)} = ${share.toFixed(0)}% of the build time it would have taken (estimate: hits × cold-build time per miss)`);
  await compareWithPlainMake(parts.builder, builder.builds);
  return found ? 0 : 1;
}

/**
 * Replays culprit's builds, in the same order, in a fresh checkout with nothing but `git
 * checkout` and a plain `make` with the builder's own flags: what make alone recompiles
 * between the same commits. Culprit's incremental builds (each after a build in the same
 * checkout) are then set beside the plain ones, time and objects.
 */
async function compareWithPlainMake(kernel: KernelBuilder, builds: readonly BuildFigures[]): Promise<void> {
  const incremental = builds.flatMap((b, i) => (i > 0 && builds[i - 1]?.worktree === b.worktree ? [i] : []));
  if (incremental.length === 0) {
    console.log("  plain make: culprit made no incremental build to compare with");
    return;
  }
  const tree = join(WORK, "plain");
  const logs = join(WORK, "plain-logs");
  await run(REPO, ["git", "worktree", "remove", "--force", tree]).catch(() => "");
  await rm(tree, { recursive: true, force: true });
  await rm(logs, { recursive: true, force: true });
  await mkdir(logs, { recursive: true });
  const started = performance.now();
  const plain: { ms: number; objects: string[] }[] = [];
  try {
    for (const [i, b] of builds.entries()) {
      if (i === 0) {
        await git("worktree", "add", "--detach", "--force", tree, b.commit);
        await copyFile(join(WORK, "plain.config"), join(tree, ".config"));
      } else {
        await git("-C", tree, "checkout", "--detach", "--force", "--quiet", b.commit);
      }
      const { build, env } = await kernel.makeCommand(b.commit, tree);
      const logFile = join(logs, `${i}-${b.commit.slice(0, 12)}.log`);
      const t = performance.now();
      const made = await execLogged(build, { cwd: tree, env, timeoutMs: 40 * 60_000, logFile });
      const ms = performance.now() - t;
      if (made.kind === "spawn-error") throw new Error(`cannot run make: ${made.message}`);
      const objects = compiledObjects(await readFile(logFile, "utf8"));
      await writeFile(join(OBJECTS, `plain-${i}-${b.commit.slice(0, 12)}.txt`), objects.join("\n"));
      plain.push({ ms, objects });
    }
  } finally {
    await rm(tree, { recursive: true, force: true });
    await git("worktree", "prune").catch(() => "");
  }
  console.log(`  plain make of the same ${builds.length} commits in the same order, in a fresh checkout (${goDuration(performance.now() - started)}, first build cold with the warm ccache):`);
  for (const i of incremental) {
    const b = builds[i] as BuildFigures;
    const p = plain[i] as { ms: number; objects: string[] };
    console.log(`    ${(builds[i - 1] as BuildFigures).commit.slice(0, 12)} → ${b.commit.slice(0, 12)}: culprit ${goDuration(b.ms)}, ${b.objects.length} objects; plain make ${goDuration(p.ms)}, ${p.objects.length} objects`);
  }
  const seconds = (ms: number): string => (ms / 1000).toFixed(1);
  const culpritMs = median(incremental.map((i) => (builds[i] as BuildFigures).ms));
  const plainMs = median(incremental.map((i) => (plain[i] as { ms: number }).ms));
  const culpritObjects = median(incremental.map((i) => (builds[i] as BuildFigures).objects.length));
  const plainObjects = median(incremental.map((i) => (plain[i] as { objects: string[] }).objects.length));
  console.log(
    `  incremental builds (${incremental.length}), median: culprit ${seconds(culpritMs)} s, ${culpritObjects} objects; plain make ${seconds(plainMs)} s, ${plainObjects} objects; ratio ${(culpritMs / plainMs).toFixed(2)}`,
  );
  console.log(`  object lists: ${OBJECTS}`);
}

/** `--smoke`: build the start commit once and boot it once, to check the config before a full run. */
async function smoke(builder: MeasuredBuilder, runner: Runner, prepared: Prepared): Promise<number> {
  const tree = join(WORK, "smoke");
  await run(REPO, ["git", "worktree", "remove", "--force", tree]).catch(() => "");
  await rm(tree, { recursive: true, force: true });
  await git("worktree", "add", "--detach", "--force", tree, prepared.start);
  try {
    const artifactsDir = join(WORK, "smoke-artifacts");
    await rm(artifactsDir, { recursive: true, force: true });
    const built = await builder.build({
      commit: prepared.start,
      worktree: tree,
      remedies: [],
      artifactsDir,
      logFile: join(WORK, "smoke-build.log"),
      signal: new AbortController().signal,
    });
    console.log(`smoke build: ${built.kind} in ${goDuration(built.durationMs)}${built.kind === "failed" ? `\n${built.excerpt}` : ""}`);
    if (built.kind !== "ok") return 1;
    const [result] = await runner.run({
      commit: prepared.start,
      artifactsDir,
      indices: [0],
      parallel: 1,
      timeoutMs: 120_000,
      logDir: join(WORK, "smoke-logs"),
      signal: new AbortController().signal,
    });
    console.log(`smoke run: ${result ? describeRun(result.outcome) : "none"} in ${goDuration(result?.durationMs ?? 0)} (log: ${result?.logFile})`);
    return result?.outcome.kind === "crash" ? 0 : 1;
  } finally {
    await run(REPO, ["git", "worktree", "remove", "--force", tree]).catch(() => "");
  }
}

process.exitCode = await main();
