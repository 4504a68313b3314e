// npm run bench:overhead [culprit|syzbot] — what culprit itself costs, on a generated 1,000-commit
// repository, in three parts:
//
//  1. A trivial build (cp) and a deterministic test (grep) at P=1, next to plain `git bisect run`
//     on the same history in the same process: orchestration overhead per revision, wall ratio.
//  2. Builds and runs that take random times (a sleep chosen by commit and run), at P=1 and P=4:
//     overhead per revision, and at P=4 the workers' busy share — the time build commands and
//     reproducers ran, over P × the wall time — which a barrier per step would pull down.
//  3. The same random times with the job's default runs, next to git bisect run testing once per
//     step: the wall time a deterministic crash costs once the strategy has learnt it is one.
//  4. Part 3 with commands that compute for those times instead of sleeping: builds made ahead
//     and the runs beside them share the machine's cores, as with QEMU under TCG.
//     Only this part builds ahead (the default with clean checkouts, which it uses): parts 1 and
//     2 time the orchestrator around one build and then its runs (incremental builds, where a
//     job does not build ahead by default), which builds overlapping the runs would blur.
//
// Overhead of a revision (P=1) = wall time from the end of the previous revision's tests to the
// end of its own, minus the time its build command and its reproducer processes ran.

import { spawn, spawnSync } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateHistory, type GeneratedHistory } from "../src/demo/history.js";
import type { BisectEvent } from "../src/bisect/events.js";
import { prepareJob } from "../src/bisect/job.js";
import { runBisection } from "../src/bisect/orchestrator.js";
import type { BisectResult } from "../src/bisect/result.js";
import { simpleHistory } from "../src/bisect/testkit.js";
import { goDuration } from "../src/core/duration.js";
import type { Strategy } from "../src/core/strategy.js";
import { median } from "./median.js";

const COMMITS = 1000;
const STRATEGY = process.argv[2] ?? "culprit";
const ROUNDS = 3;
// The "build" copies a source file; the "test" crashes when it holds the planted bug.
const BUILD = ["cp", "src/records.c", "artifact"];
const TEST_SCRIPT = "if grep -q 'total += release_record' artifact; then exit 3; fi";
/** The same build and test, after a sleep of 200–1000 ms (build) or 100–500 ms (run) chosen by commit and run. */
const TIMED_SCRIPT = `#!/bin/sh
n=$(printf '%s' "$1 $CULPRIT_COMMIT $CULPRIT_RUN" | cksum | cut -d' ' -f1)
if [ "$1" = build ]; then ms=$(( n % 800 + 200 )); else ms=$(( n % 400 + 100 )); fi
sleep "$(( ms / 1000 )).$(printf %03d $(( ms % 1000 )))"
if [ "$1" = build ]; then exec cp src/records.c artifact; fi
${TEST_SCRIPT}
`;

/** Time the commands of each request kept its worker busy: its build, then its runs (runs at once overlap, so their union). */
function busyPerRequest(events: readonly BisectEvent[]): Map<string, number> {
  const busy = new Map<string, number>();
  const runs = new Map<string, [number, number][]>();
  for (const e of events) {
    if (e.type === "build-finished") busy.set(e.request, (busy.get(e.request) ?? 0) + e.durationMs);
    if (e.type === "run-finished") runs.set(e.request, [...(runs.get(e.request) ?? []), [e.at - e.durationMs, e.at]]);
  }
  for (const [request, spans] of runs) {
    spans.sort((a, b) => a[0] - b[0]);
    let total = 0;
    let [from, to] = spans[0] as [number, number];
    for (const [start, end] of spans.slice(1)) {
      if (start > to) {
        total += to - from;
        [from, to] = [start, end];
      } else to = Math.max(to, end);
    }
    busy.set(request, (busy.get(request) ?? 0) + total + (to - from));
  }
  return busy;
}

function overheadPerRevision(events: readonly BisectEvent[]): number[] {
  const out: number[] = [];
  const busy = busyPerRequest(events);
  let previousEnd: number | undefined;
  let commandMs = 0;
  for (const e of events) {
    if (e.type === "started") previousEnd = e.at;
    if (e.type === "tests-finished" || (e.type === "build-finished" && e.build.kind === "ok" && isBuildOnly(events, e))) commandMs += busy.get(e.request) ?? 0;
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

/**
 * Time build commands and reproducers ran, over `workers` × the wall time from `from` (default
 * the start) to the last fact; only facts of requests handed out from then on count.
 */
function busyShare(events: readonly BisectEvent[], workers: number, from?: number): { share: number; inRequests: number; idlePerRevisionMs: number } {
  const started = from ?? events.find((e) => e.type === "started")?.at ?? 0;
  const requests = new Set(events.filter((e) => e.type === "tests-started" && e.at >= started).map((e) => (e.type === "tests-started" ? e.request : "")));
  let end = started;
  const revisions = new Set<string>();
  for (const e of events) {
    if ((e.type === "build-finished" || e.type === "run-finished") && requests.has(e.request)) {
      end = Math.max(end, e.at);
      revisions.add(e.commit);
    }
  }
  let busy = 0;
  for (const [request, ms] of busyPerRequest(events)) if (requests.has(request)) busy += ms;
  const capacity = workers * (end - started);
  // Worker time with no request to work on: the strategy had fewer questions worth asking than
  // workers (the start commit's first batch, the last steps of a bisection). The rest of the idle
  // time lies inside requests: checkouts, spawns, artifact copies, logs — the orchestrator's own.
  let unasked = 0;
  let inFlight = 0;
  let last = started;
  for (const e of events) {
    if (e.at < started || e.at > end) continue;
    const change = e.type === "tests-started" && requests.has(e.request) ? 1 : e.type === "tests-finished" && requests.has(e.request) ? -1 : 0;
    if (change === 0) continue;
    unasked += Math.max(0, workers - inFlight) * (e.at - last);
    last = e.at;
    inFlight += change;
  }
  unasked += Math.max(0, workers - inFlight) * (end - last);
  return { share: busy / capacity, inRequests: busy / Math.max(1, capacity - unasked), idlePerRevisionMs: (capacity - busy) / Math.max(1, revisions.size) };
}

interface Setup {
  build: string[];
  reproducer: string[];
  runs: number;
  workers: number;
  /** Runs at once per commit (the job's parallelism.runs); default 1. */
  runsAtOnce?: number;
  /** Runs on the start commit; default `runs`. */
  startRuns?: number;
  /** Every request of whole waves short of `runs` is made a full batch: the strategy as it was
   *  before it weighed request sizes, for comparison. */
  fullBatches?: boolean;
  /** `build.clean` (default false: incremental builds, as parts 1 and 2 time them). */
  clean?: boolean;
  /** `parallelism.buildAhead`; absent: the job's default (on with clean checkouts). */
  buildAhead?: boolean;
}

async function bisect(history: GeneratedHistory, dir: string, name: string, setup: Setup): Promise<{ events: BisectEvent[]; wallMs: number; result: BisectResult; decisionsMs: number[] }> {
  const workDir = join(dir, name);
  const prepared = await prepareJob(
    {
      repo: history.dir,
      start: "HEAD",
      good: history.main[0] as string,
      strategy: STRATEGY,
      build: { command: setup.build, artifacts: ["artifact"], clean: setup.clean ?? false },
      // The test only exits non-zero (no crash report): that exit status is the crash.
      reproducer: { command: setup.reproducer, exitStatus: "crash" },
      runs: setup.runs,
      startRuns: setup.startRuns ?? setup.runs,
      parallelism: { commits: setup.workers, runs: setup.runsAtOnce ?? 1, ...(setup.buildAhead !== undefined ? { buildAhead: setup.buildAhead } : {}) },
      workDir,
      cacheDir: join(workDir, "cache"),
    },
    dir,
    workDir,
  );
  const events: BisectEvent[] = [];
  // The strategy's own time, apart: while it decides, a freed worker waits (it is not orchestration).
  const strategy = prepared.deps.strategy;
  const decisionsMs: number[] = [];
  const timed: Strategy = {
    name: strategy.name,
    next: (...args) => {
      const t = performance.now();
      try {
        const step = strategy.next(...args);
        const wave = setup.runsAtOnce ?? 1;
        if (!setup.fullBatches || step.kind !== "test") return step;
        return { ...step, tests: step.tests.map((t) => (t.runs < setup.runs && t.runs % wave === 0 ? { ...t, runs: setup.runs } : t)) };
      } finally {
        decisionsMs.push(performance.now() - t);
      }
    },
  };
  const started = performance.now();
  const result = await runBisection(prepared.spec, { ...prepared.deps, strategy: timed }, { signal: new AbortController().signal, onEvent: (e) => events.push(e) });
  const wallMs = performance.now() - started;
  if (result.culprit?.hash !== history.culprit) throw new Error(`culprit named ${result.culprit?.hash}, planted ${history.culprit}`);
  return { events, wallMs, result, decisionsMs };
}

function spawnWait(argv: readonly string[], cwd: string): Promise<number | null> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(file as string, args, { cwd, stdio: "ignore" });
    child.once("error", reject);
    child.once("close", (code) => resolve(code));
  });
}

/** Wall time of checking out, building and testing `commits` in `clone`, one after the other. */
async function bareLoop(clone: string, commits: readonly string[]): Promise<number> {
  const started = performance.now();
  for (const commit of commits) {
    await spawnWait(["git", "checkout", "--detach", "--force", "--quiet", commit], clone);
    await spawnWait(BUILD, clone);
    await spawnWait(["sh", "-c", TEST_SCRIPT], clone);
  }
  const wall = performance.now() - started;
  spawnSync("git", ["checkout", "--quiet", "--force", "-"], { cwd: clone });
  return wall;
}

interface VersusGit {
  history: GeneratedHistory;
  dir: string;
  /** A clone git bisect may move. */
  clone: string;
  good: string;
  tip: string;
}

/**
 * The job's default runs (10 per commit, 20 on the start commit, 4 at once) and clean checkouts
 * (building ahead), then without building ahead, then also with full batches, next to git bisect
 * run testing once per step with the same `script` (`script build`, `script run`); prints the walls.
 */
async function versusGitBisect(at: VersusGit, script: string, name: string, what: string): Promise<void> {
  const gitStep = join(at.dir, `git-step-${name}.sh`);
  await writeFile(gitStep, `#!/bin/sh\nexport CULPRIT_COMMIT=$(git rev-parse HEAD) CULPRIT_RUN=0\n"${script}" build && "${script}" run\n`);
  await chmod(gitStep, 0o755);
  const defaultWalls: number[] = [];
  const serialWalls: number[] = [];
  const fullWalls: number[] = [];
  const gitWalls: number[] = [];
  let defaultRuns = 0;
  let fullRuns = 0;
  let defaultRevisions = 0;
  // Clean checkouts, as a job's build is by default: builds ahead are on by default then.
  const defaults = { build: [script, "build"], reproducer: [script, "run"], runs: 10, startRuns: 20, runsAtOnce: 4, workers: 1, clean: true };
  for (let round = 0; round < ROUNDS; round++) {
    const run = await bisect(at.history, at.dir, `${name}-default-${round}`, defaults);
    defaultWalls.push(run.wallMs);
    defaultRuns = run.result.runs;
    defaultRevisions = run.result.revisionsTested;
    const serial = await bisect(at.history, at.dir, `${name}-serial-${round}`, { ...defaults, buildAhead: false });
    serialWalls.push(serial.wallMs);
    const full = await bisect(at.history, at.dir, `${name}-full-${round}`, { ...defaults, buildAhead: false, fullBatches: true });
    fullWalls.push(full.wallMs);
    fullRuns = full.result.runs;
    const started = performance.now();
    spawnSync("git", ["bisect", "start", at.tip, at.good], { cwd: at.clone });
    const git = spawnSync("git", ["bisect", "run", gitStep], { cwd: at.clone, encoding: "utf8" });
    gitWalls.push(performance.now() - started);
    if (!git.stdout.includes(`${at.history.culprit} is the first bad commit`)) throw new Error("git bisect run found another commit");
    spawnSync("git", ["bisect", "reset"], { cwd: at.clone });
  }
  console.log(`the job's default runs (10 per commit, 20 on the start commit, 4 at once) and clean checkouts (building ahead), ${what}, P=1:`);
  console.log(`  culprit:        ${defaultRevisions} revisions, ${defaultRuns} runs per bisection, median wall ${goDuration(median(defaultWalls))}`);
  console.log(`  culprit, no build ahead (parallelism.buildAhead: false): median wall ${goDuration(median(serialWalls))}`);
  console.log(`  culprit, no build ahead and every search request a full batch (as before request sizes were weighed): ${fullRuns} runs, median wall ${goDuration(median(fullWalls))}`);
  console.log(`  git bisect run: one run per step, median wall ${goDuration(median(gitWalls))}`);
  const ratio = (walls: number[]): string => (median(walls) / median(gitWalls)).toFixed(2);
  console.log(`  ratio:          culprit wall / git bisect run wall = ${ratio(defaultWalls)} (target ≤ 1.2); no build ahead ${ratio(serialWalls)}; and full batches ${ratio(fullWalls)}`);
}

/** Iterations per millisecond of the shell loop spinScript runs, read from the CPU time `times` reports (not the wall: other load must not skew it). */
function loopsPerMs(): number {
  const loops = 400000;
  const out = spawnSync("sh", ["-c", `i=${loops}; while [ $i -gt 0 ]; do i=$((i-1)); done; times`], { encoding: "utf8" }).stdout;
  // `times`: the shell's user and system time on the first line, as "0m0.190s 0m0.003s".
  const seconds = [...(out.split("\n")[0] ?? "").matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + 60 * Number(m[1]) + Number(m[2]), 0);
  if (!(seconds > 0)) throw new Error(`could not read the shell loop's CPU time from: ${out}`);
  return loops / (seconds * 1000);
}

/** TIMED_SCRIPT's build and run, with its sleep replaced by as much CPU work. */
function spinScript(perMs: number): string {
  return TIMED_SCRIPT.replace(/^sleep .*$/m, `i=$(( ms * ${Math.max(1, Math.round(perMs))} )); while [ $i -gt 0 ]; do i=$((i-1)); done`);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "culprit-bench-"));
  try {
    const history = await generateHistory(join(dir, "repo"), simpleHistory(COMMITS, { culprit: 637, commentOnlyEvery: 0 }));
    const good = history.main[0] as string;

    // Part 1: trivial commands, P=1, next to git bisect run.
    const overheads: number[] = [];
    const walls: number[] = [];
    const trivialDecisions: number[] = [];
    let revisions = 0;
    let tested: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const run = await bisect(history, dir, `work-${round}`, { build: BUILD, reproducer: ["sh", "-c", TEST_SCRIPT], runs: 1, workers: 1 });
      walls.push(run.wallMs);
      trivialDecisions.push(...run.decisionsMs);
      overheads.push(...overheadPerRevision(run.events));
      revisions = run.result.revisionsTested;
      tested = run.events.flatMap((e) => (e.type === "tests-started" ? [e.commit] : []));
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
    // The floor under any orchestrator written in Node: the same checkouts, builds and tests that
    // culprit did, started one after the other from this process, with nothing else around them.
    const floorWalls: number[] = [];
    for (let round = 0; round < ROUNDS; round++) floorWalls.push(await bareLoop(clone, tested));
    const perRevision = median(overheads);
    console.log(`bench:overhead — ${COMMITS}-commit generated history, strategy ${STRATEGY}, ${ROUNDS} rounds each`);
    console.log(`trivial build (cp) and test (grep), P=1:`);
    console.log(`  culprit:        ${revisions} revisions per bisection, median wall ${goDuration(median(walls))}`);
    console.log(`  culprit:        orchestration overhead per revision (excl. build/test commands): median ${perRevision.toFixed(1)} ms, max ${Math.max(...overheads).toFixed(1)} ms (target ≤ 150 ms)`);
    console.log(`  culprit:        of which strategy decisions: median ${median(trivialDecisions).toFixed(1)} ms per call`);
    console.log(`  git bisect run: ${gitSteps} steps per bisection, median wall ${goDuration(median(gitWalls))}, ${(median(gitWalls) / Math.max(1, gitSteps)).toFixed(1)} ms per step (commands included)`);
    console.log(`  ratio:          culprit wall / git bisect run wall = ${(median(walls) / median(gitWalls)).toFixed(2)} (target ≤ 1.2)`);
    console.log(`  floor:          the same ${tested.length} checkouts, builds and tests spawned from this Node process with nothing around them: median wall ${goDuration(median(floorWalls))}, ratio to git bisect run ${(median(floorWalls) / median(gitWalls)).toFixed(2)}`);

    // Part 2: builds and runs of random length, at P=1 and P=4.
    const timed = join(dir, "timed.sh");
    await writeFile(timed, TIMED_SCRIPT);
    await chmod(timed, 0o755);
    let failed = perRevision > 150;
    for (const workers of [1, 4]) {
      const shares: number[] = [];
      const inRequests: number[] = [];
      const bisectingShares: number[] = [];
      const idle: number[] = [];
      const timedOverheads: number[] = [];
      const timedWalls: number[] = [];
      const decisions: number[] = [];
      let timedRevisions = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const run = await bisect(history, dir, `timed-${workers}-${round}`, { build: [timed, "build"], reproducer: [timed, "run"], runs: 2, workers });
        const busy = busyShare(run.events, workers);
        shares.push(busy.share);
        inRequests.push(busy.inRequests);
        // Until the start commit's runs name the crash, the strategy has one test to give.
        const firstFinished = run.events.find((e) => e.type === "tests-finished")?.at;
        bisectingShares.push(busyShare(run.events, workers, firstFinished).share);
        idle.push(busy.idlePerRevisionMs);
        if (workers === 1) timedOverheads.push(...overheadPerRevision(run.events));
        timedWalls.push(run.wallMs);
        decisions.push(...run.decisionsMs);
        timedRevisions = run.result.revisionsTested;
      }
      console.log(`random build (200–1000 ms) and run (100–500 ms) times, up to 2 runs per commit one after the other, P=${workers}:`);
      console.log(`  ${timedRevisions} revisions per bisection, median wall ${goDuration(median(timedWalls))}`);
      if (workers === 1) {
        const m = median(timedOverheads);
        console.log(`  orchestration overhead per revision: median ${m.toFixed(1)} ms, max ${Math.max(...timedOverheads).toFixed(1)} ms (target ≤ 150 ms)`);
        failed ||= m > 150;
      }
      const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;
      console.log(`  workers' busy share: median ${percent(median(shares))} (${shares.map(percent).join(", ")}); idle worker time per revision: median ${median(idle).toFixed(0)} ms`);
      console.log(`  busy share while a request was in flight (idle inside requests is the orchestrator's own): median ${percent(median(inRequests))} (${inRequests.map(percent).join(", ")})${workers > 1 ? " (target ≥ 90%)" : ""}`);
      console.log(`  busy share after the start commit's first batch (the strategy has one test to give until then): median ${percent(median(bisectingShares))} (${bisectingShares.map(percent).join(", ")})`);
      console.log(`  strategy decisions: ${(decisions.length / ROUNDS).toFixed(0)} per bisection, median ${median(decisions).toFixed(1)} ms, total ${goDuration(decisions.reduce((a, b) => a + b, 0) / ROUNDS)} per bisection (a freed worker waits for them)`);
      // The orchestrator's bar: requests of one run each (a deterministic crash) leave a larger
      // share to the bisection's last steps, where the strategy has fewer questions than workers.
      if (workers > 1) failed ||= median(inRequests) < 0.9;
    }

    // Part 3: the job's default runs (10 per commit, 20 on the start commit, 4 at once) on this
    // deterministic crash, next to git bisect run testing once per step with the same timed
    // commands: what learning that the crash always fires saves.
    // The floor's checkouts left the clone detached: bisect from the history's own tip.
    const tip = spawnSync("git", ["rev-parse", "HEAD"], { cwd: history.dir, encoding: "utf8" }).stdout.trim();
    const vsGit = { history, dir, clone, good, tip };
    await versusGitBisect(vsGit, timed, "sleep", "the same random times");
    // Part 4: the same, with commands that compute instead of sleeping. Part 3's sleeps leave the
    // CPU to the builds made ahead; here the runs (4 at once on this machine's cores) take the
    // CPU those builds need, as QEMU under TCG or a reproducer that spins does.
    const spin = join(dir, "spin.sh");
    await writeFile(spin, spinScript(loopsPerMs()));
    await chmod(spin, 0o755);
    await versusGitBisect(vsGit, spin, "spin", "the same times as CPU work (a shell loop calibrated to them)");
    if (failed) process.exitCode = 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
