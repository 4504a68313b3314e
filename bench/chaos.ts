// npm run bench:chaos [kills] [seed] — the demo history bisected by the CLI, killed with SIGKILL
// at random moments (default 20) and resumed each time, next to one uninterrupted bisection of
// the same history. Fails unless the answer is the same and nothing was repeated or left behind.

import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chaosBisection } from "../src/bisect/chaoskit.js";
import { generateHistory } from "../src/demo/history.js";
import { DEMO_HISTORY } from "../src/demo/spec.js";

const KILLS = Number(process.argv[2] ?? 20);
const SEED = Number(process.argv[3] ?? 1);
const MAIN = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "culprit-chaos-"));
  try {
    const history = await generateHistory(join(dir, "repo"), DEMO_HISTORY);
    const jobFile = join(dir, "job.yaml");
    await writeFile(
      jobFile,
      JSON.stringify({
        repo: history.dir,
        start: "HEAD",
        build: { command: ["make", "-s", "demo"], artifacts: ["demo"], compiler: "gcc", timeout: "2m" },
        reproducer: { command: ["demo"], timeout: "30s" },
        parallelism: { commits: 1, runs: 2 },
      }),
    );
    const plainStart = performance.now();
    const plain = spawnSync(process.execPath, [MAIN, "bisect", jobFile, "--work-dir", join(dir, "plain"), "--quiet"], { cwd: dir, encoding: "utf8" });
    const plainMs = performance.now() - plainStart;
    const plainCulprit = (JSON.parse(readFileSync(join(dir, "plain", "result.json"), "utf8")) as { culprit?: { hash: string } }).culprit?.hash;
    if (plain.status !== 0 && plain.status !== 1) throw new Error(`uninterrupted bisection failed: ${plain.stderr}`);

    const chaosStart = performance.now();
    const report = await chaosBisection({ repoDir: history.dir, jobFile, workDir: join(dir, "chaos"), kills: KILLS, seed: SEED, maxEvents: 4, maxDelayMs: 300 });
    const chaosMs = performance.now() - chaosStart;
    const secondLines = report.secondResume.stderr.trim().split("\n");
    const checks: [string, boolean, string][] = [
      ["same culprit as uninterrupted", report.culprit === plainCulprit, `${report.culprit} vs ${plainCulprit} (planted ${history.culprit})`],
      [`killed ${KILLS} times`, report.kills === KILLS, `${report.kills} kills before it finished`],
      ["no build repeated", report.repeatedBuilds.length === 0, report.repeatedBuilds.join(" ")],
      ["no run index reused", report.reusedRunIndices.length === 0, report.reusedRunIndices.join(" ")],
      ["no child process left", report.leftProcesses.length === 0, report.leftProcesses.join("; ")],
      ["no worktree left", report.leftWorktrees.length === 0, report.leftWorktrees.join("; ")],
      ["second concurrent resume exits 2 with one line", report.secondResume.code === 2 && secondLines.length === 1, `${report.secondResume.code}: ${report.secondResume.stderr.trim()}`],
    ];
    console.log(`bench:chaos — demo history (${history.main.length} main-line commits), ${KILLS} SIGKILLs at random moments (seed ${SEED})`);
    console.log(`uninterrupted: ${plainCulprit ?? "no culprit"} in ${(plainMs / 1000).toFixed(1)}s; killed and resumed: ${report.culprit ?? "no culprit"} in ${(chaosMs / 1000).toFixed(1)}s`);
    for (const [name, ok, detail] of checks) console.log(`${ok ? "ok  " : "FAIL"} ${name}${ok ? "" : `: ${detail}`}`);
    console.log(`second resume said: ${report.secondResume.stderr.trim()}`);
    if (checks.some(([, ok]) => !ok)) process.exitCode = 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
