// npm run bench:overhead [culprit|syzbot] — what culprit itself costs per revision, on a generated
// 1,000-commit repository with a trivial build and test, next to plain `git bisect run`
// on the same history in the same process.
//
// Overhead of a revision = wall time from the end of the previous revision's tests to the
// end of its own, minus the time its build command and its reproducer processes ran.

import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateHistory } from "../src/demo/history.js";
import type { BisectEvent } from "../src/bisect/events.js";
import { prepareJob } from "../src/bisect/job.js";
import { runBisection } from "../src/bisect/orchestrator.js";
import { simpleHistory } from "../src/bisect/testkit.js";
import { goDuration } from "../src/core/duration.js";

const COMMITS = 1000;
const STRATEGY = process.argv[2] ?? "culprit";
const ROUNDS = 3;
// The "build" copies a source file; the "test" crashes when it holds the planted bug.
const BUILD = ["cp", "src/records.c", "artifact"];
const TEST_SCRIPT = "if grep -q 'total += release_record' artifact; then exit 3; fi";

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function overheadPerRevision(events: readonly BisectEvent[]): number[] {
  const out: number[] = [];
  let previousEnd: number | undefined;
  let commandMs = 0;
  for (const e of events) {
    if (e.type === "started") previousEnd = e.at;
    if (e.type === "build-finished") commandMs += e.durationMs;
    if (e.type === "run-finished") commandMs += e.durationMs;
    if (e.type === "tests-finished" || (e.type === "build-finished" && e.build.kind === "ok" && isBuildOnly(events, e))) {
      if (previousEnd !== undefined) out.push(e.at - previousEnd - commandMs);
      previousEnd = e.at;
      commandMs = 0;
    }
  }
  return out;
}

/** The culprit's parent is built for its signature only: no tests-finished follows. */
function isBuildOnly(events: readonly BisectEvent[], build: Extract<BisectEvent, { type: "build-finished" }>): boolean {
  return !events.some((x) => x.type === "tests-finished" && x.commit === build.commit);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "culprit-bench-"));
  try {
    const history = await generateHistory(join(dir, "repo"), simpleHistory(COMMITS, { culprit: 637, commentOnlyEvery: 0 }));
    const good = history.main[0] as string;
    const overheads: number[] = [];
    const walls: number[] = [];
    let revisions = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const workDir = join(dir, `work-${round}`);
      const prepared = await prepareJob(
        {
          repo: history.dir,
          start: "HEAD",
          good,
          strategy: STRATEGY,
          build: { command: BUILD, artifacts: ["artifact"], clean: false },
          // The test only exits non-zero (no crash report): that exit status is the crash.
          reproducer: { command: ["sh", "-c", TEST_SCRIPT], exitStatus: "crash" },
          runs: 1,
          startRuns: 1,
          parallelism: { commits: 1, runs: 1 },
          workDir,
          cacheDir: join(workDir, "cache"),
        },
        dir,
        workDir,
      );
      const events: BisectEvent[] = [];
      const started = performance.now();
      const result = await runBisection(prepared.spec, prepared.deps, { signal: new AbortController().signal, onEvent: (e) => events.push(e) });
      walls.push(performance.now() - started);
      if (result.culprit?.hash !== history.culprit) throw new Error(`culprit named ${result.culprit?.hash}, planted ${history.culprit}`);
      overheads.push(...overheadPerRevision(events));
      revisions = result.revisionsTested;
    }

    // The same search with git alone, in a clone (git bisect moves the working tree).
    const clone = join(dir, "clone");
    spawnSync("git", ["clone", "-q", history.dir, clone]);
    const gitWalls: number[] = [];
    let gitSteps = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      spawnSync("git", ["bisect", "start", "HEAD", good], { cwd: clone });
      const run = spawnSync("git", ["bisect", "run", "sh", "-c", `${BUILD.join(" ")} && ${TEST_SCRIPT}`], { cwd: clone, encoding: "utf8" });
      gitWalls.push(performance.now() - started);
      gitSteps = (run.stdout.match(/^running /gm) ?? []).length;
      if (!run.stdout.includes(`${history.culprit} is the first bad commit`)) throw new Error("git bisect run found another commit");
      spawnSync("git", ["bisect", "reset"], { cwd: clone });
    }

    const perRevision = median(overheads);
    console.log(`bench:overhead — ${COMMITS}-commit generated history, trivial build (cp) and test (grep), ${ROUNDS} rounds`);
    console.log(`culprit:        strategy ${STRATEGY}, ${revisions} revisions per bisection, median wall ${goDuration(median(walls))}`);
    console.log(`culprit:        orchestration overhead per revision (excl. build/test commands): median ${perRevision.toFixed(1)} ms, max ${Math.max(...overheads).toFixed(1)} ms (target ≤ 150 ms)`);
    console.log(`git bisect run: ${gitSteps} steps per bisection, median wall ${goDuration(median(gitWalls))}, ${(median(gitWalls) / Math.max(1, gitSteps)).toFixed(1)} ms per step (commands included)`);
    console.log(`ratio:          culprit wall / git bisect run wall = ${(median(walls) / median(gitWalls)).toFixed(2)}`);
    if (perRevision > 150) process.exitCode = 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
