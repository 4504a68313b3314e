import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecResult } from "../run/exec.js";
import { CommandBuilder, transientFailure } from "./command.js";

const exited = (code: number | null, signal: NodeJS.Signals | null = null, extra: Partial<{ timedOut: boolean; aborted: boolean }> = {}): ExecResult => ({
  kind: "exited",
  code,
  signal,
  timedOut: extra.timedOut ?? false,
  aborted: extra.aborted ?? false,
  durationMs: 1,
});

describe("transient build failures (retried, never cached)", () => {
  const cases: [string, ExecResult, string, string | undefined][] = [
    ["a compile error", exited(2), "foo.c:3: error: expected ';'", undefined],
    ["success", exited(0), "", undefined],
    ["timed out", exited(null, "SIGKILL", { timedOut: true }), "", "timed out"],
    ["interrupted by the user (not the build's fault, not a result either)", exited(null, "SIGKILL", { aborted: true }), "", undefined],
    ["killed by a signal", exited(null, "SIGKILL"), "", "killed by SIGKILL"],
    ["a shell reporting its child's death", exited(137), "", "killed by signal 9"],
    ["the OOM killer took cc1", exited(2), "gcc: fatal error: Killed signal terminated program cc1\ncompilation terminated.", "killed (Killed signal terminated program cc1; out of memory?)"],
    ["make's view of a killed compiler", exited(2), "make[2]: *** [scripts/Makefile.build:243: mm/slub.o] Error 137", "killed (Error 137; out of memory?)"],
    ["cannot start", { kind: "spawn-error", code: "ENOENT", message: "no such file" }, "", undefined],
  ];
  for (const [name, exit, log, want] of cases) it(name, () => assert.equal(transientFailure(exit, log), want));

  it("a build command killed by a signal comes back transient", async () => {
    const dir = mkdtempSync(join(tmpdir(), "culprit-transient-"));
    try {
      const builder = new CommandBuilder({ command: ["sh", "-c", "kill -9 $$"], artifacts: [], compiler: "cc", timeoutMs: 10_000 });
      const result = await builder.build({ commit: "c", worktree: dir, remedies: [], artifactsDir: dir, logFile: join(dir, "log"), signal: new AbortController().signal });
      assert.equal(result.kind === "failed" ? result.transient : "built", "killed by SIGKILL");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
