// The short chaos run: a few SIGKILLs of the CLI mid-bisection, each followed by --resume.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { chaosBisection } from "./chaoskit.js";
import { demoJob, scratchHistory, simpleHistory } from "./testkit.js";

describe("chaos", () => {
  it("killed with SIGKILL and resumed three times: same culprit, nothing repeated or left behind", { timeout: 300_000 }, async () => {
    const s = await scratchHistory(simpleHistory(40, { culprit: 26, releases: { 4: "v1.0" } }));
    try {
      const jobFile = join(s.dir, "job.yaml");
      const { workDir: _unused, ...job } = demoJob(s);
      await writeFile(jobFile, JSON.stringify({ ...job, runs: 3, startRuns: 3, parallelism: { commits: 1, runs: 2 } }));
      const report = await chaosBisection({ repoDir: s.history.dir, jobFile, workDir: join(s.dir, "work"), kills: 3, seed: 7, maxEvents: 6, maxDelayMs: 0 });
      assert.equal(report.kills, 3);
      assert.equal(report.culprit, s.history.culprit);
      assert.deepEqual(report.repeatedBuilds, []);
      assert.deepEqual(report.reusedRunIndices, []);
      assert.deepEqual(report.leftProcesses, []);
      assert.deepEqual(report.leftWorktrees, []);
      assert.equal(report.secondResume.code, 2);
      assert.match(report.secondResume.stderr, /^culprit: work dir .* is in use by pid \d+ on \S+ since \S+ \(.*\)\n$/);
    } finally {
      await s.cleanup();
    }
  });
});
