import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { getPriority, tmpdir } from "node:os";
import { join } from "node:path";
import { execLogged } from "./exec.js";

describe("execLogged", () => {
  it("a program still open for writing is a spawn error (ETXTBSY, retried first), never a throw", async () => {
    const dir = mkdtempSync(join(tmpdir(), "culprit-exec-"));
    const program = join(dir, "prog");
    const fd = openSync(program, "w", 0o755);
    try {
      writeSync(fd, "#!/bin/sh\nexit 0\n");
      chmodSync(program, 0o755);
      const result = await execLogged([program], { cwd: dir, timeoutMs: 10_000, logFile: join(dir, "log") });
      assert.deepEqual(result.kind === "spawn-error" ? result.code : result, "ETXTBSY");
      closeSync(fd);
      const again = await execLogged([program], { cwd: dir, timeoutMs: 10_000, logFile: join(dir, "log") });
      assert.deepEqual(again.kind === "exited" ? again.code : again, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a command started at low priority runs, with what it starts, at nice 19", async () => {
    const dir = mkdtempSync(join(tmpdir(), "culprit-exec-"));
    const program = join(dir, "prog");
    try {
      // `nice` without arguments prints the niceness it was started with; it starts after the renice.
      writeFileSync(program, "#!/bin/sh\nsleep 0.2\nnice\n", { mode: 0o755 });
      const low = await execLogged([program], { cwd: dir, timeoutMs: 10_000, logFile: join(dir, "low"), lowPriority: true });
      assert.deepEqual(low.kind === "exited" ? low.code : low, 0);
      assert.equal(readFileSync(join(dir, "low"), "utf8").trim(), "19");
      await execLogged([program], { cwd: dir, timeoutMs: 10_000, logFile: join(dir, "usual") });
      assert.equal(readFileSync(join(dir, "usual"), "utf8").trim(), String(getPriority()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
