// The git layer against a real generated repository.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../core/errors.js";
import { Dag } from "../core/dag.js";
import { scratchHistory, simpleHistory, type Scratch } from "../bisect/testkit.js";
import { git, parseTrailerLines, Repo } from "./git.js";
import { Worktrees } from "./worktree.js";

describe("git layer", () => {
  let s: Scratch;
  let repo: Repo;
  before(async () => {
    s = await scratchHistory(
      simpleHistory(30, { culprit: 12, releases: { 2: "v1.0", 10: "v1.1-rc1", 20: "v1.1" }, sideBranches: [{ mergeAt: 15, length: 3 }] }),
    );
    repo = await Repo.open(s.history.dir);
  });
  after(async () => s.cleanup());

  it("refuses a directory that is not a repository, with a UserError", async () => {
    await assert.rejects(Repo.open(s.dir), (err: unknown) => err instanceof UserError && /not a git repository/.test(err.message));
  });

  it("resolves revisions and rejects unknown ones", async () => {
    assert.equal(await repo.resolve("HEAD"), s.history.head);
    assert.equal(await repo.resolve("v1.1"), s.history.main[20]);
    await assert.rejects(repo.resolve("nope"), (err: unknown) => err instanceof UserError && /unknown revision: nope/.test(err.message));
    await assert.rejects(repo.resolve("--help"), UserError);
  });

  it("answers ancestry and merge-base", async () => {
    const [a, b] = [s.history.main[3] as string, s.history.main[25] as string];
    assert.equal(await repo.isAncestor(a, b), true);
    assert.equal(await repo.isAncestor(b, a), false);
    assert.equal(await repo.mergeBase(a, b), a);
  });

  it("lists release tags reachable from a commit", async () => {
    const tags = (await repo.tagsReachableFrom(s.history.main[12] as string)).map((t) => t.tag).sort();
    assert.deepEqual(tags, ["v1.0", "v1.1-rc1"]);
  });

  it("loads the commit graph of a range, merges included", async () => {
    const nodes = await repo.graph(s.history.head, [`${s.history.main[10]}^@`]);
    const dag = new Dag(nodes);
    assert.equal(dag.hash(0), s.history.main[10], "the boundary itself is in, its parents are not");
    const merge = s.history.main[15] as string;
    assert.equal(dag.parents[dag.index(merge)]?.length, 2);
    assert.equal(dag.size, 20 + 3);
  });

  it("keeps the trees and titles read with the graph, the same as git gives one by one", async () => {
    const fresh = await Repo.open(s.history.dir);
    const sample = [s.history.main[12] as string, s.history.main[15] as string, s.history.head];
    const asked = await Promise.all(sample.map(async (c) => [await fresh.treeHash(c), await fresh.titleOf(c)]));
    await fresh.graph(s.history.head, []);
    const kept = await Promise.all(sample.map(async (c) => [await fresh.treeHash(c), await fresh.titleOf(c)]));
    assert.deepEqual(kept, asked);
    assert.equal(kept[0]?.[1], "records: release records before summing to save memory");
  });

  it("describes a commit: author, trailers, changed files, diffstat", async () => {
    const info = await repo.commitInfo(s.history.culprit as string);
    assert.equal(info.title, "records: release records before summing to save memory");
    assert.deepEqual(info.changedFiles, ["src/records.c"]);
    assert.match(info.diffstat, /src\/records\.c \| 1 \+/);
    assert.deepEqual(
      info.trailers.map((t) => t.key),
      ["Signed-off-by", "Reviewed-by", "Signed-off-by"],
    );
    assert.match(info.authorDate, /^\w{3} \w{3} \d+ \d\d:\d\d:\d\d \d{4} \+0000$/, "git's default date format, as the reference log");
    const merge = await repo.commitInfo(s.history.main[15] as string);
    assert.equal(merge.parents.length, 2);
    assert.ok(merge.changedFiles.every((f) => f.startsWith("docs/")), "a merge is described against its first parent");
    assert.deepEqual(merge.tags, []);
    assert.deepEqual((await repo.commitInfo(s.history.main[20] as string)).tags, ["v1.1"]);
    const root = await repo.commitInfo(s.history.main[0] as string);
    assert.ok(root.changedFiles.includes("Makefile"), "a root commit is described against the empty tree");
    assert.match(root.diffstat, /files? changed/);
  });

  it("parses trailer lines", () => {
    assert.deepEqual(parseTrailerLines("Signed-off-by: A <a@x>\nnot a trailer\nLink: https://x/y"), [
      { key: "Signed-off-by", value: "A <a@x>" },
      { key: "Link", value: "https://x/y" },
    ]);
  });

  it("checks out into worktrees that never touch the user's tree, and removes them", async () => {
    const trees = new Worktrees(repo, join(s.dir, "trees"), true);
    const first = await trees.checkout(0, s.history.main[3] as string);
    assert.equal((await git(first, ["rev-parse", "HEAD"])).stdout.trim(), s.history.main[3]);
    const again = await trees.checkout(0, s.history.main[5] as string);
    assert.equal(again, first);
    assert.equal((await git(first, ["rev-parse", "HEAD"])).stdout.trim(), s.history.main[5]);
    assert.equal((await git(s.history.dir, ["rev-parse", "HEAD"])).stdout.trim(), s.history.head, "the user's HEAD stays");
    await trees.removeAll();
    assert.equal(existsSync(first), false);
    const list = await git(s.history.dir, ["worktree", "list", "--porcelain"]);
    assert.equal(list.stdout.split("\n").filter((l) => l.startsWith("worktree ")).length, 1);
  });

  it("replaces a slot a killed predecessor left on disk and registered", async () => {
    const dir = join(s.dir, "left");
    await new Worktrees(repo, dir, false).checkout(0, s.history.main[3] as string);
    // A new start over the same work dir: the old slot is still there and still registered.
    const trees = new Worktrees(repo, dir, false);
    try {
      const path = await trees.checkout(0, s.history.main[6] as string);
      assert.equal((await git(path, ["rev-parse", "HEAD"])).stdout.trim(), s.history.main[6]);
    } finally {
      await trees.removeAll();
    }
  });

  it("removes a slot a killed predecessor left, even one this start never used", async () => {
    const dir = join(s.dir, "unused");
    await new Worktrees(repo, dir, false).checkout(1, s.history.main[3] as string);
    const trees = new Worktrees(repo, dir, false);
    await trees.checkout(0, s.history.main[4] as string);
    await trees.removeAll();
    const list = await git(s.history.dir, ["worktree", "list", "--porcelain"]);
    assert.equal(list.stdout.split("\n").filter((l) => l.startsWith("worktree ")).length, 1, list.stdout);
    assert.equal(existsSync(dir), false);
  });

  it("creates several slots at once (parallel builds' first checkouts)", async () => {
    const trees = new Worktrees(repo, join(s.dir, "parallel"), false);
    try {
      const commits = [3, 5, 7, 9, 11, 13].map((i) => s.history.main[i] as string);
      const paths = await Promise.all(commits.map((c, slot) => trees.checkout(slot, c)));
      const heads = await Promise.all(paths.map(async (p) => (await git(p, ["rev-parse", "HEAD"])).stdout.trim()));
      assert.deepEqual(heads, commits);
    } finally {
      await trees.removeAll();
    }
  });
});
