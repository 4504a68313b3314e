// npm run bench:goodend [culprit|syzbot] — what finding the good end costs: builds and wall time
// of a bisection that finds its own good end (releases newest first) next to one given the
// newest clean release as `good`, in the same run, on two generated histories:
//  * the demo's (src/demo/spec.ts: flaky ASan crash, releases, a build-broken stretch);
//  * a Lua-like one: many releases, the oldest commits no longer build, and the reproducer
//    cannot run before the commit that introduced what it uses (it exits 1 there).

import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareJob } from "../src/bisect/job.js";
import { runBisection } from "../src/bisect/orchestrator.js";
import type { BisectResult } from "../src/bisect/result.js";
import { goDuration } from "../src/core/duration.js";
import { generateHistory, type GeneratedHistory, type HistorySpec } from "../src/demo/history.js";
import { DEMO_HISTORY } from "../src/demo/spec.js";

const STRATEGY = process.argv[2] ?? "culprit";

/** A tag every 16 main-line commits, v1.0 … v1.24: Lua has 30-odd release tags over its history. */
function everySixteen(commits: number): Record<number, string> {
  const tags: Record<number, string> = {};
  for (let i = 16, k = 0; i < commits; i += 16, k++) tags[i] = `v1.${k}`;
  return tags;
}

const LUA_LIKE: HistorySpec = {
  mainCommits: 400,
  culprit: 375,
  targetPercent: 100,
  buildBroken: { from: 0, to: 120 },
  releases: everySixteen(400),
  commentOnlyEvery: 3,
  sideBranches: [],
  randomness: "run-index",
  sanitize: false,
};
/** Main-line index of the commit that introduced what the Lua-like reproducer needs. */
const FEATURE_AT = 250;

interface Case {
  name: string;
  spec: HistorySpec;
  reproducer: (history: GeneratedHistory, dir: string) => Promise<string[]>;
}

const CASES: Case[] = [
  { name: "demo", spec: DEMO_HISTORY, reproducer: async () => ["demo"] },
  {
    name: "Lua-like",
    spec: LUA_LIKE,
    reproducer: async (history, dir) => {
      const script = join(dir, "repro.sh");
      const feature = history.main[FEATURE_AT] as string;
      await writeFile(
        script,
        `#!/bin/sh\nif ! git -C '${history.dir}' merge-base --is-ancestor ${feature} "$CULPRIT_COMMIT"; then echo "repro: unknown attribute 'const'"; exit 1; fi\nexec ./demo\n`,
      );
      await chmod(script, 0o755);
      return [script];
    },
  },
];

/** The newest release tag older than the planted culprit: the `good` a user who knew would give. */
function newestCleanRelease(spec: HistorySpec): string {
  const culprit = spec.culprit as number;
  const older = Object.entries(spec.releases)
    .map(([i, tag]) => ({ i: Number(i), tag }))
    .filter((r) => r.i < culprit)
    .sort((a, b) => b.i - a.i);
  return (older[0] as { tag: string }).tag;
}

async function bisect(history: GeneratedHistory, dir: string, name: string, command: string[], good: string | undefined): Promise<BisectResult> {
  const workDir = join(dir, `work-${name}-${good ?? "default"}`);
  const prepared = await prepareJob(
    {
      repo: history.dir,
      start: "HEAD",
      ...(good ? { good } : {}),
      strategy: STRATEGY,
      build: { command: ["make", "-s", "demo"], artifacts: ["demo"], timeout: "2m" },
      reproducer: { command, timeout: "30s" },
      parallelism: { commits: 1, runs: 4 },
      workDir,
    },
    dir,
    workDir,
  );
  return runBisection(prepared.spec, prepared.deps, { signal: new AbortController().signal });
}

function row(name: string, good: string, result: BisectResult, culprit: string | undefined): string {
  const verdict = result.culprit?.hash === culprit ? "right" : `WRONG (${result.outcome})`;
  const cells = [name, good, String(result.builds + result.cachedBuilds), String(result.runs), goDuration(result.time.totalMs), verdict];
  return cells.map((c, i) => c.padEnd([10, 18, 8, 6, 16, 0][i] as number)).join(" ");
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "culprit-bench-goodend-"));
  try {
    process.stdout.write(`strategy ${STRATEGY}\n${["history", "good", "builds", "runs", "wall time", "answer"].map((c, i) => c.padEnd([10, 18, 8, 6, 16, 0][i] as number)).join(" ")}\n`);
    for (const c of CASES) {
      const history = await generateHistory(join(dir, `repo-${c.name}`), c.spec);
      const command = await c.reproducer(history, dir);
      const explicit = newestCleanRelease(c.spec);
      const found = await bisect(history, dir, c.name, command, undefined);
      process.stdout.write(`${row(c.name, `default (${found.searched?.tag ?? found.searched?.bound ?? "?"})`, found, history.culprit)}\n`);
      const given = await bisect(history, dir, c.name, command, explicit);
      process.stdout.write(`${row(c.name, `good: ${explicit}`, given, history.culprit)}\n`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
