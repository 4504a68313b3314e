// The git CLI, argv arrays only. Every serious bisection tool drives git itself: it is complete,
// fast on kernel-size histories, and `git worktree` gives checkouts that never touch the user's tree.

import { execFile } from "node:child_process";
import { UserError } from "../core/errors.js";
import type { CommitNode } from "../core/dag.js";

export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`git ${args.join(" ")} failed (${code}): ${stderr.trim().split("\n")[0] ?? ""}`);
    this.name = "GitError";
  }
}

export interface GitRunOptions {
  /** Exit codes that are answers, not failures (e.g. 1 for `merge-base --is-ancestor`). */
  okCodes?: number[];
  cwd?: string;
  /** Added to the environment (e.g. a credential as GIT_CONFIG_*, kept out of the argv others can read). */
  env?: Record<string, string>;
}

export interface GitOutput {
  code: number;
  stdout: string;
}

export function git(cwd: string, args: readonly string[], options: GitRunOptions = {}): Promise<GitOutput> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      args as string[],
      { cwd: options.cwd ?? cwd, maxBuffer: 1 << 30, encoding: "utf8", env: { ...process.env, ...options.env, LC_ALL: "C", GIT_TERMINAL_PROMPT: "0" } },
      (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout });
        const code = typeof err.code === "number" ? err.code : null;
        if (code !== null && options.okCodes?.includes(code)) return resolve({ code, stdout });
        reject(new GitError(args, code, stderr || err.message));
      },
    );
  });
}

/** Why git would not open a repository, in git's own words (e.g. dubious ownership and its safe.directory fix). */
export function openFailure(dir: string, stderr: string): UserError {
  const lines = stderr.split("\n").map((l) => l.trim()).filter((l) => l.length > 0);
  const reason = (lines[0] ?? "").replace(/^fatal: /, "");
  if (reason === "" || /^not a git repository/.test(reason)) {
    return new UserError(`not a git repository: ${dir}`, "point `repo:` at a directory inside a git checkout");
  }
  // git's advice follows its reason: for dubious ownership, the `git config … safe.directory` line to run.
  const advice = lines.slice(1).find((l) => l.startsWith("git ")) ?? lines.slice(1).join(" ");
  return new UserError(`git cannot open ${dir}: ${reason}`, advice || undefined);
}

export interface CommitInfo {
  hash: string;
  title: string;
  authorName: string;
  authorEmail: string;
  authorDate: string;
  committerDate: string;
  /** The whole message: title, blank line, body. */
  message: string;
  parents: string[];
  trailers: { key: string; value: string }[];
  changedFiles: string[];
  /** `git show --stat` lines, e.g. " block/genhd.c | 4 ++++" and the summary line. */
  diffstat: string;
  /** Tags pointing at the commit. */
  tags: string[];
}

export interface TagRef {
  tag: string;
  commit: string;
}

const FIELD = "\x1f";
const RECORD = "\x1e";

/** One repository, addressed by its directory. */
export class Repo {
  /** Tree and title of each commit of the graphs read so far (commits never change). */
  private readonly known = new Map<string, { tree: string; title: string }>();

  private constructor(readonly dir: string) {}

  static async open(dir: string): Promise<Repo> {
    const out = await git(dir, ["rev-parse", "--show-toplevel"]).catch((err: unknown) => {
      if (err instanceof GitError) return err;
      if (err instanceof Error && "code" in err) return undefined;
      throw err;
    });
    if (out instanceof GitError) throw openFailure(dir, out.stderr);
    if (!out) throw new UserError(`not a git repository: ${dir}`, "point `repo:` at a directory inside a git checkout");
    return new Repo(out.stdout.trim());
  }

  run(args: readonly string[], options?: GitRunOptions): Promise<GitOutput> {
    return git(this.dir, args, options);
  }

  /** Full commit hash of a revision; a UserError when it names no commit. */
  async resolve(rev: string): Promise<string> {
    const out = await this.run(["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`], { okCodes: [1, 128] });
    const hash = out.stdout.trim();
    if (out.code !== 0 || !/^[0-9a-f]{40,64}$/.test(hash)) {
      throw new UserError(`unknown revision: ${rev}`, "give a commit hash, branch or tag that exists in the repository");
    }
    return hash;
  }

  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    const out = await this.run(["merge-base", "--is-ancestor", ancestor, descendant], { okCodes: [1] });
    return out.code === 0;
  }

  async mergeBase(a: string, b: string): Promise<string | undefined> {
    const out = await this.run(["merge-base", a, b], { okCodes: [1] });
    return out.code === 0 ? out.stdout.trim() : undefined;
  }

  /**
   * `tip` and its ancestors, minus the ancestors of every boundary, with parents. Their trees and
   * titles come in the same read and are kept, so a bisection asks git nothing more per commit.
   */
  async graph(tip: string, boundaries: readonly string[]): Promise<CommitNode[]> {
    const args = ["rev-list", `--format=${["%H", "%P", "%T", "%s"].join("%x1f")}`, tip, ...boundaries.map((b) => `^${b}`)];
    const out = await this.run(args);
    const nodes: CommitNode[] = [];
    // rev-list puts a "commit <hash>" line before each formatted one; only the latter holds FIELD.
    for (const line of out.stdout.split("\n")) {
      if (!line.includes(FIELD)) continue;
      const [hash, parents, tree, ...title] = line.split(FIELD) as [string, string, string, ...string[]];
      nodes.push({ hash, parents: parents.split(" ").filter(Boolean) });
      this.known.set(hash, { tree, title: title.join(FIELD) });
    }
    return nodes;
  }

  /** Tags whose commit is `commit` or one of its ancestors (annotated tags peeled). */
  async tagsReachableFrom(commit: string): Promise<TagRef[]> {
    const out = await this.run([
      "for-each-ref",
      `--merged=${commit}`,
      "--format=%(refname:strip=2)%09%(objectname)%09%(*objectname)",
      "refs/tags",
    ]);
    return out.stdout
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => {
        const [tag, object, peeled] = line.split("\t");
        return { tag: tag as string, commit: peeled || (object as string) };
      });
  }

  async treeHash(commit: string): Promise<string> {
    return this.known.get(commit)?.tree ?? (await this.run(["rev-parse", `${commit}^{tree}`])).stdout.trim();
  }

  /** Everything the result says about a commit, in one git process (it runs once per culprit and candidate). */
  async commitInfo(commit: string): Promise<CommitInfo> {
    const format = ["%H", "%s", "%an", "%ae", "%ad", "%cI", "%P", "%D", "%B", "%(trailers:unfold,only)"].join(FIELD) + RECORD;
    // Merges are described against their first parent, as git bisect shows them; a root commit
    // against the empty tree (git show's own way).
    const out = await this.run(["show", "-m", "--first-parent", "--no-renames", "--decorate-refs=refs/tags/", `--format=${format}`, "--numstat", "--stat=120", commit]);
    const [meta = "", diff = ""] = out.stdout.split(RECORD);
    const [hash, title, authorName, authorEmail, authorDate, committerDate, parents, refs, message, trailerText] = meta.split(FIELD);
    const changedFiles: string[] = [];
    const stat: string[] = [];
    for (const line of diff.split("\n")) {
      const numstat = /^(?:\d+|-)\t(?:\d+|-)\t(.*)$/.exec(line);
      if (numstat) changedFiles.push(numstat[1] as string);
      else if (line.trim() !== "") stat.push(line);
    }
    return {
      hash: hash as string,
      title: title as string,
      authorName: authorName as string,
      authorEmail: authorEmail as string,
      authorDate: authorDate as string,
      committerDate: committerDate as string,
      message: (message as string).replace(/\n+$/, ""),
      parents: (parents ?? "").split(" ").filter(Boolean),
      trailers: parseTrailerLines(trailerText ?? ""),
      changedFiles,
      diffstat: stat.join("\n"),
      tags: (refs ?? "")
        .split(", ")
        .filter((r) => r.startsWith("tag: "))
        .map((r) => r.slice("tag: ".length)),
    };
  }

  async titleOf(commit: string): Promise<string> {
    return this.known.get(commit)?.title ?? (await this.run(["show", "-s", "--format=%s", commit])).stdout.trim();
  }

  /** Contents of a file at a commit, or undefined when it does not exist there. */
  async fileAt(commit: string, path: string): Promise<string | undefined> {
    const out = await this.run(["cat-file", "-p", `${commit}:${path}`], { okCodes: [128] });
    return out.code === 0 ? out.stdout : undefined;
  }
}

export function parseTrailerLines(text: string): { key: string; value: string }[] {
  const trailers: { key: string; value: string }[] = [];
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z0-9][A-Za-z0-9-]*)\s*:\s*(.*)$/.exec(line);
    if (m) trailers.push({ key: m[1] as string, value: (m[2] as string).trim() });
  }
  return trailers;
}
