// `culprit bisect [JOB.yaml] [flags]` and `culprit bisect --resume DIR`.

import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command, Option } from "commander";
import { UserError } from "../core/errors.js";
import { readJobFile } from "../bisect/config.js";
import { prepareJob, resumeJob, type PreparedJob } from "../bisect/job.js";
import { LogView } from "../bisect/logview.js";
import { Interrupted, runBisection } from "../bisect/orchestrator.js";
import { Progress } from "../bisect/progress.js";
import type { BisectResult } from "../bisect/result.js";
import { killAllGroups } from "../run/exec.js";

interface BisectFlags {
  repo?: string;
  kind?: string;
  start?: string;
  good?: string;
  oldest?: string;
  end?: string;
  crash?: string;
  maintainers?: string;
  build?: string;
  artifact?: string[];
  compiler?: string;
  repro?: string;
  runs?: string;
  startRuns?: string;
  jobs?: string;
  commits?: string;
  strategy?: string;
  workDir?: string;
  cacheDir?: string;
  buildTimeout?: string;
  runTimeout?: string;
  exitStatus?: string;
  json?: string;
  resume?: string;
  quiet?: boolean;
}

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${flag} needs a whole number ≥ 1, not "${value}"`);
  return n;
}

/** Flags override the job file, field by field. */
export function applyFlags(fields: Record<string, unknown>, flags: BisectFlags): Record<string, unknown> {
  const job = { ...fields };
  const section = (name: string): Record<string, unknown> => {
    const current = job[name];
    const copy = current && typeof current === "object" && !Array.isArray(current) ? { ...(current as Record<string, unknown>) } : {};
    job[name] = copy;
    return copy;
  };
  if (flags.repo) job["repo"] = resolve(flags.repo);
  if (flags.kind) job["kind"] = flags.kind;
  if (flags.start) job["start"] = flags.start;
  if (flags.good) job["good"] = flags.good;
  if (flags.oldest) job["oldest"] = flags.oldest;
  if (flags.end) job["end"] = flags.end;
  if (flags.crash) job["crash"] = flags.crash;
  if (flags.maintainers) job["maintainers"] = flags.maintainers;
  if (flags.strategy) job["strategy"] = flags.strategy;
  if (flags.workDir) job["workDir"] = resolve(flags.workDir);
  if (flags.cacheDir) job["cacheDir"] = resolve(flags.cacheDir);
  if (flags.runs) job["runs"] = positiveInt("--runs", flags.runs);
  if (flags.startRuns) job["startRuns"] = positiveInt("--start-runs", flags.startRuns);
  if (flags.jobs || flags.commits) {
    const parallelism = section("parallelism");
    if (flags.jobs) parallelism["runs"] = positiveInt("--jobs", flags.jobs);
    if (flags.commits) parallelism["commits"] = positiveInt("--commits", flags.commits);
  }
  if (flags.build || flags.artifact || flags.compiler || flags.buildTimeout) {
    const build = section("build");
    if (flags.build) build["command"] = flags.build;
    if (flags.artifact) build["artifacts"] = flags.artifact;
    if (flags.compiler) build["compiler"] = flags.compiler;
    if (flags.buildTimeout) build["timeout"] = flags.buildTimeout;
  }
  if (flags.repro || flags.runTimeout || flags.exitStatus) {
    const reproducer = section("reproducer");
    if (flags.repro) reproducer["command"] = flags.repro;
    if (flags.runTimeout) reproducer["timeout"] = flags.runTimeout;
    if (flags.exitStatus) reproducer["exitStatus"] = flags.exitStatus;
  }
  return job;
}

function defaultWorkDir(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  return resolve(".culprit", `bisect-${stamp}`);
}

export async function bisectCommand(jobFile: string | undefined, flags: BisectFlags): Promise<void> {
  let prepared: PreparedJob;
  if (flags.resume) {
    prepared = await resumeJob(flags.resume);
  } else {
    const { fields, baseDir } = jobFile ? readJobFile(jobFile) : { fields: {}, baseDir: process.cwd() };
    prepared = await prepareJob(applyFlags(fields, flags), baseDir, defaultWorkDir());
  }
  const result = await execute(prepared, { quiet: flags.quiet ?? false, ...(flags.json ? { json: flags.json } : {}) });
  process.exitCode = result.outcome === "culprit" ? 0 : 1;
}

/** Runs a prepared bisection with the log on stdout, progress on a TTY's stderr, Ctrl-C handled. */
export async function execute(prepared: PreparedJob, output: { quiet: boolean; json?: string }): Promise<BisectResult> {
  const { spec, deps } = prepared;
  const resumeHint = `culprit bisect --resume ${spec.workDir}`;
  const view = new LogView(resumeHint);
  const progress = process.stderr.isTTY && !output.quiet ? new Progress(process.stderr) : undefined;
  const controller = new AbortController();
  const interrupt = (): void => {
    controller.abort();
    killAllGroups();
  };
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", interrupt);
  if (!output.quiet) process.stderr.write(`culprit: work dir ${spec.workDir}\n`);
  try {
    const result = await runBisection(spec, deps, {
      signal: controller.signal,
      onEvent: (event, log) => {
        const lines = view.lines(event);
        progress?.clear();
        if (!output.quiet && lines.length > 0) process.stdout.write(lines.map((l) => `${l}\n`).join(""));
        progress?.update(event, log.events);
      },
    });
    progress?.stop();
    if (output.json) writeFileSync(output.json, JSON.stringify(result, null, 2) + "\n");
    writeFileSync(join(spec.workDir, "result.json"), JSON.stringify(result, null, 2) + "\n");
    return result;
  } catch (err) {
    progress?.stop();
    if (err instanceof Interrupted) {
      throw new UserError("interrupted", `continue with: ${resumeHint}`, 130);
    }
    throw err;
  } finally {
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
  }
}

export function registerBisect(program: Command): void {
  program
    .command("bisect")
    .description("find the commit that introduced (cause) or fixed (fix) a crash")
    .argument("[job]", "YAML job file (flags override its fields)")
    .option("--repo <dir>", "the git repository")
    .addOption(new Option("--kind <kind>", "cause or fix bisection").choices(["cause", "fix"]))
    .option("--start <rev>", "cause: the crashing commit; fix: the old crashing commit")
    .option("--good <rev>", "cause: a known good ancestor (default: newest good release tag)")
    .option("--oldest <rev>", "cause, without --good: never search older than this commit (default: the first commit)")
    .option("--end <rev>", "fix: the newest commit to consider (default HEAD)")
    .option("--crash <title>", "title of the crash to bisect (default: the start commit's most frequent)")
    .addOption(new Option("--maintainers <source>", "recipients from the MAINTAINERS file or the tree's scripts/get_maintainer.pl").choices(["file", "script"]))
    .option("--build <command>", "build command, split on spaces (use the job file for an argv list)")
    .option("--artifact <path...>", "build outputs, relative to the checkout")
    .option("--compiler <cc>", "compiler whose identity keys the build cache (default gcc)")
    .option("--repro <command>", "reproducer command, run in the artifacts directory")
    .option("--runs <n>", "runs per commit (default 10)")
    .option("--start-runs <n>", "runs on the start commit (default 20)")
    .option("--jobs <n>", "runs at once (default 4)")
    .option("--commits <n>", "commits tested at once (default 1)")
    .addOption(new Option("--strategy <name>", "search strategy").choices(["culprit", "syzbot"]))
    .option("--work-dir <dir>", "where logs, events and checkouts go (default .culprit/bisect-TIME)")
    .option("--cache-dir <dir>", "build cache (default WORK_DIR/cache)")
    .option("--build-timeout <duration>", "per build, e.g. 30m")
    .option("--run-timeout <duration>", "per reproducer run, e.g. 60s")
    .addOption(
      new Option("--exit-status <meaning>", "a non-zero exit without a crash report: the reproducer could not run (default), a crash, or OK").choices([
        "untestable",
        "crash",
        "ignore",
      ]),
    )
    .option("--json <file>", "write the result as JSON (schema: docs/result.md)")
    .option("--resume <dir>", "continue the bisection in this work dir")
    .option("-q, --quiet", "print nothing but errors")
    .action(async (job: string | undefined, flags: BisectFlags) => {
      if (flags.resume && job) throw new UserError("give either a job file or --resume DIR, not both");
      await bisectCommand(job, flags);
    });
}
