// `culprit demo`: generates a repository with a planted crash and bisects it, end to end.

import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Command, Option } from "commander";
import { UserError } from "../core/errors.js";
import { prepareJob } from "../bisect/job.js";
import { DEMO_HISTORY } from "../demo/spec.js";
import { generateHistory } from "../demo/history.js";
import { execute } from "./bisect.js";
import type { BisectResult } from "../bisect/result.js";

interface DemoFlags {
  dir: string;
  strategy?: string;
  jobs: string;
}

/** The job over the demo repository, for one strategy, in its own work dir and build cache. */
function demoJob(repo: string, workDir: string, jobs: number, strategy: string): Record<string, unknown> {
  return {
    repo,
    start: "HEAD",
    strategy,
    build: { command: ["make", "-s", "demo"], artifacts: ["demo"], compiler: "gcc", timeout: "2m" },
    reproducer: { command: ["demo"], timeout: "30s" },
    parallelism: { commits: 1, runs: jobs },
    workDir,
  };
}

export async function demoCommand(flags: DemoFlags): Promise<void> {
  const dir = resolve(flags.dir);
  const jobs = Number(flags.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UserError(`--jobs needs a whole number ≥ 1, not "${flags.jobs}"`);
  await rm(dir, { recursive: true, force: true });
  const started = performance.now();
  const history = await generateHistory(join(dir, "repo"), DEMO_HISTORY);
  if (!history.culprit) throw new Error("demo history has no planted culprit");
  process.stdout.write(
    `demo: generated ${history.main.length}+ commits in ${Math.round(performance.now() - started)} ms at ${history.dir}\n` +
      `demo: planted culprit ${history.culprit}; the crash fires in ~${DEMO_HISTORY.targetPercent}% of runs\n\n`,
  );
  const strategy = flags.strategy ?? "culprit";
  const summary = (name: string, result: BisectResult, ms: number): string => {
    const named = result.culprit?.hash;
    const verdict = named === history.culprit ? "RIGHT" : "WRONG";
    return `${verdict}: ${name} strategy named ${named ?? `no culprit (${result.outcome})`} — ${result.builds} builds, ${result.runs} runs, ${(ms / 1000).toFixed(1)}s`;
  };
  const mainStart = performance.now();
  const prepared = await prepareJob(demoJob(history.dir, join(dir, "work"), jobs, strategy), dir, join(dir, "work"));
  const result = await execute(prepared, { quiet: false, json: join(dir, "result.json") });
  const lines = [summary(strategy, result, performance.now() - mainStart)];
  if (!flags.strategy) {
    // The same history with syzbot's rules, quietly, to show what the default saves.
    const otherStart = performance.now();
    const other = await prepareJob(demoJob(history.dir, join(dir, "work-syzbot"), jobs, "syzbot"), dir, join(dir, "work-syzbot"));
    const otherResult = await execute(other, { quiet: true });
    lines.push(summary("syzbot", otherResult, performance.now() - otherStart));
  }
  process.stdout.write(`\n${lines.map((l) => `demo: ${l}`).join("\n")}\ndemo: planted ${history.culprit}; result in ${join(dir, "result.json")}\n`);
  process.exitCode = result.culprit?.hash === history.culprit ? 0 : 1;
}

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("generate a C project with a planted flaky crash and find its culprit")
    .option("--dir <dir>", "where the demo repository and work dir go (replaced)", ".culprit/demo")
    .addOption(new Option("--strategy <name>", "search strategy (default: culprit, then syzbot's rules for comparison)").choices(["culprit", "syzbot"]))
    .option("--jobs <n>", "runs at once", "4")
    .action(async (flags: DemoFlags) => demoCommand(flags));
}
