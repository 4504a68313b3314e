// From a validated job to what the orchestrator needs: the spec, the builder, the runner,
// the strategy. Checks here catch the user's mistakes before any build starts.

import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { delimiter, dirname, isAbsolute, join, normalize, relative, resolve, sep } from "node:path";
import { CommandBuilder } from "../build/command.js";
import { createLinuxTarget, parseLinuxTarget } from "../targets/linux/target.js";
import { pickReleases } from "../core/releasePick.js";
import { UserError } from "../core/errors.js";
import type { Strategy } from "../core/strategy.js";
import { syzbotStrategy } from "../core/syzbot.js";
import { bayesStrategy } from "../core/bayes.js";
import { withReproducerBoundary } from "../core/reproducer.js";
import { Repo } from "../git/git.js";
import { maintainersLookup } from "../recipients/maintainers.js";
import { crashOfTitle, crashSimilarity, parse, parseAll, sameCrash, type CrashConsole } from "../report/index.js";
import { ProcessRunner } from "../run/process.js";
import { goDuration } from "../core/duration.js";
import { validateJob, type FieldOrigin, type Job } from "./config.js";
import type { BisectDeps, BisectSpec } from "./orchestrator.js";

export const strategies: Record<Job["strategy"], Strategy> = {
  syzbot: syzbotStrategy,
  // Where a reproducer that older commits cannot run starts to run is an answer syzbot's rules do not give.
  culprit: withReproducerBoundary(bayesStrategy),
};

/** The job as it was validated, kept in the work dir so `--resume DIR` needs nothing else. */
export const JOB_FILE = "job.json";

export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves the reproducer's program: a declared artifact, a file beside the job, or on PATH. */
export function resolveReproducer(command: string[], artifacts: readonly string[], baseDir: string): string[] {
  const [program, ...args] = command as [string, ...string[]];
  const asArtifact = normalize(program);
  if (artifacts.some((a) => normalize(a) === asArtifact)) return [program.includes("/") ? program : `./${program}`, ...args];
  if (program.includes("/")) {
    const path = isAbsolute(program) ? program : resolve(baseDir, program);
    if (isExecutable(path)) return [path, ...args];
    throw new UserError(`reproducer not found: ${program}`, `it must be a build artifact, an executable file relative to ${baseDir}, or a program on PATH`);
  }
  if (findOnPath(program)) return command;
  throw new UserError(`reproducer not found: ${program}`, "install it, or give its path");
}

/** The build command must exist before a single commit is checked out. */
export async function checkBuildCommand(repo: Repo, start: string, command: readonly string[], baseDir: string): Promise<void> {
  const program = command[0] as string;
  if (!program.includes("/")) {
    if (findOnPath(program)) return;
    throw new UserError(`build command not found: ${program}`, "install it or put it on PATH");
  }
  if (isAbsolute(program) ? isExecutable(program) : isExecutable(resolve(baseDir, program))) return;
  // A script inside the repository is run from the checkout.
  if (!isAbsolute(program) && (await repo.fileAt(start, normalize(program))) !== undefined) return;
  throw new UserError(`build command not found: ${program}`, "give a program on PATH, an absolute path, or a path inside the repository");
}

/** A file culprit will write at the end (--json): its directory must exist and take files now. */
export function checkOutputFile(file: string, what: string): void {
  const path = resolve(file);
  const dir = dirname(path);
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    // Not there yet: it is written at the end.
  }
  if (isDir) throw new UserError(`${what} ${file} is a directory`, "give a file name");
  if (!existsSync(dir)) throw new UserError(`${what} ${file}: no such directory ${dir}`, "create it first, or write the result elsewhere");
  try {
    accessSync(dir, constants.W_OK);
    if (existsSync(path)) accessSync(path, constants.W_OK);
  } catch {
    throw new UserError(`${what} ${file} is not writable`, "write the result elsewhere");
  }
}

export function ensureWritableDir(dir: string, what: string, hint = "choose another directory with --work-dir"): void {
  try {
    // One level at a time: Node 20's recursive mkdir never returns under /proc.
    const missing: string[] = [];
    let at = resolve(dir);
    while (!existsSync(at) && dirname(at) !== at) {
      missing.unshift(at);
      at = dirname(at);
    }
    for (const path of missing) mkdirSync(path);
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UserError(`${what} is not writable: ${dir}`, hint);
  }
}

export interface PreparedJob {
  job: Job;
  spec: BisectSpec;
  deps: BisectDeps;
  /** What a resume changed (e.g. "resumed with --run-timeout 2m (was 20s)"), to record as events. */
  changes?: string[];
}

/** A field a resume may change, with the flag that changed it. */
export interface ResumeChange {
  path: string;
  flag: string;
  value: unknown;
}

/** The job as saved in the work dir: durations written with their unit, so reading it back gives the same values. */
function savable(job: Job): Job | Record<string, unknown> {
  const ms = (n: number): string => `${n}ms`;
  return {
    ...job,
    ...(job.build ? { build: { ...job.build, timeout: ms(job.build.timeout) } } : {}),
    ...(job.reproducer ? { reproducer: { ...job.reproducer, timeout: ms(job.reproducer.timeout) } } : {}),
  };
}

/** Prepares a new bisection: validates, checks programs and output paths, saves the job for resume. */
export async function prepareJob(raw: Record<string, unknown>, baseDir: string, defaultWorkDir: string, origin?: FieldOrigin): Promise<PreparedJob> {
  const job = validateJob(raw, origin);
  const workDir = resolve(job.workDir ?? defaultWorkDir);
  // Everything that can be wrong with the input is found before anything is written.
  const repo = await Repo.open(resolve(baseDir, job.repo));
  const start = await repo.resolve(job.start);
  if (job.kind === "cause" && job.good) {
    const good = await repo.resolve(job.good);
    if (good === start || !(await repo.isAncestor(good, start))) {
      throw new UserError(`good ${job.good} is not an ancestor of start ${job.start}`, "give an older commit that the start commit descends from");
    }
  }
  if (job.kind === "cause" && job.oldest && !job.good) {
    const oldest = await repo.resolve(job.oldest);
    if (oldest !== start && !(await repo.isAncestor(oldest, start))) {
      throw new UserError(`oldest ${job.oldest} is not an ancestor of start ${job.start}`, "give an older commit that the start commit descends from");
    }
  }
  if (job.kind === "fix") {
    const end = await repo.resolve(job.end ?? "HEAD");
    if (end === start || !(await repo.isAncestor(start, end))) {
      throw new UserError(`start ${job.start} is not an ancestor of end ${job.end ?? "HEAD"}`, "fix bisection goes forward from the crashing commit");
    }
  }
  let saved: Job = { ...job, repo: repo.dir, workDir, baseDir };
  if (!job.target) {
    const { build, reproducer } = generic(job);
    await checkBuildCommand(repo, start, build.command, baseDir);
    saved = { ...saved, reproducer: { ...reproducer, command: resolveReproducer(reproducer.command, build.artifacts, baseDir) } };
  }
  if (existsSync(join(workDir, "events.jsonl"))) {
    throw new UserError(`work dir ${workDir} already holds a bisection`, `continue it with --resume ${workDir}, or choose another --work-dir`);
  }
  // A target checks the files it names here, still before the work dir is written to.
  const prepared = await assemble(saved);
  if (saved.cacheDir) ensureWritableDir(saved.cacheDir, "cache dir", "choose another directory with --cache-dir");
  ensureWritableDir(workDir, "work dir");
  writeFileSync(join(workDir, JOB_FILE), JSON.stringify(savable(saved), null, 2));
  return prepared;
}

type GenericJob = Job & { build: NonNullable<Job["build"]>; reproducer: NonNullable<Job["reproducer"]> };

/** The validated job without a target section: the schema made build and reproducer required. */
function generic(job: Job): GenericJob {
  if (!job.build || !job.reproducer) throw new Error("job without target, build or reproducer passed validation");
  return job as GenericJob;
}

function fieldAt(job: unknown, path: string): unknown {
  let at = job;
  for (const key of path.split(".")) at = at !== null && typeof at === "object" ? (at as Record<string, unknown>)[key] : undefined;
  return at;
}

function withField(job: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const [key, ...rest] = path.split(".") as [string, ...string[]];
  if (rest.length === 0) return { ...job, [key]: value };
  const section = job[key];
  return { ...job, [key]: withField(section !== null && typeof section === "object" ? (section as Record<string, unknown>) : {}, rest.join("."), value) };
}

function shownValue(path: string, value: unknown): string {
  return typeof value === "number" && path.endsWith("timeout") ? goDuration(value) : String(value);
}

/** Loads the job saved in a work dir, to continue its bisection, with the changes a resume may make. */
export async function resumeJob(workDir: string, changes: readonly ResumeChange[] = []): Promise<PreparedJob> {
  const file = join(resolve(workDir), JOB_FILE);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new UserError(`nothing to resume in ${workDir}`, `it has no ${JOB_FILE}; give the work dir of an earlier culprit bisect`);
  }
  const recorded = validateJob(JSON.parse(text));
  // The bisection lives where it is now (a copied or moved work dir), not where it was started;
  // a cache dir kept inside the work dir moves with it.
  const here = resolve(workDir);
  const was = resolve(recorded.workDir ?? here);
  const cacheDir = recorded.cacheDir && recorded.cacheDir.startsWith(was + sep) ? join(here, relative(was, recorded.cacheDir)) : recorded.cacheDir;
  const before: Job = { ...recorded, workDir: here, ...(cacheDir ? { cacheDir } : {}) };
  let raw = savable(before) as Record<string, unknown>;
  for (const change of changes) raw = withField(raw, change.path, change.value);
  const byPath = new Map(changes.map((c) => [c.path, c.flag]));
  const job = validateJob(raw, (path) => byPath.get(path));
  const said = changes
    .filter((c) => fieldAt(before, c.path) !== fieldAt(job, c.path))
    .map((c) => `resumed with ${c.flag} ${shownValue(c.path, fieldAt(job, c.path))} (was ${shownValue(c.path, fieldAt(before, c.path))})`);
  // The next resume continues with what this one changed, and where.
  if (said.length > 0 || was !== here) writeFileSync(file, JSON.stringify(savable(job), null, 2));
  return { ...(await assemble(job)), ...(said.length > 0 ? { changes: said } : {}) };
}

async function assemble(job: Job): Promise<PreparedJob> {
  const workDir = job.workDir as string;
  const spec: BisectSpec = {
    repoDir: job.repo,
    kind: job.kind,
    start: job.start,
    ...(job.good ? { good: job.good } : {}),
    ...(job.oldest ? { oldest: job.oldest } : {}),
    ...(job.end ? { end: job.end } : {}),
    ...(job.crash ? { crash: job.crash } : {}),
    runs: job.runs,
    startRuns: job.startRuns,
    parallelCommits: job.parallelism.commits,
    parallelRuns: job.parallelism.runs,
    ...(job.parallelism.buildAhead !== undefined ? { buildAhead: job.parallelism.buildAhead } : {}),
    runTimeoutMs: job.reproducer?.timeout ?? 0,
    cleanCheckouts: job.build?.clean ?? false,
    workDir,
    cacheDir: job.cacheDir ?? join(workDir, "cache"),
    seed: job.seed,
  };
  const printedIn: CrashConsole = job.target ? "kernel" : "program";
  const common = { strategy: strategies[job.strategy], parse, sameCrash, similarity: crashSimilarity, crashOfTitle: (title: string) => crashOfTitle(title, printedIn) };
  if (job.target) {
    const parts = await createLinuxTarget(parseLinuxTarget(job.target), {
      repoDir: job.repo,
      baseDir: job.baseDir ?? process.cwd(),
      workDir: join(workDir, "target"),
      parse: parseAll,
      log: (line) => process.stdout.write(`${line}\n`),
    });
    const deps: BisectDeps = {
      ...common,
      builder: parts.builder,
      runner: parts.runner,
      signatureLabel: parts.signatureLabel,
      maintainers: job.maintainers ? maintainersLookup(job.maintainers) : parts.maintainers,
      remedies: parts.remedies,
      pickReleases: (releases) => pickReleases(releases, parts.releasePolicy),
    };
    // The kernel builder keeps its own object tree per checkout: incremental builds, no git clean.
    // The target's release floor bounds the search too: older kernels no longer build with its toolchains.
    const oldest = spec.oldest ?? parts.releasePolicy.oldest;
    return { job, spec: { ...spec, runTimeoutMs: parts.runTimeoutMs, cleanCheckouts: false, ...(oldest ? { oldest } : {}) }, deps };
  }
  const { build, reproducer } = generic(job);
  const deps: BisectDeps = {
    ...common,
    builder: new CommandBuilder({
      command: build.command,
      artifacts: build.artifacts,
      compiler: build.compiler,
      timeoutMs: build.timeout,
      ...(build.env ? { env: build.env } : {}),
    }),
    runner: new ProcessRunner({ command: reproducer.command, exitStatus: reproducer.exitStatus, outputLimit: reproducer.outputLimit, ...(reproducer.env ? { env: reproducer.env } : {}) }, parseAll),
    signatureLabel: "build",
    maintainers: maintainersLookup(job.maintainers ?? "file"),
  };
  return { job, spec, deps };
}
