import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
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
      // `nice` without arguments prints the niceness it was started with; it starts after the
      // renice. Where the kernel groups CPU time by session (autogroup), the command's session is
      // reniced too: its line in /proc says so ("none" where there is no autogroup).
      writeFileSync(program, "#!/bin/sh\nsleep 0.2\nnice\nsed -n 's/.* nice //p' /proc/self/autogroup 2>/dev/null || echo none\n", { mode: 0o755 });
      const autogroup = existsSync("/proc/self/autogroup");
      const low = await execLogged([program], { cwd: dir, timeoutMs: 10_000, logFile: join(dir, "low"), lowPriority: true });
      assert.deepEqual(low.kind === "exited" ? low.code : low, 0);
      assert.deepEqual(readFileSync(join(dir, "low"), "utf8").trim().split("\n"), ["19", autogroup ? "19" : "none"]);
      await execLogged([program], { cwd: dir, timeoutMs: 10_000, logFile: join(dir, "usual") });
      assert.deepEqual(readFileSync(join(dir, "usual"), "utf8").trim().split("\n"), [String(getPriority()), autogroup ? "0" : "none"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
