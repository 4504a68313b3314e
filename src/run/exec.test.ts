import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
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
});
