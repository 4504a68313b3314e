// `culprit demo`: generates a repository with a planted crash and bisects it, end to end.

import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Command, Option } from "commander";
import { UserError } from "../core/errors.js";
import { prepareJob } from "../bisect/job.js";
import { DEMO_HISTORY } from "../demo/spec.js";
import { generateHistory } from "../demo/history.js";
import { execute } from "./bisect.js";

interface DemoFlags {
  dir: string;
  strategy?: string;
  jobs: string;
}

export async function demoCommand(flags: DemoFlags): Promise<void> {
  const dir = resolve(flags.dir);
  await rm(dir, { recursive: true, force: true });
  const started = performance.now();
  const history = await generateHistory(join(dir, "repo"), DEMO_HISTORY);
  if (!history.culprit) throw new Error("demo history has no planted culprit");
  process.stdout.write(
    `demo: generated ${history.main.length}+ commits in ${Math.round(performance.now() - started)} ms at ${history.dir}\n` +
      `demo: planted culprit ${history.culprit}; the crash fires in ~${DEMO_HISTORY.targetPercent}% of runs\n\n`,
  );
  const jobs = Number(flags.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UserError(`--jobs needs a whole number ≥ 1, not "${flags.jobs}"`);
  const prepared = await prepareJob(
    {
      repo: history.dir,
      start: "HEAD",
      build: { command: ["make", "-s", "demo"], artifacts: ["demo"], compiler: "gcc", timeout: "2m" },
      reproducer: { command: ["demo"], timeout: "30s" },
      parallelism: { commits: 1, runs: jobs },
      ...(flags.strategy ? { strategy: flags.strategy } : {}),
    },
    dir,
    join(dir, "work"),
  );
  const result = await execute(prepared, { quiet: false, json: join(dir, "result.json") });
  const named = result.culprit?.hash;
  const right = named === history.culprit;
  process.stdout.write(
    `\ndemo: ${right ? "RIGHT" : "WRONG"}: culprit named ${named ?? `none (${result.outcome})`}, planted ${history.culprit}` +
      ` — ${result.builds} builds, ${result.runs} runs, ${(performance.now() - started) / 1000 | 0}s; result in ${join(dir, "result.json")}\n`,
  );
  process.exitCode = right ? 0 : 1;
}

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("generate a C project with a planted flaky crash and find its culprit")
    .option("--dir <dir>", "where the demo repository and work dir go (replaced)", ".culprit/demo")
    .addOption(new Option("--strategy <name>", "search strategy").choices(["culprit", "syzbot"]))
    .option("--jobs <n>", "runs at once", "4")
    .action(async (flags: DemoFlags) => demoCommand(flags));
}
