// The Linux kernel builder: the user's .config brought up to each commit with olddefconfig,
// adjusted per release and per remedy, built with the compiler fit for the commit's age, and
// signed by vmlinux's loaded sections. Reproducible-build settings make an unchanged tree give
// an unchanged signature, which is what lets a bisection skip comment-only commits.

import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";
import type { RemedyRule } from "../core/strategy.js";
import { sortReleasesNewestFirst, parseRelease, compareReleases } from "../core/releases.js";
import { execLogged } from "../run/exec.js";
import type { Builder, BuildRequest, BuildResult } from "./builder.js";
import { compilerIdentity } from "../run/toolchain.js";
import { errorExcerpt, transientFailure } from "./command.js";
import { elfSignature } from "./signature.js";

/** One Kconfig symbol set to a value; "n" writes "# CONFIG_X is not set". */
export interface ConfigEdit {
  symbol: string;
  value: string;
}

/** Options to switch off for commits that predate `tag` (e.g. they do not build there yet). */
export interface ReleaseTweak {
  tag: string;
  disable: string[];
  /** Why, for the docs and the build log. */
  why?: string;
}

export interface KernelBuildSpec {
  /** The repository, for the release tags reachable from a commit. */
  repoDir: string;
  /** Contents of the user's start .config. */
  config: string;
  /** "vX.Y" → compiler: used for commits whose newest reachable release is that one or newer. */
  compilers: Record<string, string>;
  /** Compiler when the map has nothing to say (no map, or no release reachable). */
  defaultCompiler: string;
  /** Wrap the compiler in ccache ("auto": when it is on PATH). */
  ccache: boolean | "auto";
  jobs: number;
  /** Image target and its path in the tree, e.g. bzImage at arch/x86/boot/bzImage. */
  imageTarget: string;
  imagePath: string;
  timeoutMs: number;
  releaseTweaks: ReleaseTweak[];
  /** Set on every build after the user's config, e.g. {symbol: "KASAN", value: "y"}. */
  extraConfig: ConfigEdit[];
  /** Copy vmlinux into the artifacts (large with debug info; needed to symbolize later). */
  keepVmlinux: boolean;
  /** Passed to every make invocation, e.g. ["LLVM=1"]. */
  makeArgs: string[];
}

/**
 * Always applied: a version string without the git hash (LOCALVERSION_AUTO would make every
 * commit's image differ) and no -Werror, which older trees trip with newer compilers.
 */
export const ALWAYS: ConfigEdit[] = [
  { symbol: "LOCALVERSION_AUTO", value: "n" },
  { symbol: "WERROR", value: "n" },
];

/**
 * Default release tweaks. Empty on purpose: which options break which old trees depends on the
 * compilers and tools installed, so the job file's `releaseTweaks` list is where they belong.
 */
export const DEFAULT_RELEASE_TWEAKS: ReleaseTweak[] = [];

/** Remedies the strategy may ask for, and the crash types (report/'s) each removes. */
export const KERNEL_REMEDIES: (RemedyRule & { edits: ConfigEdit[] })[] = [
  {
    name: "disable:LOCKDEP",
    removesTypes: ["LOCKDEP"],
    edits: ["PROVE_LOCKING", "DEBUG_LOCK_ALLOC", "LOCK_STAT", "DEBUG_LOCKDEP", "LOCKDEP"].map((symbol) => ({ symbol, value: "n" })),
  },
  {
    name: "disable:HANG_DETECTORS",
    removesTypes: ["HANG"],
    edits: ["DETECT_HUNG_TASK", "SOFTLOCKUP_DETECTOR", "HARDLOCKUP_DETECTOR"].map((symbol) => ({ symbol, value: "n" })),
  },
];

/** Config edits for remedies: the named ones above, or generic "disable:SYMBOL" / "enable:SYMBOL". */
export function remedyEdits(remedies: readonly string[]): ConfigEdit[] {
  const edits: ConfigEdit[] = [];
  for (const remedy of [...remedies].sort()) {
    const known = KERNEL_REMEDIES.find((r) => r.name === remedy);
    if (known) {
      edits.push(...known.edits);
      continue;
    }
    const m = /^(disable|enable):(?:CONFIG_)?([A-Z0-9_]+)$/.exec(remedy);
    if (m) edits.push({ symbol: m[2] as string, value: m[1] === "disable" ? "n" : "y" });
    // Anything else is not for this builder (the contract lets it ignore unknown remedies).
  }
  return edits;
}

function symbolName(symbol: string): string {
  return symbol.startsWith("CONFIG_") ? symbol : `CONFIG_${symbol}`;
}

/** Where the tree keeps the config text culprit last handed to olddefconfig. */
export const CONFIG_INPUT = ".config.culprit-input";

/**
 * Writes .config only when the text culprit would give olddefconfig differs from last time.
 * olddefconfig normalises .config, so comparing against .config itself would always differ;
 * the last input is kept beside it instead. An untouched .config keeps its mtime, so Kbuild
 * sees no config change and recompiles only what the commit changed. Returns whether it wrote.
 */
export async function writeConfigIfChanged(tree: string, text: string): Promise<boolean> {
  const configPath = join(tree, ".config");
  const inputPath = join(tree, CONFIG_INPUT);
  const [last, present] = await Promise.all([
    readFile(inputPath, "utf8").catch(() => undefined),
    stat(configPath).then(() => true, () => false),
  ]);
  if (present && last === text) return false;
  await writeFile(configPath, text);
  await writeFile(inputPath, text);
  return true;
}

/** Applies edits to a .config text: each symbol's old line goes, its new line is appended. */
export function applyConfigEdits(config: string, edits: readonly ConfigEdit[]): string {
  if (edits.length === 0) return config;
  const last = new Map<string, string>();
  for (const e of edits) last.set(symbolName(e.symbol), e.value);
  const kept = config.split("\n").filter((line) => {
    const m = /^(?:# )?(CONFIG_[A-Za-z0-9_]+)(?:=| is not set)/.exec(line);
    return !(m && last.has(m[1] as string));
  });
  while (kept.length > 0 && kept.at(-1) === "") kept.pop();
  for (const [symbol, value] of last) kept.push(value === "n" ? `# ${symbol} is not set` : `${symbol}=${value}`);
  return `${kept.join("\n")}\n`;
}

/** Edits for release tweaks whose tag is not among the tags reachable from the commit. */
export function releaseTweakEdits(tweaks: readonly ReleaseTweak[], reachableTags: ReadonlySet<string>): ConfigEdit[] {
  return tweaks.filter((t) => !reachableTags.has(t.tag)).flatMap((t) => t.disable.map((symbol) => ({ symbol, value: "n" })));
}

/**
 * The compiler for a commit whose newest reachable release is `release`: the entry with the
 * newest key not newer than it; for a tree older than every key, the oldest entry (the closest
 * fit); the fallback when the map is empty or no release is reachable.
 */
export function compilerFor(release: string | undefined, compilers: Readonly<Record<string, string>>, fallback: string): string {
  const version = release === undefined ? undefined : parseRelease(release);
  const keys = sortReleasesNewestFirst(Object.keys(compilers));
  if (version === undefined || keys.length === 0) return fallback;
  const fit = keys.find((k) => compareReleases(k, version) <= 0) ?? keys.at(-1);
  return fit ? (compilers[fit.tag] as string) : fallback;
}

/** Environment that makes two builds of the same tree byte-identical where it matters. */
export const REPRODUCIBLE_ENV: Record<string, string> = {
  KBUILD_BUILD_TIMESTAMP: "Thu Jan  1 00:00:00 UTC 1970",
  KBUILD_BUILD_USER: "culprit",
  KBUILD_BUILD_HOST: "culprit",
  // Otherwise the "#N" build counter in the version string grows with each incremental build.
  KBUILD_BUILD_VERSION: "1",
};

function onPath(name: string): Promise<boolean> {
  return new Promise((resolve) => execFile("which", [name], (err) => resolve(!err)));
}

/** A kernel make invocation: the command without targets, its environment, and the build step's full argv. */
export interface KernelMake {
  make: string[];
  env: NodeJS.ProcessEnv;
  build: string[];
}

export class KernelBuilder implements Builder {
  private readonly tags = new Map<string, Promise<Set<string>>>();
  private readonly identities = new Map<string, Promise<string>>();
  private ccache?: Promise<boolean>;

  constructor(private readonly spec: KernelBuildSpec) {}

  /**
   * Release tags reachable from `commit` (cached: a bisection asks about each commit twice). A
   * commit the repository lacks (a worker's, before it fetched it) has no answer yet: no tags
   * would pick the wrong compiler and release tweaks for the whole bisection, so it is an error,
   * and not kept.
   */
  private reachableTags(commit: string): Promise<Set<string>> {
    let tags = this.tags.get(commit);
    if (!tags) {
      tags = new Promise((resolve, reject) =>
        execFile("git", ["tag", "--merged", commit], { cwd: this.spec.repoDir, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
          err ? reject(new Error(`cannot list the tags ${commit} reaches in ${this.spec.repoDir}: ${stderr.trim().split("\n")[0] ?? err.message}`)) : resolve(new Set(stdout.split("\n").filter(Boolean))),
        ),
      );
      this.tags.set(commit, tags);
      tags.catch(() => this.tags.delete(commit));
    }
    return tags;
  }

  async compiler(commit: string): Promise<string> {
    const newest = sortReleasesNewestFirst([...(await this.reachableTags(commit))])[0];
    return compilerFor(newest?.tag, this.spec.compilers, this.spec.defaultCompiler);
  }

  async toolchain(commit: string): Promise<string> {
    const cc = await this.compiler(commit);
    let identity = this.identities.get(cc);
    if (!identity) {
      identity = compilerIdentity(cc);
      this.identities.set(cc, identity);
    }
    return identity;
  }

  configHash(remedies: readonly string[]): string {
    const { config, releaseTweaks, extraConfig, imageTarget, makeArgs } = this.spec;
    const edits = remedyEdits(remedies);
    return createHash("sha256").update(JSON.stringify({ config, releaseTweaks, extraConfig, imageTarget, makeArgs, edits })).digest("hex");
  }

  private useCcache(): Promise<boolean> {
    const want = this.spec.ccache;
    this.ccache ??= want === "auto" ? onPath("ccache") : Promise.resolve(want);
    return this.ccache;
  }

  /**
   * How every make of `commit` in `tree` is run: `make` with the commit's compiler (in ccache
   * when enabled) and the reproducible-build environment, and the whole build command. Public so
   * a benchmark can time a plain make with exactly the builder's flags.
   */
  async makeCommand(commit: string, tree: string): Promise<KernelMake> {
    const cc = await this.compiler(commit);
    const ccache = await this.useCcache();
    const compiler = ccache ? `ccache ${cc}` : cc;
    // LOCALVERSION set (even empty) stops setlocalversion from appending "+" to untagged commits.
    const make = ["make", `CC=${compiler}`, `HOSTCC=${compiler}`, "LOCALVERSION=", ...this.spec.makeArgs];
    const env = {
      ...process.env,
      ...REPRODUCIBLE_ENV,
      ...(ccache ? { CCACHE_BASEDIR: tree, CCACHE_NOHASHDIR: "true" } : {}),
    };
    return { make, env, build: [...make, `-j${this.spec.jobs}`, this.spec.imageTarget, "vmlinux"] };
  }

  async build(request: BuildRequest): Promise<BuildResult> {
    const started = performance.now();
    const elapsed = (): number => performance.now() - started;
    const failed = (excerpt: string): BuildResult => ({ kind: "failed", excerpt, durationMs: elapsed() });
    const tree = request.worktree;

    const edits = [
      ...ALWAYS,
      ...releaseTweakEdits(this.spec.releaseTweaks, await this.reachableTags(request.commit)),
      ...this.spec.extraConfig,
      ...remedyEdits(request.remedies),
    ];
    await writeConfigIfChanged(tree, applyConfigEdits(this.spec.config, edits));

    const { make, env, build } = await this.makeCommand(request.commit, tree);
    const configLog = `${request.logFile}.olddefconfig`;
    const configured = await execLogged([...make, "olddefconfig"], {
      cwd: tree,
      env,
      timeoutMs: Math.min(this.spec.timeoutMs, 10 * 60_000),
      signal: request.signal,
      logFile: configLog,
      ...(request.background ? { lowPriority: true } : {}),
    });
    const configText = await readFile(configLog, "utf8").catch(() => "");
    if (configured.kind === "spawn-error") return failed(`cannot run make: ${configured.message}`);
    if (configured.code !== 0) {
      await writeFile(request.logFile, configText);
      return failed(`broken config (make olddefconfig failed):\n${errorExcerpt(configText, 5)}`);
    }

    const built = await execLogged(build, {
      cwd: tree,
      env,
      timeoutMs: this.spec.timeoutMs,
      signal: request.signal,
      logFile: request.logFile,
      ...(request.background ? { lowPriority: true } : {}),
    });
    const buildText = await readFile(request.logFile, "utf8").catch(() => "");
    // One log per build: the config step's output first, as it ran.
    await writeFile(request.logFile, configText + buildText);
    if (built.kind === "spawn-error") return failed(`cannot run make: ${built.message}`);
    const transient = transientFailure(built, buildText);
    if (transient !== undefined) {
      const excerpt = built.timedOut ? `kernel build timed out after ${Math.round(this.spec.timeoutMs / 1000)}s` : `kernel build ${transient}`;
      return { kind: "failed", excerpt, durationMs: elapsed(), transient };
    }
    if (built.code !== 0) return failed(errorExcerpt(buildText));

    const vmlinux = join(tree, "vmlinux");
    const image = join(tree, this.spec.imagePath);
    for (const path of [vmlinux, image]) {
      if (!(await stat(path).then((s) => s.isFile(), () => false))) return failed(`build succeeded but ${path} is missing`);
    }
    await mkdir(request.artifactsDir, { recursive: true });
    await copyFile(image, join(request.artifactsDir, this.spec.imageTarget));
    await copyFile(join(tree, ".config"), join(request.artifactsDir, "config"));
    if (this.spec.keepVmlinux) await copyFile(vmlinux, join(request.artifactsDir, "vmlinux"));
    return { kind: "ok", signature: await elfSignature(vmlinux), durationMs: elapsed() };
  }
}

export function defaultJobs(): number {
  return Math.max(1, cpus().length);
}
