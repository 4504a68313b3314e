import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { UserError } from "../core/errors.js";
import { LOCK_FILE, lockWorkDir } from "./lock.js";

function withDir(body: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "culprit-lock-"));
  return Promise.resolve(body(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

describe("work dir lock", () => {
  it("a second taker is told who holds it, in one line; after release it can take it", () =>
    withDir((dir) => {
      const first = lockWorkDir(dir, new Date("2026-01-02T03:04:05Z"));
      assert.throws(
        () => lockWorkDir(dir),
        (err: unknown) =>
          err instanceof UserError &&
          err.exitCode === 2 &&
          err.message === `work dir ${dir} is in use by pid ${process.pid} on ${hostname()} since 2026-01-02T03:04:05.000Z`,
      );
      first.release();
      assert.equal(existsSync(join(dir, LOCK_FILE)), false);
      lockWorkDir(dir).release();
    }));

  it("takes over the lock of a process that died without releasing it", () =>
    withDir(async (dir) => {
      const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
      const pid = child.pid as number;
      await new Promise((resolve) => child.once("exit", resolve));
      writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid, host: hostname(), since: "2026-01-01T00:00:00.000Z" }));
      const lock = lockWorkDir(dir);
      assert.equal(lock.holder.pid, process.pid);
      lock.release();
    }));

  it("a garbled lock file (not whole JSON) counts as stale", () =>
    withDir((dir) => {
      writeFileSync(join(dir, LOCK_FILE), '{"pid":');
      lockWorkDir(dir).release();
    }));

  it("a lock held on another host is respected (its process cannot be checked from here)", () =>
    withDir((dir) => {
      writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: "elsewhere.example", since: "2026-01-01T00:00:00.000Z" }));
      assert.throws(() => lockWorkDir(dir), /in use by pid 1 on elsewhere\.example/);
    }));
});
