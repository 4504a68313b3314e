// Clean exits: errors and kills leave no checkout deleted under a running build, and no
// process group running after the process that started it died.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Builder, BuildRequest } from "../build/builder.js";
import type { Strategy } from "../core/strategy.js";
import { journalGroupsIn, processStartTime } from "../run/exec.js";
import { runBisection } from "./orchestrator.js";
import { scratchHistory, scratchSpec, simpleHistory } from "./testkit.js";

describe("cleanup", () => {
  it("a build that throws in a parallel step does not delete its sibling's worktree", async () => {
    const s = await scratchHistory(simpleHistory(6, { commentOnlyEvery: 0 }));
    try {
      const [a, b] = [s.history.main[3] as string, s.history.main[4] as string];
      let failedA!: () => void;
      const aFailed = new Promise<void>((resolve) => (failedA = resolve));
      let siblingTreeAtEnd: boolean | undefined;
      const builder: Builder = {
        toolchain: async () => "cc 1",
        configHash: () => "h",
        build: async (request: BuildRequest) => {
          if (request.commit === a) {
            failedA();
            throw new Error("builder bug");
          }
          await aFailed;
          // Let the rejection of the other build travel as far as it would.
          await new Promise((resolve) => setImmediate(resolve));
          siblingTreeAtEnd = existsSync(join(request.worktree, "Makefile"));
          return { kind: "ok", signature: "s", durationMs: 1 };
        },
      };
      const strategy: Strategy = {
        name: "two-at-once",
        next: () => ({ kind: "test", tests: [a, b].map((commit) => ({ commit, runs: 0, remedies: [] })), notes: [] }),
      };
      const spec = scratchSpec(s, 2);
      const runner = { run: async () => [] };
      await assert.rejects(
        runBisection(spec, { builder, runner, strategy, parse: () => null, sameCrash: () => true, signatureLabel: "build" }, { signal: new AbortController().signal }),
        /builder bug/,
      );
      assert.equal(siblingTreeAtEnd, true);
      assert.equal(existsSync(join(spec.workDir, "worktrees")), false, "worktrees removed once both were done");
    } finally {
      await s.cleanup();
    }
  });

  it("the next start ends the process groups a dead culprit left running", { timeout: 30_000 }, async () => {
    const s = await scratchHistory(simpleHistory(2, { commentOnlyEvery: 0 }));
    try {
      const journal = join(s.dir, "groups");
      mkdirSync(journal);
      const orphan = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
      const pgid = orphan.pid as number;
      const exited = new Promise((resolve) => orphan.once("exit", (code) => resolve(code)));
      const deadOwner = spawnSync(process.execPath, ["-e", ""]).pid;
      writeFileSync(join(journal, `${pgid}.json`), JSON.stringify({ pgid, owner: deadOwner, leaderStarted: processStartTime(pgid) }));
      // A group of a live owner (this process, another start) is not touched.
      const mine = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
      writeFileSync(join(journal, `${mine.pid}.json`), JSON.stringify({ pgid: mine.pid, owner: process.pid, ownerStarted: processStartTime(process.pid) }));
      const stop = journalGroupsIn(journal);
      stop();
      // Killed: it exits now instead of in a minute (the test's timeout would catch it staying).
      assert.equal(await exited, null);
      assert.doesNotThrow(() => process.kill(mine.pid as number, 0), "a live owner's group stays");
      assert.equal(existsSync(join(journal, `${pgid}.json`)), false);
      process.kill(-(mine.pid as number), "SIGKILL");
    } finally {
      await s.cleanup();
    }
  });
});
