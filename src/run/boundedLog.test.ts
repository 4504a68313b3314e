import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { closeSync, openSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BoundedLog } from "./boundedLog.js";
import { execLogged } from "./exec.js";

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "culprit-log-"));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("bounded run logs", () => {
  it("a reproducer printing 20 MB leaves its head and tail, with a line saying how much was cut", () =>
    withDir(async (dir) => {
      const file = join(dir, "run-0.log");
      const script = "echo 'BUG: first report'; yes spinning | head -c 20000000; echo; echo 'last report: KASAN' >&2";
      const exit = await execLogged(["sh", "-c", script], { cwd: dir, timeoutMs: 60_000, logFile: file, outputLimit: 1_000_000 });
      assert.equal(exit.kind === "exited" && exit.code, 0);
      const { size } = await stat(file);
      assert.ok(size < 1_001_000, `kept ${size} bytes`);
      const text = await readFile(file, "utf8");
      assert.ok(text.startsWith("BUG: first report\n"));
      assert.ok(text.endsWith("last report: KASAN\n"));
      assert.match(text, /\n… culprit kept the first and last 500000 bytes: \d+ bytes cut here …\n/);
    }));

  it("leaves a small console whole, stdout and stderr both", () =>
    withDir(async (dir) => {
      const file = join(dir, "run-0.log");
      await execLogged(["sh", "-c", "echo OK; echo warn >&2"], { cwd: dir, timeoutMs: 60_000, logFile: file, outputLimit: 1000 });
      assert.deepEqual((await readFile(file, "utf8")).split("\n").sort(), ["", "OK", "warn"]);
    }));

  it("keeps exactly the last bytes across many small chunks", () =>
    withDir(async (dir) => {
      const file = join(dir, "log");
      const fd = openSync(file, "w");
      const log = new BoundedLog(fd, 20);
      for (let i = 0; i < 100; i++) log.write(Buffer.from(String(i % 10)));
      log.finish();
      closeSync(fd);
      const text = await readFile(file, "utf8");
      assert.equal(text, "0123456789\n… culprit kept the first and last 10 bytes: 80 bytes cut here …\n0123456789");
    }));
});
