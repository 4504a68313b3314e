// The command line as a user meets it: bad input, interrupts, kill -9 and resume.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { git } from "../git/git.js";
import type { BisectEvent } from "../bisect/events.js";
import { scratchHistory, simpleHistory, type Scratch } from "../bisect/testkit.js";

const MAIN = fileURLToPath(new URL("./main.js", import.meta.url));

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real binary; the default work dir goes under `cwd`'s .cache (XDG_CACHE_HOME), never the user's. */
function culprit(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { done: Promise<Finished>; pid: number } {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, XDG_CACHE_HOME: join(cwd, ".cache"), ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Finished>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  return { done, pid: child.pid as number };
}

function events(workDir: string): BisectEvent[] {
  const file = join(workDir, "events.jsonl");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as BisectEvent];
      } catch {
        return [];
      }
    });
}

/** Resolves when the event log satisfies `ready`; the test's own timeout bounds the wait. */
async function eventsReach(workDir: string, ready: (e: BisectEvent[]) => boolean): Promise<void> {
  while (!ready(events(workDir))) await new Promise((r) => setTimeout(r, 50));
}

function processesMatching(pattern: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn("pgrep", ["-f", pattern], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.on("close", () => resolve(out.trim()));
  });
}

async function worktreeCount(repo: string): Promise<number> {
  return (await git(repo, ["worktree", "list", "--porcelain"])).stdout.split("\n").filter((l) => l.startsWith("worktree ")).length;
}

describe("culprit bisect: bad input gets one clear line and a non-zero exit", () => {
  let s: Scratch;
  let common: string[];
  before(async () => {
    s = await scratchHistory(simpleHistory(30, { culprit: 20, releases: { 3: "v1.0" } }));
    common = ["--build", "make -s demo", "--artifact", "demo", "--repro", "demo", "--runs", "2", "--start-runs", "2"];
  });
  after(async () => s.cleanup());

  const cases: [string, (s: Scratch) => string[], RegExp][] = [
    ["not a git repository", (x) => ["--repo", x.dir], /^culprit: not a git repository: /],
    ["unknown revision", (x) => ["--repo", x.history.dir, "--start", "no-such-rev"], /^culprit: unknown revision: no-such-rev/],
    [
      "good not an ancestor of start",
      (x) => ["--repo", x.history.dir, "--start", x.history.main[5] as string, "--good", "HEAD"],
      /^culprit: good HEAD is not an ancestor of start /,
    ],
    ["build command not found", (x) => ["--repo", x.history.dir, "--build", "no-such-make all"], /^culprit: build command not found: no-such-make/],
    ["reproducer not found", (x) => ["--repo", x.history.dir, "--repro", "./no-such-repro"], /^culprit: reproducer not found: \.\/no-such-repro/],
    ["work dir not writable", (x) => ["--repo", x.history.dir, "--work-dir", "/dev/null/culprit-work"], /^culprit: work dir is not writable: /],
    ["work dir where nothing can be made", (x) => ["--repo", x.history.dir, "--work-dir", "/proc/culprit-work/x"], /^culprit: work dir is not writable: /],
    ["a runs count that is not a number", (x) => ["--repo", x.history.dir, "--runs", "many"], /^culprit: --runs must be a whole number ≥ 1, got 'many'/],
    ["a flag out of range is worded as a flag", (x) => ["--repo", x.history.dir, "--runs", "100000000"], /^culprit: --runs must be at most 1000, got 100000000 \(see culprit bisect --help\)$/],
    ["a flag's duration keeps the duration hint", (x) => ["--repo", x.history.dir, "--run-timeout", "10min"], /^culprit: --run-timeout: write a duration like 30s, 10m or 2h, got '10min'/],
    ["--json into a missing directory, before any build", (x) => ["--repo", x.history.dir, "--json", join(x.dir, "no-such-dir", "r.json")], /^culprit: --json .*r\.json: no such directory /],
    ["--json naming a directory", (x) => ["--repo", x.history.dir, "--json", x.dir], /^culprit: --json .* is a directory/],
    ["cache dir not writable", (x) => ["--repo", x.history.dir, "--work-dir", join(x.dir, "w-cache"), "--cache-dir", "/dev/null/cache"], /^culprit: cache dir is not writable: .*--cache-dir/],
    [
      "git's own reason (dubious ownership and the safe.directory fix)",
      (x) => ["--repo", x.history.dir, "--work-dir", join(x.dir, "w-git")],
      /^culprit: git cannot open .*: detected dubious ownership in repository at .* \(git config --global --add safe\.directory /,
    ],
  ];
  for (const [name, args, want] of cases) {
    it(name, async () => {
      const before = await readdir(s.dir);
      // git's test hook makes every repository look owned by someone else.
      const env = name.startsWith("git's own reason") ? { GIT_TEST_ASSUME_DIFFERENT_OWNER: "1" } : {};
      const { done } = culprit(["bisect", ...common, ...args(s)], s.dir, env);
      const r = await done;
      assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
      assert.match(lines[0] as string, want);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
      assert.deepEqual(await readdir(s.dir), before, "nothing left behind");
      assert.equal(await worktreeCount(s.history.dir), 1);
    });
  }

  it("invalid YAML", async () => {
    const job = join(s.dir, "bad.yaml");
    await writeFile(job, "repo: [unclosed\n");
    const r = await culprit(["bisect", job], s.dir).done;
    assert.equal(r.code, 2);
    assert.match(r.stderr.trim(), /^culprit: invalid YAML in .*bad\.yaml: /);
    await rm(job);
  });

  const jobCases: [string, string, RegExp][] = [
    ["an unknown field, with the field it probably means", "runz: 3\n", /^culprit: unknown field runz \(did you mean runs\?\) \(see README\.md, "Job file"\)$/],
    ["an unknown field in a section", "", /^culprit: unknown field reproducer\.comand \(did you mean command\?\)/],
    ["a wrong type is not a missing field", "runs: ten\n", /^culprit: runs must be a whole number, got 'ten'/],
    ["a list given as a string", "", /^culprit: build\.artifacts must be a list, like \[a, b\], got 'demo'/],
    ["a duration keeps its hint", "", /^culprit: reproducer\.timeout: write a duration like 30s, 10m or 2h, got '10 minutes'/],
    ["a choice misspelt", "kind: cuase\n", /^culprit: kind must be one of cause, fix, got 'cuase' \(did you mean cause\?\)/],
  ];
  for (const [name, extra, want] of jobCases) {
    it(`job file: ${name}`, async () => {
      const job = join(s.dir, "job.yaml");
      const reproducer = name.includes("section") ? "{comand: demo}" : name.includes("duration") ? "{command: demo, timeout: 10 minutes}" : "{command: demo}";
      const artifacts = name.includes("list given") ? "demo" : "[demo]";
      await writeFile(job, `repo: ${s.history.dir}\nbuild: {command: make, artifacts: ${artifacts}}\nreproducer: ${reproducer}\n${extra}`);
      const r = await culprit(["bisect", job], s.dir).done;
      await rm(job);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr.trim(), want);
    });
  }

  it("a crash that does not reproduce on the start commit", async () => {
    const work = join(s.dir, "work-norepro");
    const r = await culprit(["bisect", ...common, "--repo", s.history.dir, "--start", s.history.main[10] as string, "--work-dir", work], s.dir).done;
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^no culprit: .*(did not reproduce|no crash in \d+ runs of the start commit)/m);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.equal(await worktreeCount(s.history.dir), 1);
    await rm(work, { recursive: true });
  });
});

describe("culprit bisect: the default work dir", () => {
  it("is outside the repository, under XDG_CACHE_HOME/culprit, and printed at start", async () => {
    const s = await scratchHistory(simpleHistory(12, { culprit: 8, releases: { 2: "v1.0" } }));
    try {
      const args = ["bisect", "--repo", ".", "--build", "make -s demo", "--artifact", "demo", "--repro", "demo", "--runs", "2", "--start-runs", "2"];
      const r = await culprit(args, s.history.dir, { XDG_CACHE_HOME: join(s.dir, "xdg") }).done;
      assert.equal(r.code, 0, r.stderr);
      const work = /^culprit: work dir (.*)$/m.exec(r.stderr)?.[1] ?? "";
      assert.ok(work.startsWith(join(s.dir, "xdg", "culprit", "repo-")), `work dir: ${work}`);
      assert.ok(existsSync(join(work, "events.jsonl")));
      assert.equal((await git(s.history.dir, ["status", "--porcelain", "--ignored"])).stdout, "", "nothing in the user's checkout");
    } finally {
      await s.cleanup();
    }
  });
});

describe("culprit bisect: a reproducer that cannot run", () => {
  it("says so before any bisection when it fails on the start commit", async () => {
    const s = await scratchHistory(simpleHistory(20, { culprit: 10 }));
    try {
      const work = join(s.dir, "work");
      const args = ["bisect", "--repo", s.history.dir, "--build", "make -s demo", "--artifact", "demo", "--repro", "sh ./no-such-repro.sh", "--work-dir", work];
      const r = await culprit(args, s.dir).done;
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 2, `the work dir, then one error line: ${r.stderr}`);
      assert.match(lines[1] as string, /^culprit: the reproducer fails on the start commit: exit status 2: .*no-such-repro\.sh/);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.equal(events(work).filter((e) => e.type === "build-finished").length, 1, "only the start commit was built");
      assert.equal(await worktreeCount(s.history.dir), 1);
    } finally {
      await s.cleanup();
    }
  });

  it("names the commit where it starts to run (Lua's <const>), with a note that older commits could not run it", async () => {
    const s = await scratchHistory(simpleHistory(60, { culprit: 40, featureAt: 40, releases: { 5: "v1.0", 30: "v1.1" } }));
    try {
      const work = join(s.dir, "work");
      const args = ["bisect", "--repo", s.history.dir, "--build", "make -s demo", "--artifact", "demo", "--repro", "demo", "--runs", "3", "--work-dir", work];
      const r = await culprit(args, s.dir).done;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^all runs: reproducer could not run: exit status 1\n  demo: input:1: unknown attribute 'const'$/m);
      assert.match(r.stdout, new RegExp(`^older commits could not run the reproducer \\([0-9a-f]{40}: exit status 1\\); ${s.history.culprit} is the first commit where it runs`, "m"));
      assert.match(r.stdout, new RegExp(`^${s.history.culprit} is the first bad commit$`, "m"));
    } finally {
      await s.cleanup();
    }
  });
});

describe("culprit bisect: interrupts and resume", () => {
  let s: Scratch;
  before(async () => {
    s = await scratchHistory(simpleHistory(120, { culprit: 77, releases: { 3: "v1.0" } }));
  });
  after(async () => s.cleanup());

  it("Ctrl-C mid-build kills the build, removes worktrees, and resumes", async () => {
    const work = join(s.dir, "work-int");
    const marker = join(s.dir, "slow-builds");
    await mkdir(marker, { recursive: true });
    const job = join(s.dir, "slow.yaml");
    // The build is slow only while the marker exists, so the resumed run is quick.
    await writeFile(
      job,
      [
        `repo: ${s.history.dir}`,
        `workDir: ${work}`,
        `build: {command: [sh, -c, "if [ -d ${marker} ]; then sleep 31.25; fi; make -s demo"], artifacts: [demo]}`,
        "reproducer: {command: demo}",
        "runs: 2",
        "startRuns: 2",
      ].join("\n") + "\n",
    );
    const run = culprit(["bisect", job], s.dir);
    await eventsReach(work, (e) => e.some((x) => x.type === "build-started"));
    process.kill(run.pid, "SIGINT");
    const r = await run.done;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /culprit: interrupted \(continue with: culprit bisect --resume /);
    assert.equal(await processesMatching("sleep 31.25"), "", "the build's children are gone");
    assert.equal(await worktreeCount(s.history.dir), 1, "worktrees removed");
    await rm(marker, { recursive: true });
    const resumed = await culprit(["bisect", "--resume", work], s.dir).done;
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /^resuming: bisecting cause commit/m);
    assert.match(resumed.stdout, /is the first bad commit/);
  });

  it("resumes after kill -9 without repeating a finished build", async () => {
    const work = join(s.dir, "work-kill");
    const args = ["bisect", "--repo", s.history.dir, "--build", "make -s demo", "--artifact", "demo", "--repro", "demo", "--runs", "3", "--start-runs", "3", "--work-dir", work];
    const run = culprit(args, s.dir);
    await eventsReach(work, (e) => e.filter((x) => x.type === "build-finished").length >= 3);
    process.kill(run.pid, "SIGKILL");
    await run.done;
    const builtBefore = events(work).filter((x) => x.type === "build-finished").length;
    const refused = await culprit(["bisect", "--resume", work, "--runs", "3", "--strategy", "syzbot"], s.dir).done;
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr.trim(), /^culprit: --strategy and --runs cannot change a recorded bisection \(resume .* without them/);
    assert.equal(refused.stderr.trim().split("\n").length, 1);
    const json = join(s.dir, "result.json");
    const resumed = await culprit(["bisect", "--resume", work, "--json", json, "--run-timeout", "30s", "--jobs", "2"], s.dir).done;
    assert.equal(resumed.code, 0, resumed.stderr);
    const written = JSON.parse(readFileSync(json, "utf8")) as Record<string, unknown>;
    for (const field of ["kind", "outcome", "culprit", "candidates", "noop", "merge", "release", "confidence", "revisionsTested", "builds", "cachedBuilds", "runs", "time", "recipients", "report"]) {
      assert.ok(field in written, `--json result has ${field}`);
    }
    assert.equal(written["outcome"], "culprit");
    const all = events(work);
    const notes = all.flatMap((e) => (e.type === "note" && e.note.kind === "info" ? [e.note.text] : []));
    assert.ok(notes.includes("resumed with --run-timeout 30s (was 5m0s)"), `notes: ${notes.join(" | ")}`);
    assert.ok(notes.includes("resumed with --jobs 2 (was 4)"), `notes: ${notes.join(" | ")}`);
    assert.match(resumed.stdout, /^resumed with --run-timeout 30s \(was 5m0s\)$/m);
    const built = all.filter((x): x is Extract<BisectEvent, { type: "build-finished" }> => x.type === "build-finished" && !x.cached);
    const commits = built.map((b) => b.commit);
    assert.equal(new Set(commits).size, commits.length, "no commit was built twice");
    assert.ok(builtBefore >= 3 && all.filter((x) => x.type === "started").length === 2);
    const result = all.find((x) => x.type === "finished");
    assert.ok(result && result.type === "finished");
    assert.equal(result.result.culprit?.hash, s.history.culprit);
    assert.equal(await worktreeCount(s.history.dir), 1, "the resumed run cleaned up the killed run's worktrees");
  });
});
