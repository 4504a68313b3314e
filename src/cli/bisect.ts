// `culprit bisect [JOB.yaml] [flags]` and `culprit bisect --resume DIR`.

import { writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { basename, isAbsolute, join, resolve } from "node:path";
import { Command, Option } from "commander";
import { UserError } from "../core/errors.js";
import { readJobFile, type FieldOrigin } from "../bisect/config.js";
import { checkOutputFile, prepareJob, resumeJob, type PreparedJob, type ResumeChange } from "../bisect/job.js";
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

function wholeNumber(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${flag} must be a whole number ≥ 1, got '${value}'`, "see culprit bisect --help");
  return n;
}

/** Each flag and the job field it sets. `resumable` flags may be given with --resume: they change
 *  how long or how parallel the remaining work is, never what was observed or how it is read. */
interface FlagField {
  flag: keyof BisectFlags;
  name: string;
  path: string;
  value?: (text: string) => unknown;
  resumable?: boolean;
}

const FLAG_FIELDS: FlagField[] = [
  { flag: "repo", name: "--repo", path: "repo", value: (v) => resolve(v) },
  { flag: "kind", name: "--kind", path: "kind" },
  { flag: "start", name: "--start", path: "start" },
  { flag: "good", name: "--good", path: "good" },
  { flag: "oldest", name: "--oldest", path: "oldest" },
  { flag: "end", name: "--end", path: "end" },
  { flag: "crash", name: "--crash", path: "crash" },
  { flag: "maintainers", name: "--maintainers", path: "maintainers" },
  { flag: "strategy", name: "--strategy", path: "strategy" },
  { flag: "workDir", name: "--work-dir", path: "workDir", value: (v) => resolve(v) },
  { flag: "cacheDir", name: "--cache-dir", path: "cacheDir", value: (v) => resolve(v) },
  { flag: "runs", name: "--runs", path: "runs", value: (v) => wholeNumber("--runs", v) },
  { flag: "startRuns", name: "--start-runs", path: "startRuns", value: (v) => wholeNumber("--start-runs", v) },
  { flag: "jobs", name: "--jobs", path: "parallelism.runs", value: (v) => wholeNumber("--jobs", v), resumable: true },
  { flag: "commits", name: "--commits", path: "parallelism.commits", value: (v) => wholeNumber("--commits", v), resumable: true },
  { flag: "build", name: "--build", path: "build.command" },
  { flag: "artifact", name: "--artifact", path: "build.artifacts" },
  { flag: "compiler", name: "--compiler", path: "build.compiler" },
  { flag: "buildTimeout", name: "--build-timeout", path: "build.timeout", resumable: true },
  { flag: "repro", name: "--repro", path: "reproducer.command" },
  { flag: "runTimeout", name: "--run-timeout", path: "reproducer.timeout", resumable: true },
  { flag: "exitStatus", name: "--exit-status", path: "reproducer.exitStatus" },
];

function given(flags: BisectFlags): FlagField[] {
  return FLAG_FIELDS.filter((f) => flags[f.flag] !== undefined);
}

/** Sets a dotted field, copying the sections on the way so the caller's object is untouched. */
function setField(job: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let at = job;
  for (const key of keys.slice(0, -1)) {
    const current = at[key];
    const copy = current && typeof current === "object" && !Array.isArray(current) ? { ...(current as Record<string, unknown>) } : {};
    at[key] = copy;
    at = copy;
  }
  at[keys.at(-1) as string] = value;
}

/** Flags override the job file, field by field; `origin` says which flag set a field, for error messages. */
export function applyFlags(fields: Record<string, unknown>, flags: BisectFlags): { fields: Record<string, unknown>; origin: FieldOrigin } {
  const job = { ...fields };
  const set = given(flags);
  for (const f of set) {
    const text = flags[f.flag] as string | string[];
    setField(job, f.path, f.value && typeof text === "string" ? f.value(text) : text);
  }
  const byPath = new Map(set.map((f) => [f.path, f.name]));
  return { fields: job, origin: (path) => byPath.get(path) };
}

/** On --resume, only flags that cannot change what was recorded; the others are refused, all named in one line. */
export function resumeChanges(flags: BisectFlags, dir: string): ResumeChange[] {
  const set = given(flags);
  const refused = set.filter((f) => !f.resumable).map((f) => f.name);
  if (refused.length > 0) {
    const names = refused.length === 1 ? refused[0] : `${refused.slice(0, -1).join(", ")} and ${refused.at(-1)}`;
    throw new UserError(
      `${names} cannot change a recorded bisection`,
      `resume ${dir} without ${refused.length === 1 ? "it" : "them"} (only --run-timeout, --build-timeout, --jobs and --commits may change), or start a new bisection`,
    );
  }
  return set.map((f) => {
    const text = flags[f.flag] as string;
    return { path: f.path, flag: f.name, value: f.value ? f.value(text) : text };
  });
}

/** Outside the repository, so a bisection never leaves files in the user's checkout. */
export function defaultWorkDir(repo: string, env: NodeJS.ProcessEnv = process.env): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  const cacheHome = env["XDG_CACHE_HOME"] && isAbsolute(env["XDG_CACHE_HOME"]) ? env["XDG_CACHE_HOME"] : join(homedir(), ".cache");
  return join(cacheHome, "culprit", `${basename(resolve(repo)) || "repo"}-${stamp}`);
}

export async function bisectCommand(jobFile: string | undefined, flags: BisectFlags): Promise<void> {
  let prepared: PreparedJob;
  // Every output path is checked before the first build: a mistake must not cost a bisection.
  if (flags.json) checkOutputFile(flags.json, "--json");
  if (flags.resume) {
    prepared = await resumeJob(flags.resume, resumeChanges(flags, flags.resume));
  } else {
    const { fields: fromFile, baseDir } = jobFile ? readJobFile(jobFile) : { fields: {}, baseDir: process.cwd() };
    const { fields, origin } = applyFlags(fromFile, flags);
    const repo = typeof fields["repo"] === "string" ? fields["repo"] : baseDir;
    prepared = await prepareJob(fields, baseDir, defaultWorkDir(repo), origin);
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
  // Said once the work dir is ours (the first event comes after its lock): a resume turned away
  // because another process holds it prints that one line only.
  let announced = output.quiet;
  try {
    const result = await runBisection(spec, deps, {
      signal: controller.signal,
      onEvent: (event, log) => {
        if (!announced) {
          announced = true;
          process.stderr.write(`culprit: work dir ${spec.workDir}\n`);
        }
        const lines = view.lines(event);
        progress?.clear();
        if (!output.quiet && lines.length > 0) process.stdout.write(lines.map((l) => `${l}\n`).join(""));
        progress?.update(event, log.events);
        // What a resume changed is a fact of the bisection: recorded right after it restarts.
        if (event.type === "started") for (const text of prepared.changes ?? []) log.record({ type: "note", at: Date.now(), note: { kind: "info", text } });
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
    .option("--start-runs <n>", "runs on the start commit (default 20): syzbot runs this many; culprit runs batches of --runs until the crash to bisect is clear, picks it by this many, and gives up after 3× with no crash")
    .option("--jobs <n>", "runs at once (default 4)")
    .option("--commits <n>", "commits tested at once (default 1)")
    .addOption(new Option("--strategy <name>", "search strategy").choices(["culprit", "syzbot"]))
    .option("--work-dir <dir>", "where logs, events and checkouts go (default $XDG_CACHE_HOME/culprit/REPO-TIME, else ~/.cache/culprit/REPO-TIME)")
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
    .option("--resume <dir>", "continue the bisection in this work dir (with only --run-timeout, --build-timeout, --jobs, --commits changed)")
    .option("-q, --quiet", "print nothing but errors")
    .action(async (job: string | undefined, flags: BisectFlags) => {
      if (flags.resume && job) throw new UserError("give either a job file or --resume DIR, not both");
      await bisectCommand(job, flags);
    });
}
