// Repositories named by URL: a local mirror, cloned once and fetched again on each later use,
// with every branch and tag as the remote has them. git runs from argv arrays, in its own process
// group (its helpers, ssh and git-remote-https, die with it), bounded in time, never prompting.

import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserError } from "../core/errors.js";
import { goDuration } from "../core/duration.js";
import { execLogged } from "../run/exec.js";

/** The transports a mirror may use; git refuses any other (ext::, fd::, a helper named in the URL). */
const PROTOCOLS = "https:ssh:file";

/** https://, ssh:// and file:// URLs, and ssh's short form user@host:path. */
export function isRepoUrl(repo: string): boolean {
  return /^(https|ssh|file):\/\//.test(repo) || /^[\w.-]+@[\w.-]+:[^/]/.test(repo);
}

/** The mirror's directory name: readable, and unique per URL. */
export function mirrorName(url: string): string {
  const base = (url.replace(/\/+$/, "").split(/[/:]/).at(-1) ?? "").replace(/\.git$/, "").replace(/[^\w.-]/g, "_").replace(/^\.+/, "");
  return `${base || "repo"}-${createHash("sha256").update(url).digest("hex").slice(0, 12)}`;
}

export interface MirrorOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * The mirror of `url` in `dir` made up to date: cloned into place when absent, fetched otherwise.
 * A clone is made aside and renamed in, so a failed or cut-short one leaves nothing behind.
 * Returns the mirror's path; a UserError in git's own words when the remote cannot be read.
 */
export async function syncMirror(url: string, dir: string, options: MirrorOptions): Promise<string> {
  const mirror = join(dir, mirrorName(url));
  await mkdir(dir, { recursive: true });
  if (existsSync(mirror)) {
    // Every branch and tag as the remote has them now (--update-head-ok: HEAD's branch too).
    await gitBounded(url, ["-C", mirror, "fetch", "--quiet", "--prune", "--update-head-ok", "origin"], options);
    return mirror;
  }
  const aside = await mkdtemp(join(dir, `.clone-${randomUUID()}-`));
  try {
    const clone = join(aside, "repo");
    // No checkout: jobs check out commits into worktrees of their own.
    await gitBounded(url, ["clone", "--quiet", "--no-checkout", "--", url, clone], options);
    // Local branches track the remote's, and no gc prunes objects a running job still uses.
    await gitBounded(url, ["-C", clone, "config", "--replace-all", "remote.origin.fetch", "+refs/heads/*:refs/heads/*"], options);
    await gitBounded(url, ["-C", clone, "config", "--add", "remote.origin.fetch", "+refs/tags/*:refs/tags/*"], options);
    await gitBounded(url, ["-C", clone, "config", "gc.auto", "0"], options);
    await gitBounded(url, ["-C", clone, "fetch", "--quiet", "--prune", "--update-head-ok", "origin"], options);
    await rename(clone, mirror).catch(async (err: NodeJS.ErrnoException) => {
      // Another clone of the same URL got there first: theirs is as good.
      if (!existsSync(mirror)) throw err;
    });
    return mirror;
  } finally {
    await rm(aside, { recursive: true, force: true });
  }
}

async function gitBounded(url: string, args: readonly string[], options: MirrorOptions): Promise<void> {
  const logDir = await mkdtemp(join(tmpdir(), "culprit-git-"));
  try {
    const logFile = join(logDir, "git.log");
    const env = { ...process.env, LC_ALL: "C", GIT_TERMINAL_PROMPT: "0", GIT_ALLOW_PROTOCOL: PROTOCOLS, GIT_SSH_COMMAND: "ssh -o BatchMode=yes" };
    const result = await execLogged(["git", ...args], { cwd: logDir, env, timeoutMs: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}), logFile });
    if (result.kind === "spawn-error") throw new Error(`cannot run git: ${result.message}`);
    if (result.aborted) throw new UserError(`fetching ${url} was interrupted`);
    if (result.timedOut) throw new UserError(`fetching ${url} took longer than ${goDuration(options.timeoutMs)}`, "try again later, or clone it below a --root yourself");
    if (result.code !== 0) {
      const said = (await readFile(logFile, "utf8")).split("\n").map((l) => l.trim()).filter((l) => l.length > 0);
      const reason = (said.find((l) => l.startsWith("fatal:")) ?? said.at(-1) ?? `git exited with ${result.code}`).replace(/^fatal: /, "");
      throw new UserError(`cannot fetch ${url}: ${reason}`, "check the URL, and that this server may read it without a password");
    }
  } finally {
    await rm(logDir, { recursive: true, force: true });
  }
}
