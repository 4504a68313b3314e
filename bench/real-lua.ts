// npm run bench:real-lua -- PATH_TO_LUA_CLONE [CASE...] (REAL_LUA_WORK=DIR reuses DIR's builds) — culprit on real crash regressions from
// Lua's own history (github.com/lua/lua), data nobody tuned the strategy on. Each case is a bug
// whose fix names it; the reproducer (bench/real-lua/*.lua) was written from the fix's test or
// description, and the expected culprit was found without culprit: by reading the diffs and by
// building the expected commit and its parent (docs/real-histories.md says how, per case).
// Every case is bisected by culprit's strategy and by syzbot's rules, on AddressSanitizer builds
// sharing one build cache; one row per case. Not run by CI: it needs the clone and ~an hour.

import { copyFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { prepareJob } from "../src/bisect/job.js";
import { Interrupted, runBisection } from "../src/bisect/orchestrator.js";
import type { BisectResult } from "../src/bisect/result.js";
import { goDuration } from "../src/core/duration.js";
import { Repo } from "../src/git/git.js";

interface RealCase {
  name: string;
  /** The commit that fixed the bug: the bisection starts at its parent. */
  fix: string;
  /** A commit without the bug (found with the expected culprit, not by culprit): the newest release before it, where that is clean. */
  good: string;
  /** The commit that introduced the crash the reproducer shows, established independently. */
  expected: string;
  /** bench/real-lua/<name>.lua */
  script: string;
}

const CASES: readonly RealCase[] = [
  // v5.4-alpha has the same stale pointer in 'attriblocalstat'; 4d462893 removed it, f6aab3ec brought it back.
  { name: "vardesc-realloc", fix: "e70f275f", good: "4d462893", expected: "f6aab3ec", script: "vardesc-realloc.lua" },
  { name: "coroutine-recover", fix: "74d99057", good: "v5.4.1", expected: "287b302a", script: "coroutine-recover.lua" },
  { name: "coroutine-close-chain", fix: "1e64c139", good: "v5.4-alpha", expected: "0d529138", script: "coroutine-close-chain.lua" },
  { name: "gmatch-depth", fix: "efddc230", good: "v5.3.1", expected: "10fffcd8", script: "gmatch-depth.lua" },
];

const ASAN_BUILD = ["make", "-j2", "CC=gcc -fsanitize=address -fno-omit-frame-pointer -g", "lua"];
const STRATEGIES = ["culprit", "syzbot"] as const;

const here = dirname(fileURLToPath(import.meta.url));
/** The .lua files live in the source tree (bench/real-lua), beside this file's source. */
const scripts = resolve(here, "..", "..", "bench", "real-lua");

// Ctrl-C or a kill ends the bisection in flight the way the CLI does: its worktrees and processes go with it.
const stop = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => stop.abort());

async function bisect(clone: string, c: RealCase, strategy: string, dir: string): Promise<BisectResult> {
  const caseDir = join(dir, c.name);
  await mkdir(caseDir, { recursive: true });
  await copyFile(join(scripts, c.script), join(caseDir, c.script));
  const workDir = join(caseDir, `work-${strategy}-${process.pid}`);
  const prepared = await prepareJob(
    {
      repo: clone,
      start: `${c.fix}^`,
      good: c.good,
      strategy,
      build: { command: ASAN_BUILD, artifacts: ["lua"], timeout: "10m" },
      reproducer: { command: ["lua", join(caseDir, c.script)], timeout: "60s" },
      runs: 4,
      startRuns: 8,
      parallelism: { commits: 1, runs: 2 },
      workDir,
      // Both strategies read the same builds: the comparison is of decisions, not of compilers.
      cacheDir: join(dir, "cache"),
    },
    caseDir,
    workDir,
  );
  return runBisection(prepared.spec, prepared.deps, { signal: stop.signal });
}

/** The answer in a cell: a short hash, a range of candidates, or why there is none. */
function answer(r: BisectResult): string {
  if (r.outcome === "culprit" && r.culprit) return r.culprit.hash.slice(0, 8);
  if (r.outcome === "inconclusive") {
    const ranges = r.candidateRanges ?? [];
    if (ranges.length > 0) return ranges.map((g) => `${g.oldest.hash.slice(0, 8)}..${g.newest.hash.slice(0, 8)}(${g.commits})`).join(",");
    return `one of ${r.candidates.map((c) => c.hash.slice(0, 8)).join(",")}`;
  }
  return `${r.outcome}: ${r.reason ?? ""}`;
}

function verdict(r: BisectResult, expected: string): string {
  if (r.outcome === "culprit") return r.culprit?.hash === expected ? "right" : "WRONG";
  if (r.outcome === "inconclusive") return r.candidates.some((c) => c.hash === expected) ? "range holds it" : "range misses it";
  return "none";
}

// builds: run here + served by the cache the two strategies share.
const COLUMNS = ["case", "expected", "strategy", "answer", "verdict", "confidence", "builds", "runs", "wall time"];
const WIDTHS = [22, 9, 8, 30, 16, 10, 7, 5, 0];
const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(WIDTHS[i] as number)).join(" ");

async function main(): Promise<void> {
  const [clonePath, ...names] = process.argv.slice(2);
  if (!clonePath) {
    process.stderr.write("usage: npm run bench:real-lua -- PATH_TO_LUA_CLONE [CASE...]\n");
    process.exit(2);
  }
  const clone = resolve(clonePath);
  const repo = await Repo.open(clone);
  const cases = names.length > 0 ? CASES.filter((c) => names.includes(c.name)) : CASES;
  // REAL_LUA_WORK: an earlier run's directory, to read its build cache again (its work dirs are left alone).
  const dir = process.env.REAL_LUA_WORK ?? join(tmpdir(), `culprit-real-lua-${process.pid}`);
  process.stdout.write(`work in ${dir}\n${line(COLUMNS)}\n`);
  for (const c of cases) {
    const expected = await repo.resolve(c.expected);
    for (const strategy of STRATEGIES) {
      const r = await bisect(clone, c, strategy, dir);
      const cells = [c.name, c.expected, strategy, answer(r), verdict(r, expected), r.confidence.toFixed(2), `${r.builds}+${r.cachedBuilds}`, String(r.runs), goDuration(r.time.totalMs)];
      process.stdout.write(`${line(cells)}\n`);
    }
  }
}

try {
  await main();
} catch (error) {
  if (!(error instanceof Interrupted)) throw error;
  process.stderr.write("interrupted\n");
  process.exitCode = 130;
}
