// A crash named only by its title (`crash:`) through a whole bisection of a generated repository:
// the job types the target from its title, so the strategy may lift a crash that masks it before
// any run has shown it, and never with the remedy that would remove the target itself.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Builder } from "../build/builder.js";
import { prepareJob } from "./job.js";
import { runBisection } from "./orchestrator.js";
import { demoJob, scratchHistory, simpleHistory } from "./testkit.js";

// A kernel-style console, as a program that drives a VM would print it.
const LOCKDEP_REPORT = `[   36.345030] ======================================================
[   36.351334] WARNING: possible circular locking dependency detected
[   36.357637] 6.1.0 #1 Not tainted
[   36.361324] ------------------------------------------------------
[   36.361330] demo/5807 is trying to acquire lock:
[   36.361332] ffff888012345678 (&foo->lock){+.+.}-{3:3}, at: foo_lock+0x1d9/0x3210
[   36.361358]
[   36.361358] but task is already holding lock:
[   36.361360] ffff888012345000 (&bar->mutex){+.+.}-{3:3}, at: bar_enter+0x17/0x20
[   36.361378]
[   36.361380] stack backtrace:
[   36.361381] Call Trace:
[   36.361382]  <TASK>
[   36.361383]  dump_stack_lvl+0x1/0x2
[   36.361384]  lock_acquire+0x1/0x2
[   36.361385]  foo_lock+0x1/0x2
[   36.361386]  foo_ioctl+0x1/0x2
[   36.361387]  do_syscall_64+0x1/0x2
[   36.361388]  </TASK>
`;

const WARNING_REPORT = `[   12.100000] ------------[ cut here ]------------
[   12.100001] WARNING: CPU: 0 PID: 1 at drivers/demo/bar.c:42 bar_check+0x10/0x20
[   12.100002] Modules linked in:
[   12.100003] RIP: 0010:bar_check+0x10/0x20
[   12.100004] Call Trace:
[   12.100005]  <TASK>
[   12.100006]  bar_enter+0x1/0x2
[   12.100007]  do_syscall_64+0x1/0x2
[   12.100008]  </TASK>
[   12.100009] ---[ end trace 0000000000000000 ]---
`;

// Every commit prints the WARNING first unless built with disable:WARNING; where the planted bug
// is (the demo segfaults) the target is a lockdep report, which disable:LOCKDEP would remove.
const REPRODUCER = `if ! grep -qx disable:WARNING remedies; then cat "$REPORTS/warning.txt"; exit 0; fi
if ! ./demo >/dev/null 2>&1 && ! grep -qx disable:LOCKDEP remedies; then cat "$REPORTS/lockdep.txt"; fi
exit 0
`;

/** The job's own builder, leaving the remedies it was asked for beside the artifacts for the reproducer. */
function remedyAware(inner: Builder): Builder {
  return {
    toolchain: (commit) => inner.toolchain(commit),
    configHash: (remedies) => inner.configHash(remedies),
    build: async (request) => {
      const result = await inner.build(request);
      if (result.kind === "ok") await writeFile(join(request.artifactsDir, "remedies"), request.remedies.map((r) => `${r}\n`).join(""));
      return result;
    },
  };
}

describe("a target named only by its title, on a generated repository", () => {
  it("is typed from the title: another type's masking is lifted at once, the target's own type never", async () => {
    const scratch = await scratchHistory(simpleHistory(40, { culprit: 26, releases: { 2: "v1.0" } }));
    try {
      await writeFile(join(scratch.dir, "lockdep.txt"), LOCKDEP_REPORT);
      await writeFile(join(scratch.dir, "warning.txt"), WARNING_REPORT);
      await writeFile(join(scratch.dir, "repro.sh"), REPRODUCER);
      const job = demoJob(scratch, {
        crash: "possible deadlock in foo_lock",
        reproducer: { command: ["sh", join(scratch.dir, "repro.sh")], timeout: "20s", env: { REPORTS: scratch.dir } },
        runs: 2,
        startRuns: 2,
      });
      const prepared = await prepareJob(job, scratch.dir, join(scratch.dir, "work"));
      const deps = {
        ...prepared.deps,
        builder: remedyAware(prepared.deps.builder),
        remedies: [
          { name: "disable:LOCKDEP", removesTypes: ["LOCKDEP"] },
          { name: "disable:WARNING", removesTypes: ["WARNING"] },
        ],
      };
      const remediesTested = new Set<string>();
      const result = await runBisection(prepared.spec, deps, {
        signal: new AbortController().signal,
        onEvent: (event) => {
          if (event.type === "tests-started") remediesTested.add(event.remedies.join(","));
        },
      });
      assert.equal(result.outcome, "culprit", JSON.stringify(result.outcome));
      assert.equal(result.culprit?.hash, scratch.history.culprit);
      assert.ok(remediesTested.has("disable:WARNING"), `remedies tested: ${[...remediesTested].join(" | ")}`);
      assert.ok(![...remediesTested].some((r) => r.includes("disable:LOCKDEP")), `remedies tested: ${[...remediesTested].join(" | ")}`);
    } finally {
      await scratch.cleanup();
    }
  });
});
